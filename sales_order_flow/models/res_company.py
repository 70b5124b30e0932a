from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    flow_cancel_expired_quotations = fields.Boolean(
        string="Cancel Expired Quotations",
        help="Cancel quotations automatically once they have been expired for "
        "the grace period.",
    )
    flow_expiry_grace_days = fields.Integer(
        string="Grace Days Before Cancelling",
        default=7,
        help="Days an expired quotation stays open before it is cancelled.",
    )

    _sql_constraints = [
        (
            "flow_expiry_grace_days_positive",
            "CHECK(flow_expiry_grace_days >= 0)",
            "The grace days before cancelling expired quotations cannot be negative.",
        ),
    ]
