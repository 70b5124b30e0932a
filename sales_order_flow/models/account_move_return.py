from odoo import Command, fields, models
from odoo.exceptions import UserError

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
        returns |= (
            self.env["sale.flow.return.line"]
            .search(
                [
                    "|",
                    ("sale_line_id", "in", sale_lines.ids),
                    ("invoice_line_id", "in", self.invoice_line_ids.ids),
                ]
            )
            .return_id
        )
        return returns

    def action_flow_create_return(self):
        """A new return of this invoice's goods: what is still returnable of
        its orders' deliveries, each row naming the invoice line it was billed
        on; goods of no order with the invoiced quantity."""
        self.ensure_one()
        if self.move_type != "out_invoice" or self.state != "posted":
            raise UserError(
                self.env._(
                    "%(name)s is not a posted customer invoice: returns start from "
                    "posted invoices.",
                    name=self.display_name,
                )
            )
        items = self.invoice_line_ids.filtered(
            lambda aml: aml.display_type == "product" and aml.product_id.type == "consu"
        )
        Return = self.env["sale.flow.return"]
        lines = Return._flow_lines_from_moves(items.sale_line_ids.move_ids)
        billed = {}
        for item in items:
            for sale_line in item.sale_line_ids:
                billed.setdefault(sale_line.id, item.id)
        for _command, _id, values in lines:
            values["invoice_line_id"] = billed.get(values.get("sale_line_id"))
        lines += [
            Command.create(
                {
                    "product_id": item.product_id.id,
                    "product_uom_qty": item.quantity,
                    "product_uom_id": item.product_uom_id.id,
                    "invoice_line_id": item.id,
                }
            )
            for item in items.filtered(lambda aml: not aml.sale_line_ids)
        ]
        return Return._flow_new_return_action(
            self.partner_id,
            lines,
            sale_order_ids=items.sale_line_ids.order_id.ids,
            invoice_ids=self.ids,
        )

    def action_flow_view_returns(self):
        self.ensure_one()
        return self.env["sale.flow.return"]._flow_returns_action(self._flow_returns())
