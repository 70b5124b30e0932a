"""Settings of recurring orders (issue 13)."""

from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    flow_recurring_portal_manage = fields.Boolean(
        related="company_id.flow_recurring_portal_manage", readonly=False
    )
