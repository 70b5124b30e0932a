from odoo import fields, models
from odoo.tools import SQL


class ReversalLines(frozenset):
    """Ids of the invoice lines a return's reversal copies (context value of
    ``sale_flow_reversal_lines``). A reversal copies every line of the
    invoice; a return credits a few of them, so copying the rest only to
    delete it would cost a copy of the whole invoice per return. Only Python
    code can build this type (RPC carries lists), so a caller's context
    cannot cut another reversal down."""

    __slots__ = ()


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

    def _flow_link_return_lines(self, links):
        """Link journal items to return lines in one query, whatever their
        number: ``links`` is ``{item id: (return line id, kind)}``. The
        dependent quantities (refunded per return line) are recomputed."""
        if not links:
            return
        self.flush_model(["flow_return_line_id", "flow_return_kind"])
        self.env.cr.execute(
            SQL(
                "UPDATE account_move_line AS aml "
                "SET flow_return_line_id = v.line_id, flow_return_kind = v.kind "
                "FROM (VALUES %s) AS v(id, line_id, kind) WHERE aml.id = v.id",
                SQL(", ").join(
                    SQL("(%s, %s, %s)", item, line, kind)
                    for item, (line, kind) in links.items()
                ),
            )
        )
        items = self.browse(list(links))
        items.invalidate_recordset(["flow_return_line_id", "flow_return_kind"])
        self.env["sale.flow.return.line"].invalidate_model(["account_line_ids"])
        items.modified(["flow_return_line_id", "flow_return_kind"])
