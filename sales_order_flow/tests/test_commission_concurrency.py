import threading
from concurrent.futures import ThreadPoolExecutor

from odoo import SUPERUSER_ID, Command, api
from odoo.modules.registry import Registry
from odoo.tests.common import BaseCase, get_db_name, tagged
from odoo.tools import mute_logger


@tagged("post_install", "-at_install")
class TestCommissionConcurrency(BaseCase):
    """Two settlement runs at once: exactly one settles, the other changes
    nothing. Without a test transaction (BaseCase), the data is committed in
    its own cursor, both runs use their own cursors, and everything committed is
    deleted at the end.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.registry = Registry(get_db_name())
        with cls.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            agent = env["res.partner"].create(
                {
                    "name": "Concurrent Agent",
                    "flow_is_commission_agent": True,
                    "flow_agent_type": "internal",
                }
            )
            lines = env["sale.flow.commission.line"].create(
                [
                    {
                        "agent_id": agent.id,
                        "company_id": env.company.id,
                        "date": "2024-03-10",
                        "base": 100.0,
                        "rate": 10.0,
                        "amount": 10.0,
                    }
                    for _i in range(20)
                ]
            )
            cls.agent_id, cls.line_ids = agent.id, lines.ids
        cls.addClassCleanup(cls._cleanup)

    @classmethod
    def _cleanup(cls):
        with cls.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            lines = env["sale.flow.commission.line"].search(
                [("agent_id", "=", cls.agent_id)]
            )
            settlements = lines.settlement_id
            lines.unlink()
            settlements.unlink()
            env["res.partner"].browse(cls.agent_id).unlink()

    def _read(self, function):
        with self.registry.cursor() as cr:
            return function(api.Environment(cr, SUPERUSER_ID, {}))

    @mute_logger("odoo.sql_db")
    def test_two_runs_at_once_settle_once(self):
        Line = self.registry["sale.flow.commission.line"]
        original = Line._flow_mark_settled
        barrier = threading.Barrier(2, timeout=10)

        def racing_mark_settled(lines, settlement):
            # both runs have read the same unsettled lines: update together
            barrier.wait()
            return original(lines, settlement)

        def run():
            with self.registry.cursor() as cr:
                # the test runner's thread holds Registry._lock: give the
                # cursor its transaction so Environment need not look it up
                cr.transaction = api.Transaction(self.registry)
                env = api.Environment(cr, SUPERUSER_ID, {})
                try:
                    wizard = env["sale.flow.commission.settle"].create(
                        {
                            "period_type": "month",
                            "period_date": "2024-03-31",
                            "agent_ids": [Command.set([self.agent_id])],
                            "create_bills": False,
                        }
                    )
                    settlements = wizard._flow_settle()
                    # its own cursor: the other thread must see the result
                    cr.commit()  # pylint: disable=invalid-commit
                    return ("ok", settlements.ids)
                except Exception as error:  # noqa: BLE001 - the losing run
                    cr.rollback()
                    return ("failed", repr(error))

        self.patch(Line, "_flow_mark_settled", racing_mark_settled)
        with ThreadPoolExecutor(max_workers=2) as executor:
            futures = [executor.submit(run) for _i in range(2)]
            outcomes = [future.result(timeout=30) for future in futures]

        succeeded = [ids for status, ids in outcomes if status == "ok"]
        self.assertEqual(len(succeeded), 1, outcomes)
        self.assertEqual(len(succeeded[0]), 1)

        def check(env):
            lines = env["sale.flow.commission.line"].browse(self.line_ids)
            settlements = env["sale.flow.commission.settlement"].search(
                [("agent_id", "=", self.agent_id)]
            )
            return set(lines.mapped("state")), lines.settlement_id.ids, settlements.ids

        states, settled_by, settlements = self._read(check)
        self.assertEqual(states, {"settled"})
        self.assertEqual(settled_by, succeeded[0])
        self.assertEqual(settlements, succeeded[0], "the losing run left nothing")
