from odoo import fields, models


class StockReturnPickingLine(models.TransientModel):
    _inherit = "stock.return.picking.line"

    # ---- returns (issue 12) ----
    flow_return_line_id = fields.Many2one("sale.flow.return.line", string="Return Line")

    def _prepare_move_default_values(self, new_picking):
        values = super()._prepare_move_default_values(new_picking)
        if self.flow_return_line_id:
            values["flow_return_line_id"] = self.flow_return_line_id.id
        return values
