from odoo import Command, fields, models

from .account_move_line_return import ReversalLines


class AccountMove(models.Model):
    _inherit = "account.move"

    # ---- returns (issue 12) ----
    flow_return_id = fields.Many2one(
        "sale.flow.return",
        string="Return (RMA)",
        index="btree_not_null",
        copy=False,
        readonly=True,
    )
    flow_return_count = fields.Integer(
        string="Returns", compute="_compute_flow_return_count"
    )

    def copy_data(self, default=None):
        keep = self.env.context.get("sale_flow_reversal_lines")
        if isinstance(keep, ReversalLines) and "line_ids" not in (default or {}):
            # a return's reversal copies only the returned product lines;
            # Odoo's invoice sync makes the tax and payment term lines of them
            self.ensure_one()
            lines = self.line_ids.filtered(lambda aml: aml.id in keep).sorted("id")
            default = dict(
                default or {},
                line_ids=[Command.create(vals) for vals in lines.copy_data() if vals],
            )
        return super().copy_data(default)

    def _compute_flow_return_count(self):
        for move in self:
            move.flow_return_count = len(move._flow_returns())

    def _flow_returns(self):
        self.ensure_one()
        sale_lines = self.invoice_line_ids.sale_line_ids
        returns = self.flow_return_id
        if sale_lines:
            returns |= (
                self.env["sale.flow.return.line"]
                .search([("sale_line_id", "in", sale_lines.ids)])
                .return_id
            )
        return returns

    def action_flow_view_returns(self):
        self.ensure_one()
        return self.env["sale.flow.return"]._flow_returns_action(self._flow_returns())
