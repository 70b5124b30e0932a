"""Committed delivery dates per line and what is still to deliver."""

from datetime import timedelta

from odoo import api, fields, models


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    flow_commitment_date = fields.Datetime(
        string="Committed Delivery",
        copy=False,
        help="Delivery date committed to the customer for this line, when it "
        "differs from the order's.",
    )
    flow_commitment_date_effective = fields.Datetime(
        string="Committed Date",
        compute="_compute_flow_commitment_date_effective",
        store=True,
        index=True,
        help="The line's committed date, else the order's, else the order date "
        "plus the line's lead time.",
    )
    flow_qty_to_deliver = fields.Float(
        string="Still to Deliver",
        compute="_compute_flow_qty_to_deliver",
        store=True,
        digits="Product Unit of Measure",
    )

    @api.depends(
        "flow_commitment_date",
        "order_id.commitment_date",
        "order_id.date_order",
        "customer_lead",
    )
    def _compute_flow_commitment_date_effective(self):
        for line in self:
            line.flow_commitment_date_effective = (
                line.flow_commitment_date
                or line.order_id.commitment_date
                or (
                    line.order_id.date_order
                    and line.order_id.date_order
                    + timedelta(days=line.customer_lead or 0.0)
                )
            )

    @api.depends("state", "product_uom_qty", "qty_delivered", "display_type")
    def _compute_flow_qty_to_deliver(self):
        for line in self:
            if line.state == "sale" and not line.display_type:
                line.flow_qty_to_deliver = max(
                    line.product_uom_qty - line.qty_delivered, 0.0
                )
            else:
                line.flow_qty_to_deliver = 0.0

    def _prepare_procurement_values(self, group_id=False):
        # A line's own committed date drives its stock move's deadline.
        values = super()._prepare_procurement_values(group_id=group_id)
        if self.flow_commitment_date:
            values["date_deadline"] = self.flow_commitment_date
            values["date_planned"] = self.flow_commitment_date - timedelta(
                days=self.order_id.company_id.security_lead
            )
        return values
