import xmlrpc.client

from odoo import Command
from odoo.exceptions import UserError, ValidationError
from odoo.tests import HttpCase, tagged
from odoo.tools import SQL

from .approval_common import ApprovalCommon

# The context keys the addon used to trust (issue 9, point 1).
OLD_WRITE_KEY = "sale_flow_approval_write"
OLD_SKIP_KEY = "sale_flow_skip_approval_eval"
OLD_APPLYING_KEY = "sale_flow_discount_applying"
PIXEL_PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhf"
    "DwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
FORGED_CONTEXT = {OLD_WRITE_KEY: True, OLD_SKIP_KEY: True, OLD_APPLYING_KEY: True}


class ApprovalSecurityCommon(ApprovalCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The manager configures the rule, as in real life.
        cls.rule = (
            cls.env["sale.flow.approval.rule"]
            .with_user(cls.manager)
            .create(
                {
                    "name": "Discounts above 10 %",
                    "check_discount": True,
                    "min_discount": 10.0,
                    "approver_user_ids": [Command.set(cls.approver.ids)],
                }
            )
        )

    @classmethod
    def _approved_order(cls, discount=20.0):
        order = cls._create_order(discount=discount)
        order.with_user(cls.salesman).action_flow_request_approval()
        order.with_user(cls.approver).action_flow_approve()
        assert order.flow_approval_state == "approved"
        return order

    def _make_stale(self, order, discount):
        """Change a line behind the ORM's back, as any path skipping the
        evaluation would: the stored approval state is now stale."""
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "UPDATE sale_order_line SET discount = %s, flow_discount_1 = %s "
                "WHERE order_id = %s",
                discount,
                discount,
                order.id,
            )
        )
        self.env.invalidate_all()


@tagged("post_install", "-at_install")
class TestApprovalSecurity(ApprovalSecurityCommon):
    # ------------------------------------------------------------------
    # Point 1: the context grants nothing
    # ------------------------------------------------------------------
    def test_old_write_key_grants_nothing(self):
        order = self._create_order(discount=20.0)
        salesman_order = order.with_user(self.salesman).with_context(**FORGED_CONTEXT)
        for vals in (
            {"flow_approval_state": "approved"},
            {"flow_approval_snapshot": {"max_discount": 99.0}},
        ):
            with self.subTest(vals=vals), self.assertRaises(UserError):
                salesman_order.write(vals)
        self.assertEqual(order.flow_approval_state, "to_request")
        # An approver is no superuser either: approving goes through the button.
        with self.assertRaises(UserError):
            order.with_user(self.approver).with_context(**FORGED_CONTEXT).write(
                {"flow_approval_state": "approved"}
            )
        # Nor at creation, from the values or the context's defaults.
        Order = self.env["sale.order"].with_user(self.salesman)
        with self.assertRaises(UserError):
            Order.with_context(**FORGED_CONTEXT).create(
                {"partner_id": self.customer.id, "flow_approval_state": "approved"}
            )
        created = Order.with_context(
            default_flow_approval_state="approved",
            default_flow_approval_snapshot={"max_discount": 99.0},
        ).create(
            {
                "partner_id": self.customer.id,
                "order_line": [
                    Command.create({"product_id": self.product.id, "discount": 20.0})
                ],
            }
        )
        self.assertEqual(created.flow_approval_state, "to_request")
        self.assertFalse(created.flow_approval_snapshot)

    def test_skip_keys_do_not_skip_the_evaluation(self):
        order = self._approved_order()
        line = order.order_line.with_user(self.salesman).with_context(**FORGED_CONTEXT)
        line.write({"discount": 40.0})
        self.assertEqual(order.flow_approval_state, "to_request")
        # The forged "rules are applying" key did not hide the manual discount.
        self.assertTrue(order.order_line.flow_discount_manual)
        with self.assertRaisesRegex(UserError, "needs approval"):
            order.with_user(self.salesman).with_context(
                **FORGED_CONTEXT
            ).action_confirm()
        # Same through the order's own write (one2many commands).
        order = self._approved_order()
        order.with_user(self.salesman).with_context(**FORGED_CONTEXT).write(
            {"order_line": [Command.update(order.order_line.id, {"discount": 40.0})]}
        )
        self.assertEqual(order.flow_approval_state, "to_request")

    def test_forged_applying_key_on_order_still_applies_discount_rules(self):
        self.env["sale.flow.discount.rule"].create(
            {
                "name": "Flow customer 5 %",
                "partner_ids": [Command.set(self.customer.ids)],
                "discount_percent": 5.0,
            }
        )
        order = self._create_order(partner=self.customer_po)
        order.with_user(self.salesman).with_context(**FORGED_CONTEXT).write(
            {"partner_id": self.customer.id}
        )
        self.assertEqual(order.order_line.flow_discount_1, 5.0)

    def test_confirmation_reevaluates_the_rules(self):
        order = self._approved_order()
        self._make_stale(order, 40.0)
        self.assertEqual(order.flow_approval_state, "approved")  # stale
        with self.assertRaisesRegex(UserError, "needs approval"):
            order.with_user(self.salesman).action_confirm()
        self.assertEqual(order.state, "draft")
        self.assertEqual(order.flow_approval_state, "to_request")

    def test_sending_reevaluates_the_rules(self):
        for action in ("action_quotation_send", "action_quotation_sent"):
            with self.subTest(action=action):
                order = self._approved_order()
                self._make_stale(order, 40.0)
                with self.assertRaisesRegex(UserError, "needs approval"):
                    getattr(order.with_user(self.salesman), action)()
                self.assertEqual(order.state, "draft")

    def test_mark_as_sent_and_state_writes_check_the_rules(self):
        order = self._create_order(discount=20.0)
        salesman_order = order.with_user(self.salesman)
        # What the send wizard does once the email is written.
        with self.assertRaisesRegex(UserError, "needs approval"):
            salesman_order.with_context(mark_so_as_sent=True).message_post(
                body="Here is your quotation"
            )
        for state in ("sent", "sale"):
            with self.subTest(state=state), self.assertRaises(UserError):
                salesman_order.write({"state": state})
        self.assertEqual(order.state, "draft")
        # Once approved, marking as sent works.
        salesman_order.action_flow_request_approval()
        order.with_user(self.approver).action_flow_approve()
        salesman_order.with_context(mark_so_as_sent=True).message_post(
            body="Here is your quotation"
        )
        self.assertEqual(order.state, "sent")

    def test_portal_signature_and_payment_reevaluate_the_rules(self):
        order = self._approved_order()
        order.require_signature = True
        order_sudo = order.sudo()
        self.assertTrue(order_sudo._has_to_be_signed())
        self._make_stale(order, 40.0)
        self.assertFalse(order.sudo()._has_to_be_signed())
        self.assertEqual(order.flow_approval_state, "to_request")
        order = self._approved_order()
        order.write({"require_signature": False, "require_payment": True})
        self._make_stale(order, 40.0)
        self.assertFalse(order.sudo()._has_to_be_paid())
        self.assertEqual(order.flow_approval_state, "to_request")

    # ------------------------------------------------------------------
    # Point 4: search on the current approvers
    # ------------------------------------------------------------------
    def test_search_current_approvers_bad_values(self):
        order = self._create_order(discount=20.0)
        order.with_user(self.salesman).action_flow_request_approval()
        Order = self.env["sale.order"].with_user(self.approver)
        for value in ("Alice", ["Alice"], [self.approver.id, "x"], True, [{}]):
            with (
                self.subTest(value=value),
                self.assertRaisesRegex(UserError, "give user ids"),
            ):
                Order.search([("flow_approver_user_ids", "in", value)])
        # Odoo answers these itself (no current approver) without asking the
        # field; given to the field, they are refused too.
        for value in (False, {}):
            with self.subTest(value=value):
                self.assertNotIn(
                    order, Order.search([("flow_approver_user_ids", "in", value)])
                )
                with self.assertRaisesRegex(UserError, "give user ids"):
                    Order._search_flow_approver_user_ids("in", value)
        self.assertFalse(Order.search([("flow_approver_user_ids", "in", [])]))
        self.assertEqual(
            Order.search([("flow_approver_user_ids", "=", self.approver.id)]), order
        )
        self.assertEqual(
            Order.search([("flow_approver_user_ids", "in", self.approver.ids)]), order
        )

    # ------------------------------------------------------------------
    # Point 14: who may be named approver
    # ------------------------------------------------------------------
    def test_named_approver_needs_the_approver_group(self):
        Rule = self.env["sale.flow.approval.rule"].with_user(self.manager)
        values = {"name": "Amounts", "check_amount": True, "min_amount": 10.0}
        with (
            self.assertRaisesRegex(ValidationError, "Sam Salesman"),
            self.env.cr.savepoint(),
        ):
            Rule.create(
                dict(values, approver_user_ids=[Command.set(self.salesman.ids)])
            )
        with (
            self.assertRaisesRegex(ValidationError, "Sales Flow / Approver"),
            self.env.cr.savepoint(),
        ):
            self.rule.with_user(self.manager).approver_user_ids += self.salesman
        with (
            self.assertRaisesRegex(ValidationError, "does not grant"),
            self.env.cr.savepoint(),
        ):
            Rule.create(
                dict(
                    values,
                    approver_group_id=self.env.ref("sales_team.group_sale_salesman").id,
                )
            )
        # Groups granting approval are fine (managers imply it).
        Rule.create(
            dict(
                values,
                min_amount=1_000_000.0,
                approver_group_id=self.env.ref("sales_team.group_sale_manager").id,
            )
        )
        # Once in the group, the user can be named and approves.
        self.salesman_2.groups_id += self.env.ref(
            "sales_order_flow.group_sale_flow_approver"
        )
        self.rule.with_user(self.manager).approver_user_ids = self.salesman_2
        order = self._create_order(discount=20.0)
        order.with_user(self.salesman).action_flow_request_approval()
        self.assertEqual(order.flow_approver_user_ids, self.salesman_2)
        order.with_user(self.salesman_2).action_flow_approve()
        self.assertEqual(order.flow_approval_state, "approved")

    def test_approver_leaving_the_group_is_not_asked(self):
        order = self._create_order(discount=20.0)
        self.approver.groups_id -= self.env.ref(
            "sales_order_flow.group_sale_flow_approver"
        )
        order.with_user(self.salesman).action_flow_request_approval()
        self.assertFalse(order.flow_approver_user_ids)
        with self.assertRaisesRegex(UserError, "no active approver"):
            order.with_user(self.manager).action_flow_approve()

    # ------------------------------------------------------------------
    # Point 15: rules without approvers
    # ------------------------------------------------------------------
    def test_rule_without_approver_refused_without_approver_fields(self):
        Rule = self.env["sale.flow.approval.rule"].with_user(self.manager)
        with (
            self.assertRaisesRegex(ValidationError, "has no approver"),
            self.env.cr.savepoint(),
        ):
            # What an RPC caller sends: no approver field at all.
            Rule.create({"name": "Nobody", "check_amount": True, "min_amount": 1.0})
        with (
            self.assertRaisesRegex(ValidationError, "has no approver"),
            self.env.cr.savepoint(),
        ):
            self.rule.with_user(self.manager).approver_user_ids = False


@tagged("post_install", "-at_install")
class TestApprovalRpc(HttpCase, ApprovalSecurityCommon):
    """The same attacks over real XML-RPC, as a salesperson with a password."""

    def _rpc(self, user, model, method, *args, **kwargs):
        return self.xmlrpc_object.execute_kw(
            self.env.cr.dbname, user.id, user.login, model, method, list(args), kwargs
        )

    def test_rpc_forged_state_refused(self):
        order = self._create_order(discount=20.0)
        with self.assertRaisesRegex(xmlrpc.client.Fault, "Request Approval"):
            self._rpc(
                self.salesman,
                "sale.order",
                "write",
                [order.id],
                {"flow_approval_state": "approved"},
                context={OLD_WRITE_KEY: True},
            )
        order.invalidate_recordset()
        self.assertEqual(order.flow_approval_state, "to_request")
        with self.assertRaisesRegex(xmlrpc.client.Fault, "needs approval"):
            self._rpc(self.salesman, "sale.order", "action_confirm", [order.id])
        order.invalidate_recordset()
        self.assertEqual(order.state, "draft")

    def test_rpc_discount_raised_with_skip_key_resets(self):
        order = self._approved_order()
        self._rpc(
            self.salesman,
            "sale.order.line",
            "write",
            order.order_line.ids,
            {"discount": 40.0},
            context={OLD_SKIP_KEY: True, OLD_APPLYING_KEY: True},
        )
        order.invalidate_recordset()
        self.assertEqual(order.order_line.discount, 40.0)
        self.assertEqual(order.flow_approval_state, "to_request")
        with self.assertRaisesRegex(xmlrpc.client.Fault, "needs approval"):
            self._rpc(
                self.salesman,
                "sale.order",
                "action_confirm",
                [order.id],
                context={OLD_SKIP_KEY: True, OLD_WRITE_KEY: True},
            )
        order.invalidate_recordset()
        self.assertEqual(order.state, "draft")

    def test_rpc_approval_actions_answer(self):
        order = self._create_order(discount=20.0)
        self.assertIs(
            self._rpc(
                self.salesman, "sale.order", "action_flow_request_approval", [order.id]
            ),
            True,
        )
        action = self._rpc(
            self.approver, "sale.order", "action_flow_reject", [order.id]
        )
        self.assertEqual(action["res_model"], "sale.flow.approval.reject")
        wizard_id = self._rpc(
            self.approver,
            "sale.flow.approval.reject",
            "create",
            {"reason": "Too generous"},
            context=action["context"],
        )
        self.assertIsInstance(
            self._rpc(
                self.approver, "sale.flow.approval.reject", "action_reject", [wizard_id]
            ),
            dict,
        )
        order.invalidate_recordset()
        self.assertEqual(order.flow_approval_state, "rejected")
        self._rpc(
            self.salesman, "sale.order", "action_flow_request_approval", [order.id]
        )
        self.assertIs(
            self._rpc(self.approver, "sale.order", "action_flow_approve", [order.id]),
            True,
        )
        order.invalidate_recordset()
        self.assertEqual(order.flow_approval_state, "approved")

    def test_rpc_rule_without_approver_refused(self):
        with self.assertRaisesRegex(xmlrpc.client.Fault, "has no approver"):
            self._rpc(
                self.manager,
                "sale.flow.approval.rule",
                "create",
                {"name": "Nobody", "check_amount": True, "min_amount": 1.0},
            )

    def test_rpc_search_current_approvers_bad_value(self):
        with self.assertRaisesRegex(xmlrpc.client.Fault, "give user ids"):
            self._rpc(
                self.approver,
                "sale.order",
                "search",
                [("flow_approver_user_ids", "in", "Alice")],
            )

    def test_portal_accept_and_payment_reevaluate_the_rules(self):
        order = self._approved_order()
        order.write({"require_signature": True, "require_payment": False})
        order._portal_ensure_token()
        self._make_stale(order, 40.0)
        result = self.make_jsonrpc_request(
            f"/my/orders/{order.id}/accept",
            {
                "access_token": order.access_token,
                "name": "Pia Portal",
                "signature": PIXEL_PNG,
            },
        )
        self.assertIn("being reviewed on our side", result["error"])
        order.invalidate_recordset()
        self.assertEqual(order.state, "draft")
        self.assertFalse(order.signature)
        self.assertEqual(order.flow_approval_state, "to_request")
