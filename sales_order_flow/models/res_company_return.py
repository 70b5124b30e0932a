from odoo import api, fields, models
from odoo.exceptions import ValidationError


class ResCompany(models.Model):
    _inherit = "res.company"

    # ---- returns (issue 12) ----
    flow_return_window_days = fields.Integer(
        string="Return Window (days)",
        default=30,
        help="Days after delivery during which goods can be returned.",
    )
    flow_return_auto_approve_amount = fields.Monetary(
        string="Auto-Approve Returns Up To",
        currency_field="currency_id",
        help="Requests worth up to this amount (untaxed) are approved "
        "automatically; 0: every request is approved by a returns approver.",
    )
    flow_return_location_id = fields.Many2one(
        "stock.location",
        string="Return Location",
        domain="[('usage', '=', 'internal'), ('company_id', 'in', [id, False])]",
        help="Where returned goods are received (e.g. quarantine). Empty: the "
        "return operation type's default location.",
    )
    flow_return_fee_product_id = fields.Many2one(
        "product.product",
        string="Restocking Fee Product",
        help="Product of the restocking fee line of credit notes.",
    )
    flow_return_logistics_user_id = fields.Many2one(
        "res.users",
        string="Returns Logistics Responsible",
        help="Gets the activity to receive approved returns.",
    )
    flow_return_finance_user_id = fields.Many2one(
        "res.users",
        string="Returns Finance Responsible",
        help="Gets the activity to refund received returns.",
    )

    def _flow_return_fee_product(self):
        self.ensure_one()
        return self.flow_return_fee_product_id or self.env.ref(
            "sales_order_flow.product_sale_flow_restocking_fee",
            raise_if_not_found=False,
        )

    @api.constrains("flow_return_window_days", "flow_return_auto_approve_amount")
    def _check_flow_return_policy(self):
        for company in self:
            if (
                company.flow_return_window_days < 0
                or company.flow_return_auto_approve_amount < 0
            ):
                raise ValidationError(
                    self.env._(
                        "The return window and the auto-approval amount cannot be "
                        "negative."
                    )
                )
