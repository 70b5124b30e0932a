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

    def _prepare_merge_moves_distinct_fields(self):
        # two return lines of one delivered move keep their own moves: each
        # line is received (and refunded or not) on its own
        return [
            *super()._prepare_merge_moves_distinct_fields(),
            "flow_return_line_id",
            "flow_exchange_line_id",
        ]
