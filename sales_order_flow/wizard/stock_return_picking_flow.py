from odoo import fields, models


class StockReturnPicking(models.TransientModel):
    _inherit = "stock.return.picking"

    # ---- returns (issue 12) ----
    flow_return_id = fields.Many2one("sale.flow.return", string="Return (RMA)")

    def _prepare_picking_default_values(self):
        values = super()._prepare_picking_default_values()
        location = self.flow_return_id.return_location_id
        if location:
            values["location_dest_id"] = location.id
        if self.flow_return_id:
            values["origin"] = self.env._(
                "%(rma)s: return of %(picking)s",
                rma=self.flow_return_id.name,
                picking=self.picking_id.name,
            )
        return values
