from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from .approval_common import ApprovalCommon


@tagged("post_install", "-at_install")
class TestAccessRights(ApprovalCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.portal_user = new_test_user(
            cls.env, login="flow_portal_rights", groups="base.group_portal"
        )
        cls.rule = (
            cls.env["sale.flow.approval.rule"]
            .with_user(cls.manager)
            .create(
                {
                    "name": "Discounts",
                    "check_discount": True,
                    "min_discount": 10.0,
                    "approver_user_ids": [Command.link(cls.approver.id)],
                }
            )
        )
        cls.order = cls._create_order(discount=20.0)

    def test_salesman_reads_rules_but_cannot_change_them(self):
        rule = self.rule.with_user(self.salesman)
        self.assertEqual(rule.name, "Discounts")
        with self.assertRaises(AccessError):
            rule.write({"min_discount": 50.0})
        with self.assertRaises(AccessError):
            self.env["sale.flow.approval.rule"].with_user(self.salesman).create(
                {"name": "Mine", "check_discount": True, "min_discount": 1.0}
            )

    def test_salesman_cannot_approve_own_quotation(self):
        order = self.order.with_user(self.salesman)
        order.action_flow_request_approval()
        with self.assertRaises(AccessError):
            order.flow_approval_ids.write({"state": "approved"})
        with self.assertRaises(UserError):
            order.action_flow_approve()
        with self.assertRaises(UserError):
            order.write({"flow_approval_state": "approved"})
        self.assertEqual(self.order.flow_approval_state, "pending")

    def test_manager_configures_rules_and_mass_quotations(self):
        rule = self.env["sale.flow.approval.rule"].with_user(self.manager)
        rule.create(
            {
                "name": "Big",
                "check_amount": True,
                "min_amount": 10.0,
                "approver_user_ids": [Command.link(self.approver.id)],
            }
        )
        runs = self.env["sale.flow.mass.quotation"].with_user(self.manager)
        self.assertFalse(runs.search([("id", "<", 0)]))

    def test_salesman_has_no_mass_quotations(self):
        with self.assertRaises(AccessError):
            self.env["sale.flow.mass.quotation"].with_user(self.salesman).search([])

    def test_accountant_reads_approvals_and_po_on_invoices(self):
        self.order.with_user(self.salesman).action_flow_request_approval()
        approvals = self.order.flow_approval_ids.with_user(self.accountant)
        self.assertEqual(approvals.mapped("state"), ["pending"])
        with self.assertRaises(AccessError):
            approvals.write({"state": "approved"})

    def test_portal_sees_no_internal_models(self):
        for model in (
            "sale.flow.approval.rule",
            "sale.flow.order.approval",
            "sale.flow.mass.quotation",
        ):
            with self.assertRaises(AccessError):
                self.env[model].with_user(self.portal_user).search([])

    def test_rules_of_another_company_are_invisible(self):
        other_company = self.env["res.company"].create({"name": "Flow Other Co"})
        other_rule = self.env["sale.flow.approval.rule"].create(
            {
                "name": "Other company rule",
                "company_id": other_company.id,
                "check_amount": True,
                "min_amount": 1.0,
                "approver_user_ids": [Command.link(self.manager.id)],
            }
        )
        visible = (
            self.env["sale.flow.approval.rule"]
            .with_user(self.salesman)
            .search([("name", "=", "Other company rule")])
        )
        self.assertFalse(visible)
        # and it does not apply to this company's quotations
        order = self._create_order(product=self.service)
        self.assertNotIn(other_rule, order.flow_approval_ids.rule_id)
