import threading

import psycopg2.errors

from odoo import SUPERUSER_ID, api
from odoo.exceptions import UserError
from odoo.tests import TransactionCase

# What the transaction losing a race gets; Odoo retries these in HTTP requests
# and scheduled actions.
CONFLICTS = (
    psycopg2.errors.LockNotAvailable,
    psycopg2.errors.SerializationFailure,
    psycopg2.errors.DeadlockDetected,
)


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
        results = []

        def run(subject):
            cr = subject.env.cr if hasattr(subject, "env") else subject.cr
            try:
                barrier.wait(timeout=30)
                try:
                    step(subject)
                    cr.commit()  # pylint: disable=invalid-commit
                    results.append("done")
                except CONFLICTS:
                    cr.rollback()
                    results.append("conflict")
                except UserError:
                    cr.rollback()
                    results.append("refused")
            except Exception as error:  # noqa: BLE001 - reported by the test
                results.append(repr(error))

        threads = [
            threading.Thread(target=run, args=(subject,)) for subject in subjects
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        return results
