from odoo import api, fields, models

from .sale_flow_discount_mixin import FLOW_DISCOUNT_FIELDS


class AccountMoveLine(models.Model):
    _name = "account.move.line"
    # sale.flow.discount.mixin: stacked discounts (issue 3)
    _inherit = ["account.move.line", "sale.flow.discount.mixin"]

    # ---- discounts (issue 3) ----
    # ``discount`` is the stack's effective discount, rounded to its digits;
    # amounts use the unrounded one (see account.move).
    # No default: a default would be taken as a given value on create.
    discount = fields.Float(
        default=None,
        compute="_compute_flow_discount",
        store=True,
        readonly=False,
        precompute=True,
    )

    @api.depends(*FLOW_DISCOUNT_FIELDS)
    def _compute_flow_discount(self):
        for line in self:
            line.discount = line._flow_get_effective_discount()

    @api.depends(*FLOW_DISCOUNT_FIELDS)
    def _compute_totals(self):  # pylint: disable=missing-return
        super()._compute_totals()

    @api.onchange("discount")
    def _onchange_flow_discount(self):
        # The plain discount column sets level 1, like writing ``discount``.
        digits = self.env["decimal.precision"].precision_get("Discount")
        for line in self:
            if round(line.discount - line._flow_get_effective_discount(), digits):
                line.update(
                    {
                        "flow_discount_1": line.discount,
                        "flow_discount_2": 0.0,
                        "flow_discount_3": 0.0,
                    }
                )

    @api.model_create_multi
    def create(self, vals_list):
        vals_list = [
            self._flow_prepare_discount_vals(vals, create=True) for vals in vals_list
        ]
        return super().create(vals_list)

    def write(self, vals):
        return super().write(self._flow_prepare_discount_vals(vals))
