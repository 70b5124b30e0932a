from ast import literal_eval
from datetime import datetime

from odoo.tests import tagged

from .common import SaleFlowCommon


@tagged("post_install", "-at_install")
class TestDeliveryCommitment(SaleFlowCommon):
    def test_line_date_defaults_to_order_commitment(self):
        order = self._create_order(lines=2, commitment_date=datetime(2026, 12, 10, 8))
        order.order_line[1].flow_commitment_date = datetime(2026, 12, 20, 8)
        self.assertEqual(
            order.order_line.mapped("flow_commitment_date_effective"),
            [datetime(2026, 12, 10, 8), datetime(2026, 12, 20, 8)],
        )

    def test_to_deliver_follows_deliveries(self):
        order = self._create_order(qty=5, commitment_date=datetime(2026, 12, 10, 8))
        line = order.order_line
        self.assertEqual(line.flow_qty_to_deliver, 0, "quotations are not to deliver")
        order.action_confirm()
        self.assertEqual(line.flow_qty_to_deliver, 5)
        picking = order.picking_ids
        picking.move_ids.quantity = 2
        picking.move_ids.picked = True
        picking.with_context(
            skip_backorder=True, picking_ids_not_to_backorder=[]
        ).button_validate()
        self.assertEqual(line.qty_delivered, 2)
        self.assertEqual(line.flow_qty_to_deliver, 3)
        action = self.env.ref("sales_order_flow.sale_order_line_to_deliver_action")
        lines = self.env["sale.order.line"].search(literal_eval(action.domain))
        self.assertIn(line, lines)

    def test_line_date_drives_stock_deadline(self):
        order = self._create_order(lines=2, commitment_date=datetime(2026, 12, 10, 8))
        order.order_line[1].flow_commitment_date = datetime(2026, 12, 20, 8)
        order.action_confirm()
        moves = order.order_line.move_ids
        self.assertEqual(
            sorted(moves.mapped("date_deadline")),
            [datetime(2026, 12, 10, 8), datetime(2026, 12, 20, 8)],
        )
