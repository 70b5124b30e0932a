from odoo import Command, api, fields, models


class SaleFlowProductSuggestion(models.TransientModel):
    _name = "sale.flow.product.suggestion"
    _description = "Products Suggested from Purchase History"

    order_id = fields.Many2one("sale.order", required=True, ondelete="cascade")
    partner_id = fields.Many2one(related="order_id.partner_id")
    months = fields.Integer(
        compute="_compute_months",
        help="Months of confirmed orders looked at (Settings).",
    )
    line_ids = fields.One2many(
        "sale.flow.product.suggestion.line",
        "suggestion_id",
        string="Suggestions",
        compute="_compute_line_ids",
        store=True,
        readonly=False,
    )

    @api.depends("order_id")
    def _compute_months(self):
        for wizard in self:
            wizard.months = wizard.order_id.company_id.flow_suggestion_months

    @api.depends("order_id")
    def _compute_line_ids(self):
        for wizard in self:
            order = wizard.order_id
            favourites = order.partner_id._flow_get_favourite_products(
                company=order.company_id
            )
            wizard.line_ids = [Command.clear()] + [
                Command.create(
                    {
                        "product_id": fav["product"].id,
                        "qty_ordered": fav["qty"],
                        "order_count": fav["order_count"],
                        "last_date": fav["last_date"],
                        "quantity": 1.0,
                    }
                )
                for fav in favourites
            ]

    def _flow_get_action(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._(
                "Frequently Bought by %(customer)s",
                customer=self.partner_id.commercial_partner_id.display_name,
            ),
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
        }
