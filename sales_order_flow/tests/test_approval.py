from psycopg2 import IntegrityError

from odoo import Command
from odoo.exceptions import UserError, ValidationError
from odoo.tests import Form, tagged
from odoo.tools import SQL, mute_logger

from .approval_common import ApprovalCommon

ACTIVITY_XMLID = "sales_order_flow.mail_activity_type_sale_flow_approval"


@tagged("post_install", "-at_install")
class TestApproval(ApprovalCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Demo rules must not interfere: every test sets its own.
        cls.env["sale.flow.approval.rule"].search([]).active = False
        # The sales manager configures the rules.
        cls.Rule = cls.env["sale.flow.approval.rule"].with_user(cls.manager)
        cls.activity_type = cls.env.ref(ACTIVITY_XMLID)
        # Discounts are edited in the order form (Form needs the column).
        cls.salesman.groups_id += cls.env.ref("sale.group_discount_per_so_line")

    @classmethod
    def _rule(cls, **values):
        values.setdefault("name", "Rule")
        if "approver_group_id" not in values:
            values.setdefault("approver_user_ids", [Command.set(cls.approver.ids)])
        return cls.Rule.create(values).with_env(cls.env)

    def _as_salesman(self, records):
        return records.with_user(self.salesman)

    def _approval_activities(self, order):
        return order.activity_ids.filtered(
            lambda a: a.activity_type_id == self.activity_type
        )

    def _reject(self, order, user, reason):
        action = order.with_user(user).action_flow_reject()
        wizard = Form(
            self.env[action["res_model"]]
            .with_user(user)
            .with_context(**action["context"])
        )
        wizard.reason = reason
        wizard.save().action_reject()

    # ------------------------------------------------------------------
    # Conditions
    # ------------------------------------------------------------------
    def test_discount_condition(self):
        rule = self._rule(check_discount=True, min_discount=10.0)
        low = self._create_order(discount=10.0)
        high = self._create_order(lines=3)
        self._as_salesman(high.order_line[1]).discount = 12.5
        self.assertEqual(low.flow_approval_state, "not_required")
        self.assertFalse(low.flow_approval_ids)
        self.assertEqual(high.flow_approval_state, "to_request")
        self.assertRecordValues(
            high.flow_approval_ids,
            [{"rule_id": rule.id, "level": 1, "state": "to_request"}],
        )
        figures = high._flow_get_approval_figures()
        self.assertEqual(figures["max_discount"], 12.5)

    def test_margin_condition_order_and_line(self):
        # Widget: price 100, cost 60 -> 40 % margin; 30 % off -> 10/70 = 14.3 %.
        order_rule = self._rule(check_margin=True, min_margin=20.0)
        order = self._create_order(lines=2)
        self.assertEqual(order.flow_approval_state, "not_required")
        self._as_salesman(order.order_line[0]).discount = 30.0
        figures = order._flow_get_approval_figures()
        self.assertAlmostEqual(figures["min_line_margin_percent"], 100 / 7, places=2)
        self.assertAlmostEqual(figures["order_margin_percent"], 50 / 1.7, places=2)
        self.assertAlmostEqual(
            figures["order_margin_percent"], order.margin_percent * 100, places=2
        )
        # Order margin 29.4 % is not below 20 %; the line scope sees 14.3 %.
        self.assertEqual(order.flow_approval_state, "not_required")
        order_rule.with_user(self.manager).margin_scope = "line"
        self._as_salesman(order)._flow_evaluate_approval()
        self.assertEqual(order.flow_approval_state, "to_request")
        # A line given away (100 % off) counts as -100 % margin.
        self.assertEqual(
            order._flow_get_approval_figures(
                line_values=[
                    {
                        "discount": 100,
                        "price_subtotal": 0,
                        "margin": -60,
                        "purchase_cost": 60,
                    }
                ]
            )["min_line_margin_percent"],
            -100.0,
        )

    def test_amount_condition_in_company_currency(self):
        self._rule(check_amount=True, min_amount=1000.0)
        small = self._create_order(qty=10)  # 1000, not above
        big = self._create_order(qty=11)
        self.assertEqual(small.flow_approval_state, "not_required")
        self.assertEqual(big.flow_approval_state, "to_request")
        # 12 units at 200 foreign = 2400 foreign = 600 in company currency.
        foreign = self.env["res.currency"].create(
            {"name": "FLW", "symbol": "F", "rounding": 0.01}
        )
        self.env["res.currency.rate"].create(
            {"currency_id": foreign.id, "rate": 4.0, "name": "2000-01-01"}
        )
        pricelist = self.env["product.pricelist"].create(
            {"name": "Foreign", "currency_id": foreign.id}
        )
        order = self._create_order(qty=12, pricelist_id=pricelist.id, price_unit=200)
        self.assertEqual(order.currency_id, foreign)
        self.assertEqual(order.amount_untaxed, 2400.0)
        self.assertAlmostEqual(
            order._flow_get_approval_figures()["amount_untaxed"], 600.0
        )
        self.assertEqual(order.flow_approval_state, "not_required")

    def test_customer_and_tag_condition(self):
        tag = self.env["res.partner.category"].create({"name": "Key Account"})
        self._rule(partner_ids=[Command.set(self.customer_po.ids)])
        # The contact of a listed company matches through its commercial partner.
        contact_order = self._create_order(partner=self.customer_po_contact)
        other = self._create_order()
        self.assertEqual(contact_order.flow_approval_state, "to_request")
        self.assertEqual(other.flow_approval_state, "not_required")
        self._rule(partner_category_ids=[Command.set(tag.ids)])
        self.customer.category_id = tag
        tagged_order = self._create_order()
        self.assertEqual(tagged_order.flow_approval_state, "to_request")

    def test_team_condition(self):
        other_team = self.env["crm.team"].create({"name": "Other Team"})
        self._rule(team_ids=[Command.set(self.team.ids)])
        self.assertEqual(self._create_order().flow_approval_state, "to_request")
        order = self._create_order(team_id=other_team.id)
        self.assertEqual(order.flow_approval_state, "not_required")
        self._as_salesman(order).team_id = self.team
        self.assertEqual(order.flow_approval_state, "to_request")

    def test_payment_term_condition(self):
        term_30 = self.env.ref("account.account_payment_term_30days")
        term_now = self.env.ref("account.account_payment_term_immediate")
        self.customer.property_payment_term_id = term_30
        self._rule(check_payment_term=True)
        order = self._create_order()
        self.assertEqual(order.payment_term_id, term_30)
        self.assertEqual(order.flow_approval_state, "not_required")
        self._as_salesman(order).payment_term_id = term_now
        self.assertEqual(order.flow_approval_state, "to_request")
        self._as_salesman(order).payment_term_id = term_30
        self.assertEqual(order.flow_approval_state, "not_required")

    def test_combined_conditions(self):
        other_team = self.env["crm.team"].create({"name": "Other Team"})
        rule = self._rule(
            check_discount=True,
            min_discount=10.0,
            team_ids=[Command.set(self.team.ids)],
        )
        self.assertEqual(
            self._create_order(
                discount=20.0, team_id=other_team.id
            ).flow_approval_state,
            "not_required",
        )
        self.assertEqual(self._create_order().flow_approval_state, "not_required")
        order = self._create_order(discount=20.0)
        self.assertEqual(order.flow_approval_ids.rule_id, rule)
        # Only rules of the order's company apply.
        company_2 = self.env["res.company"].create({"name": "Flow Company 2"})
        rule.company_id = company_2  # set-up: the manager is not in company 2
        self._as_salesman(order)._flow_evaluate_approval()
        self.assertEqual(order.flow_approval_state, "not_required")

    # ------------------------------------------------------------------
    # Request, levels, approve, reject
    # ------------------------------------------------------------------
    def test_levels_in_order_with_activities(self):
        self._rule(name="Discount", check_discount=True, min_discount=10.0, level=1)
        self._rule(
            name="Big",
            check_amount=True,
            min_amount=100.0,
            level=2,
            approver_user_ids=[Command.set(self.approver_2.ids)],
        )
        order = self._create_order(qty=5, discount=20.0)
        self.assertEqual(order.flow_approval_state, "to_request")
        self.assertEqual(len(order.flow_approval_ids), 2)

        order.with_user(self.salesman).action_flow_request_approval()
        self.assertEqual(order.flow_approval_state, "pending")
        self.assertEqual(self._approval_activities(order).user_id, self.approver)
        self.assertEqual(order.flow_approver_user_ids, self.approver)
        Order = self.env["sale.order"]
        self.assertIn(
            order, Order.search([("flow_approver_user_ids", "in", self.approver.id)])
        )
        self.assertNotIn(
            order, Order.search([("flow_approver_user_ids", "in", self.approver_2.id)])
        )
        # Level 2 cannot approve before level 1; the error names who can.
        with self.assertRaisesRegex(UserError, "Alice Approver"):
            order.with_user(self.approver_2).action_flow_approve()
        # The approver reads the salesperson's quotation.
        self.assertEqual(order.with_user(self.approver).name, order.name)
        self.assertTrue(order.with_user(self.approver).flow_can_approve)
        self.assertFalse(order.with_user(self.approver_2).flow_can_approve)

        activity = self._approval_activities(order)
        order.with_user(self.approver).action_flow_approve()
        self.assertFalse(activity.exists() and activity.active)
        self.assertEqual(order.flow_approval_state, "pending")
        self.assertEqual(self._approval_activities(order).user_id, self.approver_2)
        self.assertIn(
            order, Order.search([("flow_approver_user_ids", "in", self.approver_2.id)])
        )
        with self.assertRaises(UserError):
            order.with_user(self.approver).action_flow_approve()

        order.with_user(self.approver_2).action_flow_approve()
        self.assertEqual(order.flow_approval_state, "approved")
        self.assertFalse(self._approval_activities(order))
        self.assertRecordValues(
            order.flow_approval_ids.sorted("level"),
            [
                {"state": "approved", "approved_user_id": self.approver.id},
                {"state": "approved", "approved_user_id": self.approver_2.id},
            ],
        )
        self.assertEqual(order.flow_approval_snapshot["max_discount"], 20.0)
        self.assertIn("approved", order.message_ids[0].body)
        order.with_user(self.salesman).action_confirm()
        self.assertEqual(order.state, "sale")

    def test_group_approver_and_non_approver_refused(self):
        self._rule(
            check_discount=True,
            min_discount=10.0,
            approver_group_id=self.env.ref("sales_team.group_sale_manager").id,
        )
        order = self._create_order(discount=20.0)
        order.with_user(self.salesman).action_flow_request_approval()
        self.assertEqual(
            self._approval_activities(order).user_id & self.manager, self.manager
        )
        for user in (self.salesman, self.approver):
            with self.assertRaises(UserError):
                order.with_user(user).action_flow_approve()
        with self.assertRaises(UserError):
            order.with_user(self.approver).action_flow_reject()
        order.with_user(self.manager).action_flow_approve()
        self.assertEqual(order.flow_approval_state, "approved")

    def test_reject_with_reason_and_request_again(self):
        self._rule(check_discount=True, min_discount=10.0)
        order = self._create_order(discount=20.0)
        order.with_user(self.salesman).action_flow_request_approval()
        self._reject(order, self.approver, "Too generous for this customer")
        self.assertEqual(order.flow_approval_state, "rejected")
        self.assertRecordValues(
            order.flow_approval_ids,
            [
                {
                    "state": "rejected",
                    "rejected_user_id": self.approver.id,
                    "reject_reason": "Too generous for this customer",
                }
            ],
        )
        self.assertIn("Too generous for this customer", order.message_ids[0].body)
        self.assertFalse(self._approval_activities(order))
        todo = order.activity_ids.filtered(lambda a: a.user_id == self.salesman)
        self.assertEqual(len(todo), 1)
        with self.assertRaisesRegex(UserError, "rejected"):
            order.with_user(self.salesman).action_confirm()
        # An empty reason is refused.
        order.with_user(self.salesman).action_flow_request_approval()
        with self.assertRaises(UserError):
            order.with_user(self.approver)._flow_reject("  ")
        self.assertEqual(order.flow_approval_state, "pending")
        self.assertEqual(order.flow_approval_ids.state, "pending")
        self.assertFalse(order.flow_approval_ids.reject_reason)

    def test_confirm_and_send_blocked_until_approved(self):
        self._rule(check_discount=True, min_discount=10.0)
        order = self._create_order(discount=20.0)
        salesman_order = order.with_user(self.salesman)
        for action in (
            "action_confirm",
            "action_quotation_send",
            "action_quotation_sent",
        ):
            with self.assertRaisesRegex(UserError, "needs approval"):
                getattr(salesman_order, action)()
        self.assertFalse(order.sudo()._has_to_be_signed())  # portal: sudo
        salesman_order.action_flow_request_approval()
        with self.assertRaisesRegex(
            UserError, "waiting for approval from Alice Approver"
        ):
            salesman_order.action_confirm()
        with self.assertRaisesRegex(UserError, "waiting for approval"):
            salesman_order.action_quotation_send()
        self.assertEqual(order.state, "draft")
        order.with_user(self.approver).action_flow_approve()
        salesman_order.action_quotation_sent()
        self.assertEqual(order.state, "sent")
        salesman_order.action_confirm()
        self.assertEqual(order.state, "sale")

    def test_state_cannot_be_forced(self):
        self._rule(check_discount=True, min_discount=10.0)
        order = self._create_order(discount=20.0)
        with self.assertRaises(UserError):
            order.with_user(self.salesman).write({"flow_approval_state": "approved"})
        self.assertEqual(order.flow_approval_state, "to_request")

    # ------------------------------------------------------------------
    # Changes after approval
    # ------------------------------------------------------------------
    def _approved_order(self, **values):
        order = self._create_order(**values)
        order.with_user(self.salesman).action_flow_request_approval()
        order.with_user(self.approver).action_flow_approve()
        self.assertEqual(order.flow_approval_state, "approved")
        return order

    def test_higher_discount_after_approval_resets(self):
        self._rule(check_discount=True, min_discount=10.0)
        order = self._approved_order(lines=2, discount=20.0)
        with Form(order.with_user(self.salesman)) as form:
            with form.order_line.edit(1) as line:
                line.discount = 25.0
        self.assertEqual(order.flow_approval_state, "to_request")
        self.assertEqual(order.flow_approval_ids.state, "to_request")
        self.assertFalse(order.flow_approval_snapshot)
        self.assertIn("Approval needed", order.message_ids[0].body)
        with self.assertRaises(UserError):
            order.with_user(self.salesman).action_confirm()

    def test_change_within_approval_keeps_it(self):
        self._rule(check_discount=True, min_discount=10.0)
        order = self._approved_order(lines=2, discount=20.0)
        with Form(order.with_user(self.salesman)) as form:
            with form.order_line.edit(0) as line:
                line.discount = 15.0
                line.product_uom_qty = 3.0
            with form.order_line.new() as line:
                line.product_id = self.service
        self.assertEqual(order.flow_approval_state, "approved")
        self._as_salesman(order.order_line[-1]).unlink()
        self.assertEqual(order.flow_approval_state, "approved")
        order.with_user(self.salesman).action_confirm()
        self.assertEqual(order.state, "sale")

    def test_rule_set_change_resets(self):
        self._rule(name="Discount", check_discount=True, min_discount=10.0)
        amount_rule = self._rule(name="Amount", check_amount=True, min_amount=500.0)
        order = self._approved_order(discount=20.0)
        # More quantity: the amount rule now matches too.
        self._as_salesman(order.order_line).product_uom_qty = 10
        self.assertEqual(order.flow_approval_state, "to_request")
        self.assertEqual(len(order.flow_approval_ids), 2)
        self.assertIn(amount_rule, order.flow_approval_ids.rule_id)
        # Back below every threshold: no approval needed any longer.
        self._as_salesman(order.order_line).write(
            {"product_uom_qty": 1, "discount": 5.0}
        )
        self.assertEqual(order.flow_approval_state, "not_required")
        self.assertFalse(order.flow_approval_ids)
        self.assertIn("not required", order.message_ids[0].body)

    def test_pending_change_resets_and_closes_activities(self):
        self._rule(check_discount=True, min_discount=10.0)
        order = self._create_order(discount=20.0)
        order.with_user(self.salesman).action_flow_request_approval()
        self.assertTrue(self._approval_activities(order))
        self._as_salesman(order.order_line).discount = 30.0
        self.assertEqual(order.flow_approval_state, "to_request")
        self.assertFalse(self._approval_activities(order))

    # ------------------------------------------------------------------
    # Bad input
    # ------------------------------------------------------------------
    def test_bad_rules_refused(self):
        count = self.Rule.with_context(active_test=False).search_count([])
        out_of_range = [
            {"check_discount": True, "min_discount": 150.0},
            {"check_discount": True, "min_discount": -1.0},
            {"check_margin": True, "min_margin": 101.0},
            {"check_amount": True, "min_amount": -10.0},
        ]
        for values in out_of_range:
            with (
                self.subTest(values=values),
                mute_logger("odoo.sql_db"),
                self.assertRaises(IntegrityError),
                self.env.cr.savepoint(),
            ):
                self._rule(**values)
        incomplete = [
            {},  # no condition
            {"check_discount": True, "min_discount": 5.0, "approver_user_ids": []},
        ]
        for values in incomplete:
            with self.subTest(values=values), self.assertRaises(ValidationError):
                self._rule(**values)
        self.assertEqual(
            self.Rule.with_context(active_test=False).search_count([]), count
        )
        rule = self._rule(check_discount=True, min_discount=5.0)
        with self.assertRaises(ValidationError):
            rule.check_discount = False
        # The database refuses what Python would have let through.
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError):
            with self.env.cr.savepoint():
                self.env.cr.execute(
                    SQL(
                        "UPDATE sale_flow_approval_rule SET min_discount = 150 "
                        "WHERE id = %s",
                        rule.id,
                    )
                )
        rule.invalidate_recordset()
        self.assertEqual(rule.min_discount, 5.0)
