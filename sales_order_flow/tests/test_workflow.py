import logging

from odoo import Command
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from .common import SaleFlowCommon

_logger = logging.getLogger(__name__)


@tagged("post_install", "-at_install")
class TestWorkflow(SaleFlowCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Workflow = cls.env["sale.flow.workflow"]
        # the tests' own profiles: no demo default decides
        Workflow.search([]).is_default = False
        cls.manual = Workflow.create({"name": "Manual", "is_default": True})
        cls.on_delivery = Workflow.create(
            {
                "name": "Invoice on delivery",
                "auto_confirm": True,
                "invoice_policy": "delivery",
                "post_invoice": True,
            }
        )
        cls.prepaid = Workflow.create(
            {
                "name": "Prepaid",
                "auto_confirm": True,
                "invoice_policy": "prepaid",
                "post_invoice": True,
            }
        )
        cls.product.invoice_policy = "delivery"
        cls.customer.flow_workflow_id = cls.on_delivery

    def _run(self):
        before = self.env["account.move"].search([])
        self.env["sale.order"]._cron_flow_workflow()
        return self.env["account.move"].search([]) - before

    def _order(self, partner=None, **values):
        order = (
            self.env["sale.order"]
            .with_user(self.salesman)
            .create(
                {
                    "partner_id": (partner or self.customer).id,
                    "user_id": self.salesman.id,
                    "team_id": self.team.id,
                    "order_line": [
                        Command.create(
                            {"product_id": self.product.id, "product_uom_qty": 10}
                        ),
                        Command.create(
                            {"product_id": self.service.id, "product_uom_qty": 2}
                        ),
                    ],
                    **values,
                }
            )
        )
        return order.with_env(self.env)

    def _deliver(self, order, qty):
        """The warehouse ships ``qty`` of the goods (a backorder for the rest)."""
        picking = order.picking_ids.filtered(
            lambda p: p.state not in ("done", "cancel")
        )
        picking = picking.with_user(self.stock_user)
        picking.move_ids.quantity = qty
        picking.move_ids.picked = True
        picking.with_context(skip_backorder=True).button_validate()
        return picking

    def test_profile_resolution_and_next_step(self):
        other = self.env["res.partner"].create({"name": "No Profile Customer"})
        order = self._order(partner=other)
        self.assertEqual(order.flow_workflow_id, self.manual)
        self.team.flow_workflow_id = self.prepaid
        self.assertEqual(self._order(partner=other).flow_workflow_id, self.prepaid)
        self.assertEqual(self._order().flow_workflow_id, self.on_delivery)
        self.team.flow_workflow_id = False
        term = self.env.ref("account.account_payment_term_immediate")
        term.flow_workflow_id = self.prepaid
        self.assertEqual(
            self._order(partner=other, payment_term_id=term.id).flow_workflow_id,
            self.prepaid,
        )
        order = self._order()
        self.assertEqual(
            order.flow_workflow_next_step, "Confirm when the customer's PO is entered"
        )
        with self.assertRaises(ValidationError):
            self.env["sale.flow.workflow"].create(
                {"name": "Second", "is_default": True}
            )

    def test_auto_confirm_when_po_and_approved(self):
        waiting = self._order()
        with_po = self._order(client_order_ref="PO-1")
        pending = self._order(client_order_ref="PO-2")
        pending.flow_approval_state = "pending"
        self._run()
        self.assertEqual(waiting.state, "draft")
        self.assertEqual(pending.state, "draft")
        self.assertEqual(with_po.state, "sale")
        self.assertEqual(with_po.flow_workflow_step_ids.mapped("key"), ["confirm"])
        waiting.with_user(self.salesman).client_order_ref = "PO-3"
        self._run()
        self._run()
        self.assertEqual(waiting.state, "sale")
        self.assertEqual(len(waiting.flow_workflow_step_ids), 1)
        self.assertEqual(
            waiting.flow_workflow_next_step, "Invoice each validated delivery"
        )

    def test_invoice_on_partial_then_final_delivery(self):
        order = self._order(client_order_ref="PO-7")
        self._run()
        self.assertFalse(order.invoice_ids)
        self._deliver(order, 4)
        first = self._run()
        self.assertEqual(len(first), 1)
        self.assertEqual(first.state, "posted")
        self.assertEqual(
            sorted(
                first.invoice_line_ids.mapped(
                    lambda aml: (aml.product_id, aml.quantity)
                )
            ),
            sorted([(self.product, 4.0), (self.service, 2.0)]),
        )
        self.assertFalse(self._run())
        self._deliver(order, 6)
        final = self._run()
        self.assertEqual(len(final), 1)
        self.assertEqual(
            final.invoice_line_ids.mapped(lambda aml: (aml.product_id, aml.quantity)),
            [(self.product, 6.0)],
        )
        self.assertAlmostEqual(final.amount_untaxed, 600.0)
        self.assertFalse(self._run())
        self.assertEqual(order.invoice_status, "invoiced")
        self.assertEqual(len(order.invoice_ids), 2)
        self.assertEqual(order.flow_workflow_next_step, "Nothing more")

    def test_prepaid_ships_when_paid(self):
        self.customer.flow_workflow_id = self.prepaid
        order = self._order(client_order_ref="PO-9")
        invoice = self._run()
        self.assertEqual(order.state, "sale")
        self.assertEqual(invoice.state, "posted")
        self.assertEqual(invoice, order.flow_workflow_prepaid_move_id)
        # ordered quantities, before any delivery
        self.assertAlmostEqual(invoice.amount_untaxed, 10 * 100.0 + 2 * 50.0)
        picking = order.picking_ids.with_user(self.stock_user)
        with self.assertRaisesRegex(UserError, "waits for the payment"):
            picking.button_validate()
        self._run()
        self.assertFalse(order.flow_workflow_released)
        (
            self.env["account.payment.register"]
            .with_user(self.accountant)
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({})
            ._create_payments()
        )
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertFalse(self._run())
        self.assertTrue(order.flow_workflow_released)
        picking.button_validate()
        self.assertEqual(picking.state, "done")
        # nothing is invoiced again
        self.assertFalse(self._run())
        self.assertEqual(order.invoice_ids, invoice)

    def test_send_invoice(self):
        self.on_delivery.send_invoice = True
        order = self._order(client_order_ref="PO-11")
        self._run()
        self._deliver(order, 10)
        invoice = self._run()
        self.assertTrue(invoice.is_move_sent)
        self.assertFalse(invoice.flow_workflow_send_pending)
        self.assertIn(f"send:{invoice.id}", order.flow_workflow_step_ids.mapped("key"))

    def test_one_bad_order_among_ten(self):
        account = self.env["account.account"].create(
            {"name": "Old Goods Income", "code": "FLOW798", "account_type": "income"}
        )
        bad_product = self.env["product.product"].create(
            {
                "name": "Goods on an old account",
                "type": "consu",
                "invoice_policy": "delivery",
                "list_price": 100.0,
                "taxes_id": [Command.clear()],
                "property_account_income_id": account.id,
            }
        )
        orders = self.env["sale.order"]
        for index in range(10):
            orders |= self._order(client_order_ref=f"PO-B{index}")
        bad = orders[6]
        bad.order_line[0].product_id = bad_product
        self._run()
        self.assertEqual(set(orders.mapped("state")), {"sale"})
        for order in orders:
            self._deliver(order, 10)
        account.deprecated = True
        moves = self._run()
        self.assertEqual(len(moves), 9)
        self.assertEqual(moves.line_ids.sale_line_ids.order_id, orders - bad)
        self.assertFalse(bad.invoice_ids)
        self.assertIn("deprecated", bad.flow_workflow_exception)
        self.assertEqual(len(bad.activity_ids), 1)
        self.assertIn(
            bad,
            self.env["sale.order"].search([("flow_workflow_exception", "!=", False)]),
        )
        self.assertEqual(
            bad.flow_workflow_next_step, "Retry after the exception is solved"
        )
        # not fixed: retried, fails again, still one activity
        self.assertFalse(self._run())
        self.assertEqual(len(bad.activity_ids), 1)
        account.deprecated = False
        retried = self._run()
        self.assertEqual(retried.line_ids.sale_line_ids.order_id, bad)
        self.assertFalse(bad.flow_workflow_exception)
        self.assertFalse(self._run())

    def test_queries_per_order_do_not_grow(self):
        def delivered(count):
            orders = self.env["sale.order"].create(
                [
                    {
                        "partner_id": self.customer.id,
                        "user_id": self.salesman.id,
                        "order_line": [
                            Command.create(
                                {"product_id": self.product.id, "product_uom_qty": 2}
                            )
                        ],
                    }
                    for _index in range(count)
                ]
            )
            orders.action_confirm()
            pickings = orders.picking_ids
            pickings.move_ids.quantity = 2
            pickings.move_ids.picked = True
            pickings.button_validate()
            return orders

        delivered(2)
        self._run()  # warm-up
        counts = {}
        for count in (5, 25):
            orders = delivered(count)
            with self._count_queries() as result:
                moves = self._run()
            self.assertEqual(len(moves), count)
            self.assertEqual(orders.mapped("invoice_status"), ["invoiced"] * count)
            counts[count] = result["count"]
        _logger.info("workflow cron queries: %s", counts)
        self.assertLessEqual(counts[25] / 25, counts[5] / 5, counts)
