from odoo import api, fields, models
from odoo.exceptions import ValidationError

RETURN_OPERATIONS = [
    ("refund", "Refund"),
    ("exchange", "Exchange"),
    ("return_no_refund", "Return Without Refund"),
    ("no_return", "No Return Needed"),
]


class SaleFlowReturnReason(models.Model):
    _name = "sale.flow.return.reason"
    _description = "Return Reason"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", help="Empty: every company.")
    default_operation = fields.Selection(
        RETURN_OPERATIONS,
        required=True,
        default="refund",
        help="Operation proposed on a return line of this reason.",
    )
    comment_required = fields.Boolean(
        help="A request with this reason needs a comment of the customer.",
    )
    physical_return = fields.Boolean(
        string="Goods Come Back",
        default=True,
        help="The goods are received back in stock before anything is refunded. "
        "Without it, the refund is due at approval.",
    )
    photo_required = fields.Boolean(
        string="Photo/Document Required",
        help="A request with this reason needs an attachment (photo, document).",
    )
    exchange_before_receipt = fields.Boolean(
        string="Ship Replacement Before Receipt",
        help="For exchanges: the replacement leaves at approval instead of once "
        "the returned goods are received.",
    )
    fee_type = fields.Selection(
        [("none", "No Fee"), ("percent", "Percentage"), ("fixed", "Fixed Amount")],
        string="Restocking Fee",
        required=True,
        default="none",
    )
    fee_value = fields.Float(
        help="Percentage of the refunded value, or a fixed amount per return line.",
    )
    description = fields.Text(translate=True)

    @api.constrains("fee_type", "fee_value")
    def _check_fee(self):
        for reason in self:
            if reason.fee_value < 0 or (
                reason.fee_type == "percent" and reason.fee_value > 100
            ):
                raise ValidationError(
                    self.env._(
                        "The restocking fee of %(reason)s must be between 0 and "
                        "100%% or a positive amount.",
                        reason=reason.name,
                    )
                )

    def _flow_fee(self, amount):
        """Restocking fee of one return line of ``amount`` refunded."""
        self.ensure_one()
        if self.fee_type == "percent":
            return amount * self.fee_value / 100.0
        if self.fee_type == "fixed":
            return min(self.fee_value, amount)
        return 0.0
