from odoo import fields
from odoo.tests import HttpCase, tagged

from .commission_common import SaleFlowCommissionCommon


@tagged("post_install", "-at_install")
class TestIntegratorRpc(HttpCase, SaleFlowCommissionCommon):
    """What docs/API.md tells integrators, over real XML-RPC, each call as the
    role that does it (issue 9, points 14 to 16): the salesperson sells and
    invoices, the stock user delivers (with a backorder), the accountant posts
    and settles the commissions."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # invoiced as delivered: the invoice follows the picking
        cls.product.invoice_policy = "delivery"

    def _rpc(self, user, model, method, *args, **kwargs):
        # test users' password is their login
        return self.xmlrpc_object.execute_kw(
            self.env.cr.dbname, user.id, user.login, model, method, list(args), kwargs
        )

    def test_deliver_invoice_and_settle_over_rpc(self):
        order_id = self._rpc(
            self.salesman,
            "sale.order",
            "create",
            {
                "partner_id": self.customer.id,
                "order_line": [
                    (0, 0, {"product_id": self.product.id, "product_uom_qty": 3})
                ],
            },
        )
        self.assertIs(
            self._rpc(self.salesman, "sale.order", "action_confirm", [order_id]), True
        )
        # deliver 2 of 3 as the stock user, keeping a backorder for the rest
        picking_ids = self._rpc(
            self.stock_user, "stock.picking", "search", [("sale_id", "=", order_id)]
        )
        self.assertEqual(len(picking_ids), 1)
        moves = self._rpc(
            self.stock_user,
            "stock.move",
            "search_read",
            [
                ("picking_id", "in", picking_ids),
                ("state", "not in", ("done", "cancel")),
            ],
            fields=["product_uom_qty"],
        )
        for move in moves:
            self._rpc(
                self.stock_user,
                "stock.move",
                "write",
                [move["id"]],
                {"quantity": move["product_uom_qty"] - 1, "picked": True},
            )
        result = self._rpc(
            self.stock_user, "stock.picking", "button_validate", picking_ids
        )
        self.assertEqual(result["res_model"], "stock.backorder.confirmation")
        context = result["context"]
        wizard_id = self._rpc(
            self.stock_user,
            "stock.backorder.confirmation",
            "create",
            {"pick_ids": [(6, 0, picking_ids)]},
            context=context,
        )
        self._rpc(
            self.stock_user,
            "stock.backorder.confirmation",
            "process",
            [wizard_id],
            context=context,
        )
        order = self.env["sale.order"].browse(order_id)
        self.assertEqual(order.order_line.qty_delivered, 2.0)
        self.assertEqual(len(order.picking_ids), 2, "a backorder for the last one")
        # the salesperson invoices what was delivered, the accountant posts
        context = {"active_model": "sale.order", "active_ids": [order_id]}
        wizard_id = self._rpc(
            self.salesman,
            "sale.advance.payment.inv",
            "create",
            {"advance_payment_method": "delivered"},
            context=context,
        )
        self._rpc(
            self.salesman,
            "sale.advance.payment.inv",
            "create_invoices",
            [wizard_id],
            context=context,
        )
        invoice_ids = self._rpc(
            self.salesman, "sale.order", "read", [order_id], ["invoice_ids"]
        )[0]["invoice_ids"]
        self.assertEqual(len(invoice_ids), 1)
        self._rpc(self.accountant, "account.move", "action_post", invoice_ids)
        invoice = self.env["account.move"].browse(invoice_ids)
        self.assertEqual(invoice.state, "posted")
        self.assertEqual(invoice.amount_untaxed, 200.0)
        self.assertRecordValues(
            self._commissions(invoice), [{"agent_id": self.agent.id, "amount": 20.0}]
        )
        # the accountant settles the month with the vendor bill
        wizard_id = self._rpc(
            self.accountant,
            "sale.flow.commission.settle",
            "create",
            {
                "period_type": "month",
                "period_date": fields.Date.to_string(invoice.invoice_date),
                "agent_ids": [(6, 0, self.agent.ids)],
                "create_bills": True,
            },
        )
        action = self._rpc(
            self.accountant, "sale.flow.commission.settle", "action_settle", [wizard_id]
        )
        settlement_ids = self._rpc(
            self.accountant,
            "sale.flow.commission.settlement",
            "search",
            action["domain"],
        )
        settlement = self.env["sale.flow.commission.settlement"].browse(settlement_ids)
        self.assertRecordValues(
            settlement, [{"state": "invoiced", "amount_total": 20.0}]
        )
        # the bill cancelled, the settlement is freed; cancelling answers True
        self.assertIs(
            self._rpc(
                self.accountant,
                "account.move",
                "button_cancel",
                settlement.invoice_id.ids,
            ),
            True,
        )
        self.assertIs(
            self._rpc(
                self.accountant,
                "sale.flow.commission.settlement",
                "action_cancel",
                settlement_ids,
            ),
            True,
        )
        self.assertEqual(settlement.state, "cancel")
