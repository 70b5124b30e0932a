from odoo import fields, models


class StockMove(models.Model):
    _inherit = "stock.move"

    # ---- returns (issue 12) ----
    # copied: a backorder of a partly received return keeps its line
    flow_return_line_id = fields.Many2one(
        "sale.flow.return.line",
        string="Return Line",
        index="btree_not_null",
        copy=True,
        readonly=True,
    )
    flow_exchange_line_id = fields.Many2one(
        "sale.flow.return.line",
        string="Replaced Return Line",
        index="btree_not_null",
        copy=True,
        readonly=True,
    )
