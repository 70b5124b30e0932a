from odoo import Command
from odoo.tests import tagged

from .return_common import SaleFlowReturnCommon


@tagged("post_install", "-at_install")
class TestReturnValuation(SaleFlowReturnCommon):
    """The returned stock's value follows Odoo's stock valuation: the receipt
    of a return is valued at the cost the goods left with (FIFO, automated
    valuation), not at today's cost, and books it back from stock output to
    stock valuation."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Account = cls.env["account.account"]

        def account(code, name, account_type):
            return Account.create(
                {"code": code, "name": name, "account_type": account_type}
            )

        cls.account_valuation = account(
            "110950", "Flow Stock Valuation", "asset_current"
        )
        cls.account_input = account("210950", "Flow Stock Input", "liability_current")
        cls.account_output = account("110960", "Flow Stock Output", "asset_current")
        stock_journal = cls.env["account.journal"].search(
            [("type", "=", "general"), ("company_id", "=", cls.company.id)], limit=1
        )
        cls.category_fifo = cls.env["product.category"].create(
            {
                "name": "Flow FIFO automated",
                "property_cost_method": "fifo",
                "property_valuation": "real_time",
                "property_stock_valuation_account_id": cls.account_valuation.id,
                "property_stock_account_input_categ_id": cls.account_input.id,
                "property_stock_account_output_categ_id": cls.account_output.id,
                "property_stock_journal": stock_journal.id,
            }
        )
        cls.product_valued = cls.env["product.product"].create(
            {
                "name": "Flow Valued Widget",
                "is_storable": True,
                "categ_id": cls.category_fifo.id,
                "list_price": 100.0,
                "invoice_policy": "delivery",
                "taxes_id": [Command.clear()],
            }
        )
        # 10 bought at 60.00, then 10 at 80.00: FIFO delivers the 60.00 ones
        cls._purchase(10.0, 60.0)

    @classmethod
    def _purchase(cls, qty, cost):
        warehouse = cls.warehouse
        receipt = cls.env["stock.picking"].create(
            {
                "picking_type_id": warehouse.in_type_id.id,
                "location_id": cls.env.ref("stock.stock_location_suppliers").id,
                "location_dest_id": warehouse.lot_stock_id.id,
                "move_ids": [
                    Command.create(
                        {
                            "name": "purchase",
                            "product_id": cls.product_valued.id,
                            "product_uom_qty": qty,
                            "price_unit": cost,
                            "location_id": cls.env.ref(
                                "stock.stock_location_suppliers"
                            ).id,
                            "location_dest_id": warehouse.lot_stock_id.id,
                        }
                    )
                ],
            }
        )
        receipt.action_confirm()
        receipt.move_ids.quantity = qty
        receipt.move_ids.picked = True
        receipt.button_validate()
        return receipt

    def _layers(self, moves):
        return self.env["stock.valuation.layer"].search(
            [("stock_move_id", "in", moves.ids)]
        )

    def test_returned_goods_valued_at_the_cost_they_left_with(self):
        order = self._sell(qty=10.0, product=self.product_valued)
        delivery = order.picking_ids.move_ids
        self.assertEqual(self._layers(delivery).value, -600.0)
        # the next goods cost more: the return must not take their cost
        self._purchase(10.0, 80.0)
        rma = self._approved([(order.order_line, 3.0, self.reason_defective)])
        receipt = self._receipt(rma)
        self.assertEqual(receipt.location_dest_id, self.quarantine)
        self._validate(receipt)
        layers = self._layers(receipt.move_ids)
        self.assertRecordValues(
            layers, [{"quantity": 3.0, "unit_cost": 60.0, "value": 180.0}]
        )
        # the valuation entry books the 180.00 back from output to valuation
        entry = layers.account_move_id
        self.assertEqual(entry.state, "posted")
        self.assertRecordValues(
            entry.line_ids.sorted("debit"),
            [
                {"account_id": self.account_output.id, "debit": 0.0, "credit": 180.0},
                {
                    "account_id": self.account_valuation.id,
                    "debit": 180.0,
                    "credit": 0.0,
                },
            ],
        )
        # stock value: 10 at 80.00 on hand + 3 returned at 60.00
        self.assertEqual(
            self.product_valued.with_company(self.company).value_svl, 980.0
        )
        self.assertEqual(self.product_valued.qty_available, 13.0)
        self.assertEqual(order.order_line.qty_delivered, 7.0)
        credit_note = self._refund(rma)
        self.assertEqual(credit_note.amount_untaxed, 300.0)
        self.assertEqual(rma.state, "processed")

    def test_goods_kept_back_without_refund_are_valued_too(self):
        order = self._sell(qty=10.0, product=self.product_valued)
        rma = self._approved(
            [
                (
                    order.order_line,
                    2.0,
                    self.reason_defective,
                    {"operation": "return_no_refund"},
                )
            ]
        )
        self._validate(self._receipt(rma))
        self.assertEqual(self._layers(rma.picking_ids.move_ids).value, 120.0)
        # no refund: the order keeps its delivered quantity
        self.assertEqual(order.order_line.qty_delivered, 10.0)
        self.assertFalse(rma.move_ids)
