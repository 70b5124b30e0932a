from odoo import fields, models
from odoo.exceptions import UserError


class SaleFlowProductSuggestionLine(models.TransientModel):
    _name = "sale.flow.product.suggestion.line"
    _description = "Product Suggested from Purchase History"
    _order = "order_count desc, qty_ordered desc, id"

    suggestion_id = fields.Many2one(
        "sale.flow.product.suggestion", required=True, ondelete="cascade"
    )
    product_id = fields.Many2one("product.product", required=True, readonly=True)
    qty_ordered = fields.Float(
        string="Quantity Bought", digits="Product Unit of Measure", readonly=True
    )
    order_count = fields.Integer(string="Times Ordered", readonly=True)
    last_date = fields.Datetime(string="Last Ordered", readonly=True)
    quantity = fields.Float(
        string="Quantity to Add", digits="Product Unit of Measure", default=1.0
    )
    added = fields.Boolean(readonly=True)

    def action_add(self):
        """Add the product to the quotation (one line per suggestion)."""
        for suggestion in self:
            order = suggestion.suggestion_id.order_id
            if order.state not in ("draft", "sent"):
                raise UserError(
                    self.env._(
                        "Products can only be added to a quotation, not to %(order)s.",
                        order=order.name,
                    )
                )
            if suggestion.quantity <= 0:
                raise UserError(self.env._("Give a positive quantity to add."))
        self.env["sale.order.line"].create(
            [
                {
                    "order_id": suggestion.suggestion_id.order_id.id,
                    "product_id": suggestion.product_id.id,
                    "product_uom_qty": suggestion.quantity,
                }
                for suggestion in self
            ]
        )
        self.added = True
        # Stay in the dialog: more products may be added.
        return self.suggestion_id[:1]._flow_get_action()
