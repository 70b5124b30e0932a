from odoo import fields, models


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    # ---- returns (issue 12) ----
    flow_return_line_id = fields.Many2one(
        "sale.flow.return.line",
        string="Return Line",
        index="btree_not_null",
        copy=False,
        readonly=True,
    )
    flow_return_kind = fields.Selection(
        [
            ("refund", "Refund"),
            ("fee", "Restocking Fee"),
            ("difference", "Exchange Difference"),
        ],
        string="Return Item",
        copy=False,
        readonly=True,
    )

    def _flow_reversal_key(self):
        """What a reversal copies of an invoice line: matches a credit note
        line to the invoice line it reverses."""
        self.ensure_one()
        return (
            self.product_id.id,
            tuple(self.sale_line_ids.ids),
            self.price_unit,
            self.quantity,
        )
