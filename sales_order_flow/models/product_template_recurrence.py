"""Default recurrence plan of a product (issue 13)."""

from odoo import fields, models


class ProductTemplate(models.Model):
    _inherit = "product.template"

    flow_recurrence_id = fields.Many2one(
        "sale.flow.recurrence",
        string="Recurrence Plan",
        help="Order lines of this product are recurring with this plan by default.",
    )
