from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    flow_cancel_expired_quotations = fields.Boolean(
        related="company_id.flow_cancel_expired_quotations",
        readonly=False,
    )
    flow_expiry_grace_days = fields.Integer(
        related="company_id.flow_expiry_grace_days",
        readonly=False,
    )

    # ---- discounts (issue 3) ----
    flow_show_price_explanation = fields.Boolean(
        related="company_id.flow_show_price_explanation",
        readonly=False,
    )
    flow_suggestion_months = fields.Integer(
        related="company_id.flow_suggestion_months",
        readonly=False,
    )
