from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .commission_common import SaleFlowCommissionCommon


@tagged("post_install", "-at_install")
class TestCommissionSettlement(SaleFlowCommissionCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer_b = cls.env["res.partner"].create(
            {
                "name": "Customer B",
                "flow_commission_assignment_ids": [
                    Command.create({"agent_id": cls.agent_b.id, "plan_id": cls.plan.id})
                ],
            }
        )

    def test_one_settlement_per_agent_and_never_twice(self):
        self._invoice([(self.product, 2, 100.0)])
        self._invoice([(self.product, 1, 100.0)], date="2024-01-25")
        self._invoice([(self.product, 5, 100.0)], partner=self.customer_b)
        # February: not in January's settlement
        later = self._invoice([(self.product, 1, 100.0)], date="2024-02-03")
        settlements = self._settle(agents=self.agent | self.agent_b)
        self.assertRecordValues(
            settlements.sorted("amount_total"),
            [
                {"agent_id": self.agent.id, "amount_total": 30.0, "line_count": 2},
                {"agent_id": self.agent_b.id, "amount_total": 50.0, "line_count": 1},
            ],
        )
        self.assertEqual(settlements[0].date_from.isoformat(), "2024-01-01")
        self.assertEqual(settlements[0].date_to.isoformat(), "2024-01-31")
        self.assertEqual(self._commissions(later).state, "to_settle")
        # running it again changes nothing
        self.assertFalse(self._settle(agents=self.agent | self.agent_b))
        self.assertEqual(
            self.env["sale.flow.commission.line"].search_count(
                [("settlement_id", "in", settlements.ids)]
            ),
            3,
        )

    def test_taken_lines_are_not_taken_again(self):
        self._invoice([(self.product, 2, 100.0)])
        lines = self.env["sale.flow.commission.line"].search(
            [("agent_id", "=", self.agent.id)]
        )
        settlement = self._settle()
        # the conditional update takes nothing already settled
        other = self.env["sale.flow.commission.settlement"].create(
            {
                "agent_id": self.agent.id,
                "period_type": "month",
                "date_from": "2024-01-01",
                "date_to": "2024-01-31",
            }
        )
        self.assertEqual(lines._flow_mark_settled(other), 0)
        self.assertEqual(lines.settlement_id, settlement)

    def test_settlement_stops_when_another_run_took_lines(self):
        self._invoice([(self.product, 2, 100.0)])
        wizard = (
            self.env["sale.flow.commission.settle"]
            .with_user(self.accountant)
            .create(
                {
                    "period_type": "month",
                    "period_date": "2024-01-31",
                    "agent_ids": [Command.set(self.agent.ids)],
                    "create_bills": False,
                }
            )
        )
        Line = self.env.registry["sale.flow.commission.line"]
        original = Line._flow_mark_settled

        def other_run_first(lines, settlement):
            # another transaction settles the lines between search and update
            self.env.cr.execute(
                "UPDATE sale_flow_commission_line SET state = 'cancelled' "
                "WHERE id = ANY(%s)",
                [lines.ids],
            )
            return original(lines, settlement)

        Settlement = self.env["sale.flow.commission.settlement"]
        before = Settlement.search_count([])
        self.patch(Line, "_flow_mark_settled", other_run_first)
        with self.assertRaises(UserError) as caught:
            wizard.action_settle()
        self.assertIn("settled meanwhile", str(caught.exception))
        self.assertEqual(Settlement.search_count([]), before)

    def test_vendor_bill_of_external_agent(self):
        self._invoice([(self.product, 3, 100.0)])
        self._invoice([(self.product, 1, 100.0)], move_type="out_refund")
        settlement = self._settle(create_bills=True)
        bill = settlement.invoice_id
        self.assertEqual(settlement.state, "invoiced")
        self.assertRecordValues(
            bill,
            [
                {
                    "move_type": "in_invoice",
                    "partner_id": self.agent.id,
                    "journal_id": self.purchase_journal.id,
                    "amount_total": 20.0,
                    "amount_untaxed": 20.0,
                    "ref": settlement.name,
                }
            ],
        )
        self.assertEqual(
            bill.invoice_line_ids.product_id,
            self.env.ref("sales_order_flow.product_sale_flow_commission"),
        )

    def test_negative_settlement_makes_a_vendor_refund(self):
        self._invoice([(self.product, 1, 100.0)], move_type="out_refund")
        settlement = self._settle(create_bills=True)
        self.assertRecordValues(
            settlement.invoice_id, [{"move_type": "in_refund", "amount_total": 10.0}]
        )

    def test_salesperson_settlement_has_no_bill(self):
        self.agent.flow_agent_type = "internal"
        self._invoice([(self.product, 1, 100.0)])
        settlement = self._settle(create_bills=True)
        self.assertRecordValues(
            settlement,
            [{"state": "settled", "invoice_id": False, "amount_total": 10.0}],
        )

    def test_cancelling_the_bill_frees_the_settlement(self):
        self._invoice([(self.product, 2, 100.0)])
        settlement = self._settle(create_bills=True)
        lines = settlement.line_ids
        bill = settlement.invoice_id
        bill.action_post()
        with self.assertRaises(UserError):
            settlement.action_cancel()
        bill.button_cancel()
        self.assertEqual(settlement.state, "cancel")
        self.assertRecordValues(lines, [{"state": "to_settle", "settlement_id": False}])
        again = self._settle(create_bills=True)
        self.assertEqual(again.line_ids, lines)
        self.assertEqual(again.invoice_id.amount_total, 20.0)

    def test_draft_bill_cannot_be_deleted(self):
        self._invoice([(self.product, 2, 100.0)])
        settlement = self._settle(create_bills=True)
        with self.assertRaises(UserError):
            settlement.invoice_id.unlink()

    def test_statement_report(self):
        self._invoice([(self.product, 2, 100.0)])
        settlement = self._settle()
        html = (
            self.env["ir.actions.report"]
            .with_user(self.accountant)
            ._render_qweb_html(
                "sales_order_flow.action_report_sale_flow_commission_statement",
                settlement.ids,
            )[0]
            .decode()
        )
        self.assertIn(settlement.name, html)
        self.assertIn("Commission Statement", html)


@tagged("post_install", "-at_install")
class TestCommissionAccess(SaleFlowCommissionCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        own_plan = cls._make_plan([{"rate": 5.0}])
        for user in (cls.salesman, cls.salesman_2):
            user.partner_id.write(
                {
                    "flow_is_commission_agent": True,
                    "flow_agent_type": "internal",
                    "flow_commission_plan_id": own_plan.id,
                }
            )
        other = cls.env["res.partner"].create({"name": "Walk-in"})
        cls.invoice_a = cls._invoice([(cls.product, 1, 100.0)], partner=other)
        cls.invoice_b = cls._invoice(
            [(cls.product, 2, 100.0)], partner=other, user=cls.salesman_2
        )
        cls.line_a = cls._commissions(cls.invoice_a)
        cls.line_b = cls._commissions(cls.invoice_b)

    def test_salesperson_reads_only_own_lines(self):
        self.assertEqual(self.line_a.agent_id, self.salesman.partner_id)
        Line = self.env["sale.flow.commission.line"].with_user(self.salesman)
        self.assertEqual(Line.search([]), self.line_a)
        with self.assertRaises(AccessError):
            self.line_b.with_user(self.salesman).read(["amount"])
        with self.assertRaises(AccessError):
            self.line_a.with_user(self.salesman).unlink()

    def test_smart_buttons_count_what_the_user_may_read(self):
        self.assertEqual(
            self.invoice_a.with_user(self.salesman).flow_commission_line_count, 1
        )
        Partner = self.env["res.partner"].with_user(self.salesman)
        own, other = (
            Partner.browse(self.salesman.partner_id.id),
            Partner.browse(self.salesman_2.partner_id.id),
        )
        self.assertEqual(own.flow_commission_line_count, 1)
        self.assertEqual(other.flow_commission_line_count, 0)
        self.assertEqual(other.with_user(self.manager).flow_commission_line_count, 1)
        action = self.invoice_b.action_flow_view_commission_lines()
        self.assertEqual(
            self.env["sale.flow.commission.line"].search(action["domain"]),
            self.line_b,
        )
        action = own.action_flow_view_commission_lines()
        self.assertEqual(
            self.env["sale.flow.commission.line"].search(action["domain"]),
            self.line_a,
        )

    def test_salesperson_reads_only_own_settlements(self):
        settlements = self._settle(
            agents=self.salesman.partner_id | self.salesman_2.partner_id
        )
        self.assertEqual(len(settlements), 2)
        Settlement = self.env["sale.flow.commission.settlement"]
        self.assertEqual(
            Settlement.with_user(self.salesman).search([]).agent_id,
            self.salesman.partner_id,
        )
        with self.assertRaises(AccessError):
            settlements.with_user(self.salesman).read(["amount_total"])

    def test_salesperson_cannot_settle_or_edit_plans(self):
        with self.assertRaises(AccessError):
            self.env["sale.flow.commission.settle"].with_user(self.salesman).create(
                {"period_type": "month", "period_date": "2024-01-31"}
            )
        with self.assertRaises(AccessError):
            self.plan.with_user(self.salesman).write({"name": "Mine"})

    def test_manager_and_accountant_read_all(self):
        for user in (self.manager, self.accountant):
            lines = (
                self.env["sale.flow.commission.line"]
                .with_user(user)
                .search([("id", "in", (self.line_a | self.line_b).ids)])
            )
            self.assertEqual(lines, self.line_a | self.line_b)

    def test_quotation_commission_for_salesperson(self):
        order = self._create_order(
            partner=self.env["res.partner"].create({"name": "Prospect"}), qty=2
        )
        self.assertEqual(order.with_user(self.salesman).flow_commission_amount, 10.0)
