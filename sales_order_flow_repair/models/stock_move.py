from odoo import fields, models


class StockMove(models.Model):
    _inherit = "stock.move"

    flow_repair_line_id = fields.Many2one(
        "sale.flow.return.line",
        string="Repaired Return Line",
        index="btree_not_null",
        copy=True,
        readonly=True,
        help="The return line whose repaired goods this move sends back.",
    )

    def _prepare_merge_moves_distinct_fields(self):
        return [*super()._prepare_merge_moves_distinct_fields(), "flow_repair_line_id"]
