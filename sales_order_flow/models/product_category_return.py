from odoo import fields, models


class ProductCategory(models.Model):
    _inherit = "product.category"

    # ---- returns (issue 12) ----
    flow_return_policy = fields.Boolean(
        string="Own Return Policy",
        help="Products of this category follow this return window and "
        "auto-approval amount instead of the company's (a customer's own policy "
        "still comes first).",
    )
    flow_return_window_days = fields.Integer(string="Return Window (days)")
    flow_return_auto_approve_amount = fields.Float(string="Auto-Approve Returns Up To")
