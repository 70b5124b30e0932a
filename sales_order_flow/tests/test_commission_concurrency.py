import threading

from psycopg2.errors import LockNotAvailable, SerializationFailure

from odoo import SUPERUSER_ID, Command, api
from odoo.modules.registry import Registry
from odoo.tests.common import BaseCase, get_db_name, tagged
from odoo.tools import mute_logger

from ..utils import lock_keys_for_retry
from .concurrency_common import run_together


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
            # the runs are the accountant's, who settles commissions
            accountant = env["res.users"].create(
                {
                    "name": "Concurrent Accountant",
                    "login": "flow_concurrent_accountant",
                    "groups_id": [
                        Command.set([env.ref("account.group_account_invoice").id])
                    ],
                }
            )
            cls.accountant_id = accountant.id
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
            accountant = env["res.users"].browse(cls.accountant_id)
            partner = accountant.partner_id
            accountant.unlink()
            partner.unlink()

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
                env = api.Environment(cr, self.accountant_id, {})
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
        outcomes = run_together([run, run], timeout=30)

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


@tagged("post_install", "-at_install")
class TestCommissionTierConcurrency(BaseCase):
    """Two invoices of one agent recorded at once with a tiered rule: the
    second must start from the volume of the first, as if they came one after
    the other. Committed data, own cursors, deleted at the end (see above).
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.registry = Registry(get_db_name())
        with cls.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
            plan = env["sale.flow.commission.plan"].create(
                {
                    "name": "Concurrent Tiers",
                    "rule_ids": [
                        Command.create(
                            {
                                "rate_type": "tiers",
                                "tier_mode": "progressive",
                                "tier_ids": [
                                    Command.create(
                                        {"sequence": 1, "threshold": 0, "rate": 2}
                                    ),
                                    Command.create(
                                        {"sequence": 2, "threshold": 1000, "rate": 4}
                                    ),
                                ],
                            }
                        )
                    ],
                }
            )
            agent = env["res.partner"].create(
                {
                    "name": "Concurrent Tier Agent",
                    "flow_is_commission_agent": True,
                    "flow_agent_type": "external",
                    "flow_commission_plan_id": plan.id,
                }
            )
            customers = env["res.partner"].create(
                [{"name": f"Concurrent Tier Customer {n}"} for n in range(2)]
            )
            product = env["product.product"].create(
                {"name": "Concurrent Tier Service", "type": "service"}
            )
            # posted before the agent is assigned: no commission yet
            invoices = env["account.move"].create(
                [
                    {
                        "move_type": "out_invoice",
                        "partner_id": customer.id,
                        "invoice_date": "2024-05-10",
                        "invoice_line_ids": [
                            Command.create(
                                {
                                    "product_id": product.id,
                                    "quantity": 1.0,
                                    "price_unit": 800.0,
                                    "tax_ids": [Command.clear()],
                                }
                            )
                        ],
                    }
                    for customer in customers
                ]
            )
            invoices.action_post()
            env["sale.flow.commission.assignment"].create(
                [
                    {"partner_id": customer.id, "agent_id": agent.id}
                    for customer in customers
                ]
            )
            cls.record_ids = {
                "plan": plan.id,
                "agent": agent.id,
                "customers": customers.ids,
                "product": product.id,
                "invoices": invoices.ids,
            }
        cls.addClassCleanup(cls._cleanup)

    @classmethod
    def _cleanup(cls):
        with cls.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"force_delete": True})
            env["sale.flow.commission.line"].search(
                [("agent_id", "=", cls.record_ids["agent"])]
            ).unlink()
            invoices = env["account.move"].browse(cls.record_ids["invoices"])
            invoices.button_draft()
            invoices.unlink()
            env["res.partner"].browse(cls.record_ids["customers"]).unlink()
            env["res.partner"].browse(cls.record_ids["agent"]).unlink()
            env["product.product"].browse(cls.record_ids["product"]).unlink()
            env["sale.flow.commission.plan"].browse(cls.record_ids["plan"]).unlink()

    @mute_logger("odoo.sql_db")
    def test_second_invoice_starts_from_the_first_ones_volume(self):
        Plan = self.registry["sale.flow.commission.plan"]
        original = Plan._flow_get_agents
        barrier = threading.Barrier(2, timeout=10)
        calls = []
        retries = []

        def racing_get_agents(plan, infos):
            # both have read their invoices (their snapshots are taken) before
            # either records a commission; a retry does not wait again
            calls.append(1)
            if len(calls) <= 2:
                barrier.wait()
            return original(plan, infos)

        def record(invoice_id):
            with self.registry.cursor() as cr:
                # see TestCommissionConcurrency: the runner holds Registry._lock
                cr.transaction = api.Transaction(self.registry)
                env = api.Environment(cr, SUPERUSER_ID, {})
                # Odoo's own retry (odoo.service.model.retrying) would reset
                # the registry, which the runner holds: the same loop by hand
                for _attempt in range(5):
                    try:
                        env["account.move"].browse(
                            invoice_id
                        )._flow_commission_create_lines()
                        env.flush_all()
                        break
                    except SerializationFailure:
                        cr.rollback()
                        env.transaction.clear()
                        retries.append(invoice_id)
                cr.commit()  # pylint: disable=invalid-commit

        self.patch(Plan, "_flow_get_agents", racing_get_agents)
        run_together(
            [
                lambda invoice_id=invoice_id: record(invoice_id)
                for invoice_id in self.record_ids["invoices"]
            ],
            timeout=30,
        )

        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            amounts = (
                env["sale.flow.commission.line"]
                .search([("agent_id", "=", self.record_ids["agent"])])
                .mapped("amount")
            )
        # one after the other: 800 at 2 %, then 200 at 2 % and 600 at 4 %
        self.assertEqual(sorted(amounts), [16.0, 28.0])
        self.assertEqual(len(retries), 1, "the second one started again")

    @mute_logger("odoo.sql_db")
    def test_tier_lock_leaves_the_agent_free(self):
        """While an invoice's tiered commission is recorded (the agent's volume
        lock held), a plain write on the agent's partner is not blocked."""
        agent_id = self.record_ids["agent"]
        with self.registry.cursor() as cr_a, self.registry.cursor() as cr_b:
            env_a = api.Environment(cr_a, SUPERUSER_ID, {})
            invoice = env_a["account.move"].browse(self.record_ids["invoices"][0])
            invoice._flow_commission_create_lines()
            env_a.flush_all()
            cr_b.execute("SET LOCAL lock_timeout = '200ms'")
            with self.assertRaises(LockNotAvailable):
                lock_keys_for_retry(cr_b, "commission_volumes", [agent_id])
            cr_b.rollback()
            cr_b.execute("SET LOCAL lock_timeout = '200ms'")
            agent = api.Environment(cr_b, SUPERUSER_ID, {})["res.partner"].browse(
                agent_id
            )
            agent.phone = "+32 2 555 02 02"
            agent.flush_recordset()
            cr_b.rollback()
            cr_a.rollback()
