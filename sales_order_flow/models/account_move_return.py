from odoo import fields, models


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
