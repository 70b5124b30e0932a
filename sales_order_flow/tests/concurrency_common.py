import sys
import threading
import traceback

import psycopg2.errors

from odoo import SUPERUSER_ID, api
from odoo.exceptions import UserError
from odoo.tests import TransactionCase
from odoo.tools import SQL

# What the transaction losing a race gets; Odoo retries these in HTTP requests
# and scheduled actions.
CONFLICTS = (
    psycopg2.errors.LockNotAvailable,
    psycopg2.errors.SerializationFailure,
    psycopg2.errors.DeadlockDetected,
)


# how long a racing transaction may wait for a lock before it counts as lost:
# a wait never ends the test run
RACE_LOCK_TIMEOUT = "20s"


def run_together(calls, timeout=60):
    """Run each ``call()`` in its own thread and return what each returned, in
    order. The threads are daemons and joined for ``timeout`` seconds at most:
    one still running fails the test with its stack, and it cannot keep the
    test process from exiting (a non-daemon thread stuck in a lock would)."""
    results = [None] * len(calls)

    def run(index, call):
        results[index] = call()

    threads = [
        threading.Thread(target=run, args=(index, call), daemon=True)
        for index, call in enumerate(calls)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    stuck = [
        "".join(traceback.format_stack(sys._current_frames()[thread.ident]))
        for thread in threads
        if thread.is_alive()
    ]
    if stuck:
        raise AssertionError("threads still running:\n" + "\n".join(stuck))
    return results


class CommittedDataCase(TransactionCase):
    """Base of the tests that race two transactions: their data is committed
    by ``_commit_data()`` (another transaction cannot see uncommitted rows),
    kept in ``self.data`` and deleted by ``_delete_data()`` afterwards."""

    def setUp(self):
        super().setUp()
        self.data = self._commit_data()
        self.addCleanup(self._delete_data)

    def _commit_data(self):
        raise NotImplementedError

    def _delete_data(self):
        raise NotImplementedError

    def _env(self, cr, uid=SUPERUSER_ID):
        # the transaction is bound to the loaded registry directly: looking the
        # registry up by name waits for the registry lock, which the test
        # runner holds while post-install tests run
        cr.transaction = api.Transaction(self.registry)
        return api.Environment(cr, uid, {"tracking_disable": True})

    def _race(self, subjects, step):
        """Run ``step(subject)`` for each subject (a record or an environment,
        each on its own cursor) in threads that start together, each
        committing its transaction. Returns the outcomes: "done",
        "conflict" (the loser of a lock), "refused" (a UserError) or the
        unexpected error."""
        barrier = threading.Barrier(len(subjects))

        def run(subject):
            cr = subject.env.cr if hasattr(subject, "env") else subject.cr
            try:
                cr.execute(
                    SQL(
                        "SELECT set_config('lock_timeout', %s, true)", RACE_LOCK_TIMEOUT
                    )
                )
                barrier.wait(timeout=30)
                try:
                    step(subject)
                    cr.commit()  # pylint: disable=invalid-commit
                    return "done"
                except CONFLICTS:
                    cr.rollback()
                    return "conflict"
                except UserError:
                    cr.rollback()
                    return "refused"
            except Exception as error:  # noqa: BLE001 - reported by the test
                return repr(error)

        return run_together(
            [lambda subject=subject: run(subject) for subject in subjects]
        )
