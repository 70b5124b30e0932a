"""Sale order line: the order in which the concerns of the flow run
when lines are created, written or removed."""

from odoo import api, models


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    # ------------------------------------------------------------------
    # Approval: re-evaluate the order's rules when its lines change
    # ------------------------------------------------------------------
    _FLOW_APPROVAL_LINE_FIELDS = frozenset(
        {
            "product_id",
            "product_uom_qty",
            "product_uom",
            "price_unit",
            "discount",
            "flow_discount_1",
            "flow_discount_2",
            "flow_discount_3",
            "purchase_price",
            "tax_id",
            "display_type",
            "order_id",
        }
    )

    @api.model_create_multi
    def create(self, vals_list):
        vals_list = self._flow_discount_before_create(vals_list)
        lines = super().create(vals_list)
        # Discount rules first: approval rules judge the resulting discounts.
        lines._flow_discount_after_create(vals_list)
        lines._flow_agreement_after_create(vals_list)
        lines.order_id._flow_trigger_approval_evaluation()
        return lines

    def write(self, vals):
        # Lines moved to another order change the figures of both orders.
        previous_orders = self.order_id if "order_id" in vals else self.order_id[:0]
        vals = self._flow_discount_before_write(vals)
        res = super().write(vals)
        self._flow_discount_after_write(vals)
        if not self._FLOW_APPROVAL_LINE_FIELDS.isdisjoint(vals):
            (self.order_id | previous_orders)._flow_trigger_approval_evaluation()
        return res

    def unlink(self):
        orders = self.order_id
        res = super().unlink()
        orders.exists()._flow_trigger_approval_evaluation()
        return res
