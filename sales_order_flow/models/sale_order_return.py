from odoo import fields, models
from odoo.exceptions import UserError


class SaleOrder(models.Model):
    _inherit = "sale.order"

    # ---- returns (issue 12) ----
    flow_return_ids = fields.Many2many(
        "sale.flow.return",
        "sale_flow_return_sale_order_rel",
        "order_id",
        "return_id",
        string="Returns",
        copy=False,
        readonly=True,
    )
    flow_return_count = fields.Integer(
        string="Return Count", compute="_compute_flow_return_count"
    )

    def _compute_flow_return_count(self):
        groups = self.env["sale.flow.return"]._read_group(
            [("sale_order_ids", "in", self.ids)], ["sale_order_ids"], ["__count"]
        )
        counts = {order.id: count for order, count in groups}
        for order in self:
            order.flow_return_count = counts.get(order.id, 0)

    def _flow_portal_return_status(self):
        """``{open, message}``: whether the customer may request a return of
        this order now (portal order page)."""
        self.ensure_one()
        Return = self.env["sale.flow.return"]
        return Return._flow_returnable_status(
            Return._flow_returnable_rows(self.order_line.move_ids)
        )

    def action_flow_view_returns(self):
        self.ensure_one()
        return self.env["sale.flow.return"]._flow_returns_action(
            self.flow_return_ids,
            {
                "default_partner_id": self.partner_id.id,
                "default_sale_order_ids": self.ids,
            },
        )

    def action_flow_create_return(self):
        self.ensure_one()
        Return = self.env["sale.flow.return"]
        lines = Return._flow_lines_from_moves(self.order_line.move_ids)
        if not lines:
            raise UserError(
                self.env._(
                    "Nothing of %(order)s is delivered and still returnable: "
                    "there is nothing to return from it.",
                    order=self.name,
                )
            )
        return Return._flow_new_return_action(
            self.partner_id, lines, sale_order_ids=self.ids
        )
