import logging

from odoo import Command
from odoo.tests import tagged

from .approval_common import ApprovalCommon

_logger = logging.getLogger(__name__)


@tagged("post_install", "-at_install")
class TestApprovalPerformance(ApprovalCommon):
    """Evaluating the approval rules and confirming an approved quotation cost
    the same number of queries at 10 and at 100 lines."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Rule = cls.env["sale.flow.approval.rule"]
        Rule.search([]).active = False
        # The sales manager configures the rules.
        Rule = Rule.with_user(cls.manager)
        approvers = [Command.set(cls.approver.ids)]
        Rule.create(
            [
                {
                    "name": "Discount",
                    "check_discount": True,
                    "min_discount": 10.0,
                    "approver_user_ids": approvers,
                },
                {
                    "name": "Line margin",
                    "check_margin": True,
                    "min_margin": 5.0,
                    "margin_scope": "line",
                    "approver_user_ids": approvers,
                },
                {
                    "name": "Team",
                    "team_ids": [Command.set(cls.team.ids)],
                    "check_amount": True,
                    "min_amount": 1_000_000.0,
                    "level": 2,
                    "approver_user_ids": approvers,
                },
            ]
        )

    def _order(self, lines):
        order = self._create_order(lines=lines, product=self.service)
        return order.with_user(self.salesman)

    def _assert_same_count(self, operation):
        """Run ``operation`` on a warm-up order, then at 10 and 100 lines."""
        orders = {size: self._order(size) for size in (3, 10, 100)}
        # Warm-up in the same conditions as the measures (ormcaches filled).
        self.env.invalidate_all()
        operation(orders[3])
        counts = {}
        for size in (10, 100):
            self.env.invalidate_all()
            if size == 10:
                with self._count_queries() as counter:
                    operation(orders[size])
            else:
                with (
                    self.assertQueryCount(counts[10]),
                    self._count_queries() as counter,
                ):
                    operation(orders[size])
            counts[size] = counter["count"]
        self.assertEqual(counts[10], counts[100], counts)
        _logger.info(
            "%s: queries at 10 and 100 lines: %s", self._testMethodName, counts
        )
        return orders

    def test_evaluation_query_count(self):
        orders = self._assert_same_count(lambda order: order._flow_evaluate_approval())
        self.assertEqual(orders[100].flow_approval_state, "not_required")

    def test_discount_write_query_count(self):
        orders = self._assert_same_count(
            lambda order: order.order_line.write({"discount": 12.0})
        )
        self.assertEqual(orders[100].flow_approval_state, "to_request")
        self.assertEqual(orders[100].flow_approval_ids.rule_id.name, "Discount")

    def test_confirm_approved_query_count(self):
        def prepare(order):
            order.order_line.write({"discount": 12.0})
            order.action_flow_request_approval()
            order.with_user(self.approver).action_flow_approve()
            self.assertEqual(order.flow_approval_state, "approved")

        orders = {size: self._order(size) for size in (3, 10, 100)}
        for order in orders.values():
            prepare(order)
        self.env.invalidate_all()
        orders[3].action_confirm()
        counts = {}
        for size in (10, 100):
            self.env.invalidate_all()
            if size == 10:
                with self._count_queries() as counter:
                    orders[size].action_confirm()
            else:
                with (
                    self.assertQueryCount(counts[10]),
                    self._count_queries() as counter,
                ):
                    orders[size].action_confirm()
            counts[size] = counter["count"]
            self.assertEqual(orders[size].state, "sale")
        self.assertEqual(counts[10], counts[100], counts)
        _logger.info("action_confirm: queries at 10 and 100 lines: %s", counts)
