from datetime import timedelta

from odoo import Command, fields
from odoo.exceptions import UserError, ValidationError
from odoo.tests import Form, tagged
from odoo.tools import mute_logger

from .commission_common import SaleFlowCommissionCommon


@tagged("post_install", "-at_install")
class TestCommission(SaleFlowCommissionCommon):
    # ------------------------------------------------------------------
    # Rate types
    # ------------------------------------------------------------------
    def test_percent_rate(self):
        invoice = self._invoice([(self.product, 2, 100.0)])
        self.assertRecordValues(
            self._commissions(invoice),
            [
                {
                    "agent_id": self.agent.id,
                    "plan_id": self.plan.id,
                    "rule_id": self.plan.rule_ids.id,
                    "partner_id": self.customer.id,
                    "product_id": self.product.id,
                    "base": 200.0,
                    "rate": 10.0,
                    "amount": 20.0,
                    "amount_payable": 20.0,
                    "state": "to_settle",
                    "date": fields.Date.to_date("2024-01-15"),
                }
            ],
        )

    def test_one_line_per_invoice_line_and_agent(self):
        self.customer.flow_commission_assignment_ids = [
            Command.create({"agent_id": self.agent_b.id})
        ]
        invoice = self._invoice([(self.product, 1, 100.0), (self.service, 2, 50.0)])
        lines = self._commissions(invoice)
        self.assertEqual(len(lines), 4)
        self.assertEqual(set(lines.agent_id.ids), {self.agent.id, self.agent_b.id})
        self.assertEqual(sum(lines.mapped("amount")), 40.0)

    def test_fixed_amount_per_unit(self):
        plan = self._make_plan([{"rate_type": "fixed", "fixed_amount": 3.0}])
        self.customer.flow_commission_assignment_ids.plan_id = plan
        invoice = self._invoice([(self.product, 4, 100.0)])
        self.assertRecordValues(
            self._commissions(invoice), [{"rate": 3.0, "amount": 12.0}]
        )

    def _tier_plan(self, mode):
        return self._make_plan(
            [
                {
                    "rate_type": "tiers",
                    "tier_mode": mode,
                    "tier_ids": [
                        Command.create({"sequence": 1, "threshold": 0.0, "rate": 2.0}),
                        Command.create(
                            {"sequence": 2, "threshold": 1000.0, "rate": 5.0}
                        ),
                    ],
                }
            ]
        )

    def test_tiers_stepped(self):
        self.customer.flow_commission_assignment_ids.plan_id = self._tier_plan(
            "stepped"
        )
        first = self._invoice([(self.product, 8, 100.0)])
        second = self._invoice([(self.product, 4, 100.0)], date="2024-01-20")
        # February starts a new period: back to the first tier
        third = self._invoice([(self.product, 4, 100.0)], date="2024-02-02")
        self.assertRecordValues(
            self._commissions(first | second | third),
            [
                {"base": 800.0, "rate": 2.0, "amount": 16.0},
                {"base": 400.0, "rate": 5.0, "amount": 20.0},
                {"base": 400.0, "rate": 2.0, "amount": 8.0},
            ],
        )

    def test_tiers_progressive(self):
        self.customer.flow_commission_assignment_ids.plan_id = self._tier_plan(
            "progressive"
        )
        first = self._invoice([(self.product, 8, 100.0)])
        # 200 of this invoice in the first tier, 200 in the second
        second = self._invoice([(self.product, 4, 100.0)])
        self.assertRecordValues(
            self._commissions(first | second),
            [
                {"base": 800.0, "rate": 2.0, "amount": 16.0},
                {"base": 400.0, "rate": 3.5, "amount": 14.0},
            ],
        )

    def test_margin_base(self):
        plan = self._make_plan([{"rate": 10.0}], base_type="margin")
        self.customer.flow_commission_assignment_ids.plan_id = plan
        # price 100, cost 60: margin 40 per unit
        invoice = self._invoice([(self.product, 2, 100.0)])
        self.assertRecordValues(
            self._commissions(invoice), [{"base": 80.0, "amount": 8.0}]
        )
        # sold by the dozen: the cost is of 12 units
        dozen = self._invoice([(self.product, 1, 1200.0)], post=False)
        dozen.invoice_line_ids.product_uom_id = self.env.ref("uom.product_uom_dozen")
        dozen.invoice_line_ids.price_unit = 1300.0
        dozen.action_post()
        self.assertRecordValues(
            self._commissions(dozen), [{"base": 580.0, "amount": 58.0}]
        )

    def test_reduced_rate_above_discount_threshold(self):
        plan = self._make_plan(
            [{"rate": 10.0, "discount_threshold": 10.0, "reduced_rate": 5.0}]
        )
        self.customer.flow_commission_assignment_ids.plan_id = plan
        invoice = self._invoice(
            [(self.product, 1, 100.0, 20.0), (self.product, 1, 100.0, 5.0)]
        )
        self.assertRecordValues(
            self._commissions(invoice),
            [
                {"base": 80.0, "rate": 5.0, "amount": 4.0},
                {"base": 95.0, "rate": 10.0, "amount": 9.5},
            ],
        )

    # ------------------------------------------------------------------
    # Precedence
    # ------------------------------------------------------------------
    def test_most_specific_rule_wins(self):
        Category = self.env["product.category"]
        parent = Category.create({"name": "Furniture"})
        child = Category.create({"name": "Chairs", "parent_id": parent.id})
        tag = self.env["res.partner.category"].create({"name": "Key Account"})
        chair, table, other = self.env["product.product"].create(
            [
                {"name": "Chair", "categ_id": child.id},
                {"name": "Table", "categ_id": parent.id},
                {"name": "Other"},
            ]
        )
        tagged_customer = self.env["res.partner"].create(
            {"name": "Tagged", "category_id": [Command.set(tag.ids)]}
        )
        plain_customer = self.env["res.partner"].create({"name": "Plain"})
        other_team = self.env["crm.team"].create({"name": "Other Team"})
        plan = self._make_plan(
            [
                {"rate": 1.0, "sequence": 20},
                {"rate": 1.5, "sequence": 5},  # default too, lower sequence
                {"rate": 2.0, "team_id": self.team.id},
                {"rate": 3.0, "partner_category_id": tag.id},
                {"rate": 4.0, "partner_id": self.customer.id},
                {"rate": 5.0, "categ_id": parent.id},
                {"rate": 6.0, "categ_id": child.id},
                {"rate": 7.0, "product_id": self.product.id},
            ]
        )
        for partner in (self.customer, tagged_customer, plain_customer):
            partner.flow_commission_assignment_ids = [
                Command.clear(),
                Command.create({"agent_id": self.agent.id, "plan_id": plan.id}),
            ]
        invoice = self._invoice(
            [
                (self.product, 1, 100.0),
                (chair, 1, 100.0),
                (table, 1, 100.0),
                (other, 1, 100.0),
            ]
        )
        self.assertEqual(
            self._commissions(invoice).mapped("rate"), [7.0, 6.0, 5.0, 4.0]
        )
        by_tag = self._invoice([(other, 1, 100.0)], partner=tagged_customer)
        by_team = self._invoice([(other, 1, 100.0)], partner=plain_customer)
        by_default = self._invoice(
            [(other, 1, 100.0)], partner=plain_customer, team=other_team
        )
        self.assertEqual(
            (
                self._commissions(by_tag)
                + self._commissions(by_team)
                + self._commissions(by_default)
            ).mapped("rate"),
            [3.0, 2.0, 1.5],
        )

    def test_agreement_rule_wins_and_follows_credit_notes(self):
        agreement = self.env["sale.flow.agreement"].create(
            {
                "partner_id": self.customer.id,
                "date_start": fields.Date.today() - timedelta(days=1),
                "date_end": fields.Date.today() + timedelta(days=100),
                "line_ids": [
                    Command.create(
                        {
                            "commitment_type": "value",
                            "product_id": self.service.id,
                            "amount_committed": 10000.0,
                            "price_unit": 40.0,
                        }
                    )
                ],
            }
        )
        agreement.action_activate()
        plan = self._make_plan(
            [
                {"rate": 1.0},
                {"rate": 7.0, "product_id": self.service.id},
                {"rate": 9.0, "agreement_id": agreement.id},
            ]
        )
        agreement_rule = plan.rule_ids.filtered("agreement_id")
        self.assertEqual(agreement_rule.name, agreement.display_name)
        other_customer = self.env["res.partner"].create({"name": "No Agreement"})
        for partner in (self.customer, other_customer):
            partner.flow_commission_assignment_ids = [
                Command.clear(),
                Command.create({"agent_id": self.agent.id, "plan_id": plan.id}),
            ]
        order = self._create_order(product=self.service, qty=5)
        self.assertEqual(order.order_line.flow_agreement_id, agreement)
        # the quotation already shows the agreement's rate: 5 x 40 x 9 %
        self.assertEqual(order.flow_commission_amount, 18.0)
        order.with_user(self.salesman).action_confirm()
        invoice = order.with_user(self.salesman)._create_invoices()
        invoice.with_user(self.accountant).action_post()
        self.assertRecordValues(
            self._commissions(invoice),
            [
                {
                    "rule_id": agreement_rule.id,
                    "base": 200.0,
                    "rate": 9.0,
                    "amount": 18.0,
                }
            ],
        )
        # the credit note keeps its sales line: clawed back at the same rate
        refund = invoice._reverse_moves(
            [{"invoice_date": invoice.invoice_date, "date": invoice.date}]
        )
        refund.action_post()
        self.assertRecordValues(
            self._commissions(refund),
            [{"rule_id": agreement_rule.id, "base": -200.0, "amount": -18.0}],
        )
        # the same product sold outside the agreement: the product's rule
        outside = self._invoice([(self.service, 5, 40.0)], partner=other_customer)
        self.assertRecordValues(
            self._commissions(outside), [{"rate": 7.0, "amount": 14.0}]
        )
        # the agreement shows its commission terms
        self.assertEqual(agreement.flow_commission_rule_count, 1)
        action = agreement.action_view_commission_rules()
        self.assertEqual(
            self.env["sale.flow.commission.rule"].search(action["domain"]),
            agreement_rule,
        )
        # amended: the rule follows the new version, and so do its sales
        amended = self.env["sale.flow.agreement"].browse(
            agreement.action_amend()["res_id"]
        )
        amended.action_activate()
        self.assertEqual(agreement_rule.agreement_id, amended)
        self.assertEqual(order.order_line.flow_agreement_id, amended)
        again = self._create_order(product=self.service, qty=1)
        self.assertEqual(again.flow_commission_amount, 3.6)

    def test_agents_from_customer_then_team_then_salesperson(self):
        team_plan = self._make_plan([{"rate": 2.0}])
        own_plan = self._make_plan([{"rate": 3.0}])
        # agents are assigned by the Sales Flow administrator (sales manager)
        self.team.with_user(self.manager).flow_commission_assignment_ids = [
            Command.create({"agent_id": self.agent_b.id, "plan_id": team_plan.id})
        ]
        self.salesman.partner_id.with_user(self.manager).write(
            {
                "flow_is_commission_agent": True,
                "flow_agent_type": "internal",
                "flow_commission_plan_id": own_plan.id,
            }
        )
        other = self.env["res.partner"].create({"name": "No Agent Customer"})
        by_customer = self._invoice([(self.product, 1, 100.0)])
        by_team = self._invoice([(self.product, 1, 100.0)], partner=other)
        other_team = self.env["crm.team"].create({"name": "Lonely Team"})
        by_seller = self._invoice(
            [(self.product, 1, 100.0)], partner=other, team=other_team
        )
        self.assertRecordValues(
            self._commissions(by_customer)
            + self._commissions(by_team)
            + self._commissions(by_seller),
            [
                {"agent_id": self.agent.id, "amount": 10.0},
                {"agent_id": self.agent_b.id, "amount": 2.0},
                {"agent_id": self.salesman.partner_id.id, "amount": 3.0},
            ],
        )

    # ------------------------------------------------------------------
    # Refunds, payments, currencies, cancellation
    # ------------------------------------------------------------------
    def test_credit_note_claws_back(self):
        invoice = self._invoice([(self.product, 2, 100.0)])
        refund = invoice._reverse_moves(
            [{"invoice_date": invoice.invoice_date, "date": invoice.date}]
        )
        refund.action_post()
        self.assertRecordValues(
            self._commissions(refund),
            [{"base": -200.0, "amount": -20.0, "state": "to_settle"}],
        )
        partial = self._invoice(
            [(self.product, 1, 100.0)], move_type="out_refund", date="2024-01-16"
        )
        self.assertRecordValues(
            self._commissions(partial), [{"base": -100.0, "amount": -10.0}]
        )
        # the settlement nets the clawback
        settlement = self._settle()
        self.assertEqual(settlement.amount_total, -10.0)

    def test_partial_payments_on_paid_basis(self):
        plan = self._make_plan([{"rate": 10.0}], payment_basis="paid")
        self.customer.flow_commission_assignment_ids.plan_id = plan
        invoice = self._invoice([(self.product, 10, 100.0)])
        line = self._commissions(invoice)
        self.assertRecordValues(
            line,
            [{"amount": 100.0, "payable_fraction": 0.0, "amount_payable": 0.0}],
        )
        self.assertEqual(line.state, "draft")
        self.assertFalse(self._settle(), "nothing is payable before payment")

        self._pay(invoice, 400.0)
        self.assertRecordValues(
            line,
            [{"payable_fraction": 0.4, "amount_payable": 40.0, "state": "to_settle"}],
        )
        first = self._settle()
        self.assertEqual(first.amount_total, 40.0)
        rest = self._commissions(invoice) - line
        self.assertRecordValues(
            line | rest,
            [
                {"amount": 40.0, "state": "settled", "settlement_id": first.id},
                {"amount": 60.0, "state": "draft", "settlement_id": False},
            ],
        )

        self._pay(invoice, 300.0)
        self.assertRecordValues(rest, [{"amount_payable": 30.0, "state": "to_settle"}])
        self._pay(invoice, 300.0)
        self.assertRecordValues(
            rest, [{"payable_fraction": 1.0, "amount_payable": 60.0}]
        )
        second = self._settle()
        self.assertEqual(second.amount_total, 60.0)
        self.assertEqual(sum(self._commissions(invoice).mapped("amount")), 100.0)

    def test_reversed_payment_takes_back_what_was_settled(self):
        plan = self._make_plan([{"rate": 10.0}], payment_basis="paid")
        self.customer.flow_commission_assignment_ids.plan_id = plan
        invoice = self._invoice([(self.product, 10, 100.0)])
        first_payment = self._pay(invoice, 400.0)
        self.assertEqual(self._settle().amount_total, 40.0)
        self._pay(invoice, 300.0)
        # the first payment is reversed: 30 % of the invoice stays paid, 40 %
        # were settled, 10 are taken back and the rest waits for payment
        first_payment.action_draft()
        self.assertEqual(invoice.amount_residual, 700.0)
        lines = self._commissions(invoice)
        self.assertRecordValues(
            lines,
            [
                {"amount": 40.0, "state": "settled", "amount_payable": 40.0},
                {"amount": 70.0, "state": "draft", "amount_payable": 0.0},
                {"amount": -10.0, "state": "to_settle", "amount_payable": -10.0},
            ],
        )
        self.assertEqual(sum(lines.mapped("amount")), 100.0)
        # reversing again changes nothing more
        invoice._flow_commission_update_payable()
        self.assertEqual(len(self._commissions(invoice)), 3)
        # taken back in the period of the reversal
        self.assertFalse(self._settle())
        today = fields.Date.today()
        self.assertEqual(self._settle(period_date=today).amount_total, -10.0)
        # paid in full at last: the whole commission is earned, once
        self._pay(invoice, 700.0)
        self.assertEqual(self._settle(period_date=today).amount_total, 70.0)
        self.assertEqual(
            sum(self._commissions(invoice).mapped("amount_payable")), 100.0
        )

    def test_reversed_payment_after_full_settlement(self):
        plan = self._make_plan([{"rate": 10.0}], payment_basis="paid")
        self.customer.flow_commission_assignment_ids.plan_id = plan
        invoice = self._invoice([(self.product, 10, 100.0)])
        payment = self._pay(invoice, 1000.0)
        self.assertEqual(self._settle().amount_total, 100.0)
        payment.action_draft()
        self.assertRecordValues(
            self._commissions(invoice),
            [
                {"amount": 100.0, "state": "settled", "fraction_start": 0.0},
                {"amount": -100.0, "state": "to_settle", "fraction_start": 0.0},
                {"amount": 100.0, "state": "draft", "fraction_start": 0.0},
            ],
        )

    def test_other_currency_at_invoice_rate(self):
        foreign = self.env.ref("base.EUR")
        if foreign == self.currency:
            foreign = self.env.ref("base.USD")
        foreign.active = True
        self.env["res.currency.rate"].create(
            [
                {"currency_id": foreign.id, "name": "2024-01-01", "rate": 2.0},
                {"currency_id": foreign.id, "name": "2024-02-01", "rate": 4.0},
            ]
        )
        invoice = self._invoice([(self.product, 2, 100.0)], currency=foreign)
        # 200 in the foreign currency are 100 in the company's at January's rate
        self.assertRecordValues(
            self._commissions(invoice),
            [{"base": 100.0, "amount": 10.0, "currency_id": self.currency.id}],
        )

    def test_cancel_invoice_cancels_or_reverses(self):
        unsettled = self._invoice([(self.product, 1, 100.0)])
        line = self._commissions(unsettled)
        unsettled.button_cancel()
        self.assertEqual(line.state, "cancelled")

        settled = self._invoice([(self.product, 2, 100.0)])
        settlement = self._settle()
        settled_line = self._commissions(settled)
        settled.button_draft()
        reversal = self._commissions(settled) - settled_line
        self.assertRecordValues(
            settled_line | reversal,
            [
                {
                    "state": "settled",
                    "amount": 20.0,
                    "settlement_id": settlement.id,
                    "reversed_line_id": False,
                },
                {
                    "state": "to_settle",
                    "amount": -20.0,
                    "settlement_id": False,
                    "reversed_line_id": settled_line.id,
                },
            ],
        )
        # posting again earns the commission again; resetting twice does not
        # reverse twice
        settled.action_post()
        settled.button_draft()
        lines = self._commissions(settled)
        self.assertEqual(len(lines.filtered("reversed_line_id")), 1)
        self.assertEqual(
            sum(lines.filtered(lambda c: c.state != "cancelled").mapped("amount")), 0.0
        )

    # ------------------------------------------------------------------
    # Quotations and targets
    # ------------------------------------------------------------------
    def test_quotation_shows_expected_commission(self):
        order = self._create_order(qty=3)
        self.assertEqual(order.with_user(self.manager).flow_commission_amount, 30.0)
        with Form(order.with_user(self.manager)) as form:
            with form.order_line.edit(0) as line:
                line.product_uom_qty = 5
            self.assertEqual(form.flow_commission_amount, 50.0)
        # the salesperson is not the agent here: none of it is theirs
        self.assertEqual(order.with_user(self.salesman).flow_commission_amount, 0.0)
        other = self._create_order(
            partner=self.env["res.partner"].create({"name": "X"})
        )
        self.assertEqual(other.flow_commission_amount, 0.0)

    def test_target_attainment(self):
        self._invoice([(self.product, 3, 100.0)])
        target = (
            self.env["sale.flow.commission.target"]
            .with_user(self.manager)
            .create(
                {
                    "agent_id": self.agent.id,
                    "date_from": "2024-01-01",
                    "date_to": "2024-01-31",
                    "target_amount": 1200.0,
                }
            )
        )
        self.assertRecordValues(
            target,
            [{"achieved_amount": 300.0, "commission_amount": 30.0, "attainment": 25.0}],
        )

    # ------------------------------------------------------------------
    # Bad input
    # ------------------------------------------------------------------
    @mute_logger("odoo.sql_db")
    def test_negative_rate_refused(self):
        Plan = self.env["sale.flow.commission.plan"]
        count = Plan.search_count([])
        with self.assertRaises(ValidationError):
            self._make_plan([{"rate": -1.0}], name="Negative")
        with self.assertRaises(ValidationError):
            self._make_plan([{"rate_type": "fixed", "fixed_amount": -2.0}])
        self.assertEqual(Plan.search_count([]), count, "nothing half-written")

    def test_tiers_must_increase(self):
        rule_count = self.env["sale.flow.commission.rule"].search_count([])
        for thresholds in ((0.0, 1000.0, 1000.0), (0.0, 2000.0, 1000.0)):
            with self.assertRaises(ValidationError):
                self._make_plan(
                    [
                        {
                            "rate_type": "tiers",
                            "tier_ids": [
                                Command.create(
                                    {"sequence": i, "threshold": t, "rate": 1.0}
                                )
                                for i, t in enumerate(thresholds)
                            ],
                        }
                    ]
                )
        with self.assertRaises(ValidationError):
            self._make_plan([{"rate_type": "tiers"}])
        self.assertEqual(
            self.env["sale.flow.commission.rule"].search_count([]), rule_count
        )

    def test_settlement_needs_a_period(self):
        self._invoice([(self.product, 1, 100.0)])
        Settlement = self.env["sale.flow.commission.settlement"]
        wizard = (
            self.env["sale.flow.commission.settle"]
            .with_user(self.accountant)
            .create({"period_type": False, "period_date": False, "create_bills": False})
        )
        with self.assertRaises(UserError) as caught:
            wizard.action_settle()
        self.assertIn("period", str(caught.exception))
        self.assertFalse(Settlement.search([("agent_id", "=", self.agent.id)]))
