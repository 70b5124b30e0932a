from odoo import api, fields, models
from odoo.exceptions import ValidationError


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

    # ---- discounts (issue 3) ----
    flow_show_price_explanation = fields.Boolean(
        string="Show Price Explanation",
        help="Print on quotations and show on the customer portal how each "
        "line's net price was reached.",
    )
    flow_suggestion_months = fields.Integer(
        string="Purchase History (months)",
        default=12,
        help="Confirmed orders of the last months used to suggest a customer's "
        "frequently bought products.",
    )

    @api.constrains("flow_suggestion_months")
    def _check_flow_suggestion_months(self):
        if any(company.flow_suggestion_months <= 0 for company in self):
            raise ValidationError(
                self.env._(
                    "The purchase history used for suggestions must be at least "
                    "1 month."
                )
            )
