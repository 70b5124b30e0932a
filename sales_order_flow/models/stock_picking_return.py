from odoo import fields, models


class StockPicking(models.Model):
    _inherit = "stock.picking"

    # ---- returns (issue 12) ----
    flow_return_id = fields.Many2one(
        "sale.flow.return",
        string="Return (RMA)",
        index="btree_not_null",
        copy=False,
        readonly=True,
    )
    flow_return_count = fields.Integer(
        string="Return Requests", compute="_compute_flow_return_count"
    )

    def _compute_flow_return_count(self):
        groups = self.env["sale.flow.return.line"]._read_group(
            [("origin_picking_id", "in", self.ids)],
            ["origin_picking_id"],
            ["return_id:count_distinct"],
        )
        counts = {picking.id: count for picking, count in groups}
        for picking in self:
            counts.setdefault(picking.id, 0)
            picking.flow_return_count = counts[picking.id] + bool(
                picking.flow_return_id
            )

    def _flow_portal_return_status(self):
        """``{open, message}``: whether the customer may request a return of
        this delivery now, else why not (portal order page)."""
        self.ensure_one()
        Return = self.env["sale.flow.return"]
        return Return._flow_returnable_status(
            Return._flow_returnable_rows(self.move_ids)
        )

    def _flow_confirm(self):
        self.action_confirm()
        self.action_assign()
        return self

    def _create_backorder(self, backorder_moves=None):
        backorders = super()._create_backorder(backorder_moves=backorder_moves)
        for backorder in backorders:
            if backorder.backorder_id.flow_return_id:
                backorder.flow_return_id = backorder.backorder_id.flow_return_id
        return backorders

    def _action_done(self):
        result = super()._action_done()
        lines = self.move_ids.flow_return_line_id | self.move_ids.flow_exchange_line_id
        if lines:
            # sudo: the returns follow their receipts and replacements, whoever
            # validates them (a stock user has no write access on returns)
            lines.sudo().return_id._flow_update_state()
        return result

    def action_flow_view_returns(self):
        self.ensure_one()
        returns = (
            self.env["sale.flow.return.line"]
            .search([("origin_picking_id", "=", self.id)])
            .return_id
            | self.flow_return_id
        )
        return self.env["sale.flow.return"]._flow_returns_action(returns)

    def action_flow_create_return(self):
        self.ensure_one()
        Return = self.env["sale.flow.return"]
        return Return._flow_new_return_action(
            self.partner_id,
            Return._flow_lines_from_moves(self.move_ids),
            sale_order_ids=self.sale_id.ids,
        )
