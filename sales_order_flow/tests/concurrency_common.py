import psycopg2.errors

from odoo import SUPERUSER_ID, api
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

    def _race_step(self, env):
        """What each of the racing transactions does (see _run_in_thread)."""
        raise NotImplementedError

    def _run_in_thread(self, env, barrier, results):
        """Thread body: wait for the other one, run ``_race_step`` and commit;
        append "done", "conflict" or the unexpected error to ``results``."""
        cr = env.cr
        try:
            barrier.wait(timeout=30)
            try:
                self._race_step(env)
                cr.commit()  # pylint: disable=invalid-commit
                results.append("done")
            except CONFLICTS:
                cr.rollback()
                results.append("conflict")
        except Exception as error:  # noqa: BLE001 - reported by the test
            results.append(repr(error))
