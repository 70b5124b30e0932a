"""Company setting of recurring orders on the portal (issue 13)."""

from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    flow_recurring_portal_manage = fields.Boolean(
        string="Customers Pause or Close Recurring Orders",
        help="Customers may pause, resume or close (at the end of the current "
        "period) their recurring orders from the portal.",
    )
