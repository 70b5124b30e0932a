from odoo import Command, fields
from odoo.exceptions import UserError
from odoo.tests import tagged

from .commission_common import SaleFlowCommissionCommon


@tagged("post_install", "-at_install")
class TestCommissionVisibility(SaleFlowCommissionCommon):
    """Who sees all commissions (issue 11, point 11) and what a settlement and
    a target show (point 12)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.own_plan = cls._make_plan([{"rate": 5.0}], name="Own Five")
        cls.salesman.partner_id.write(
            {
                "flow_is_commission_agent": True,
                "flow_agent_type": "internal",
                "flow_commission_plan_id": cls.own_plan.id,
            }
        )
        # the customer pays Agent Alpha (external, 10 %) and the salesperson
        cls.customer.flow_commission_assignment_ids = [
            Command.create({"agent_id": cls.salesman.partner_id.id})
        ]
        # a salesperson (own documents only) who also has Invoicing rights,
        # as salespeople often have
        cls.salesman.groups_id += cls.env.ref("account.group_account_invoice")
        cls.billing_admin = cls.env["res.users"].create(
            {
                "name": "Bea Billing Admin",
                "login": "flow_billing_admin",
                "groups_id": [
                    Command.set(
                        [
                            cls.env.ref("account.group_account_manager").id,
                            cls.env.ref("sales_team.group_sale_salesman").id,
                        ]
                    )
                ],
            }
        )
        cls.invoice = cls._invoice([(cls.product, 2, 100.0)])
        cls.settlements = cls._settle(agents=cls.agent | cls.salesman.partner_id)

    def _visible(self, user, model):
        return self.env[model].with_user(user).search([]).agent_id

    def test_salesperson_with_invoicing_rights_sees_only_own(self):
        own = self.salesman.partner_id
        for model in (
            "sale.flow.commission.line",
            "sale.flow.commission.settlement",
        ):
            self.assertEqual(self._visible(self.salesman, model), own, model)

    def test_managers_and_accountants_see_all(self):
        every = self.agent | self.salesman.partner_id
        for user in (self.manager, self.accountant, self.billing_admin):
            for model in (
                "sale.flow.commission.line",
                "sale.flow.commission.settlement",
            ):
                self.assertEqual(
                    self._visible(user, model) & every, every, (user.name, model)
                )

    def test_salesperson_with_invoicing_rights_does_not_settle(self):
        self._invoice([(self.product, 1, 100.0)], date="2024-02-10")
        wizard = (
            self.env["sale.flow.commission.settle"]
            .with_user(self.salesman)
            .create({"period_type": "month", "period_date": "2024-02-29"})
        )
        with self.assertRaises(UserError) as caught:
            wizard.action_settle()
        self.assertIn("see every agent", str(caught.exception))
        self.assertFalse(
            self.env["sale.flow.commission.settlement"].search(
                [("date_from", "=", "2024-02-01")]
            )
        )
        # a Billing Administrator who also sells settles the whole period
        wizard = (
            self.env["sale.flow.commission.settle"]
            .with_user(self.billing_admin)
            .create({"period_type": "month", "period_date": "2024-02-29"})
        )
        action = wizard.action_settle()
        settled = self.env["sale.flow.commission.settlement"].search(action["domain"])
        self.assertEqual(settled.agent_id, self.agent | self.salesman.partner_id)

    def test_settlement_status_follows_the_bill(self):
        external = self.settlements.filtered(lambda s: s.agent_id == self.agent)
        internal = self.settlements - external
        self.assertEqual(external.bill_status, "settled")
        external.action_create_bill()
        self.assertEqual(external.state, "invoiced")
        self.assertEqual(external.bill_status, "bill_draft")
        bill = external.invoice_id
        bill.action_post()
        self.assertEqual(external.bill_status, "billed")
        self._pay(bill, bill.amount_total)
        self.assertEqual(external.bill_status, "paid")
        # the agent's salesperson reads no bill but the status of their own
        self.assertEqual(internal.with_user(self.salesman).bill_status, "settled")

    def test_target_name_and_attainment(self):
        target = (
            self.env["sale.flow.commission.target"]
            .with_user(self.manager)
            .create(
                {
                    "agent_id": self.agent.id,
                    "date_from": fields.Date.to_date("2024-01-01"),
                    "date_to": fields.Date.to_date("2024-01-31"),
                    "target_amount": 150.0,
                }
            )
        )
        self.assertIn("Agent Alpha", target.display_name)
        self.assertNotIn("sale.flow.commission.target", target.display_name)
        self.assertAlmostEqual(target.attainment, 200.0 / 150.0 * 100.0)
        arch = self.env.ref(
            "sales_order_flow.sale_flow_commission_target_view_list"
        ).arch
        # past 100 % the bar is full and coloured, not Odoo's grey overflow
        self.assertIn("overflow_class", arch)
