from odoo import api, fields, models
from odoo.tools import float_compare, float_round

from .sale_flow_discount_mixin import FLOW_DISCOUNT_FIELDS


class AccountMoveLine(models.Model):
    _name = "account.move.line"
    # sale.flow.discount.mixin: stacked discounts (issue 3)
    _inherit = ["account.move.line", "sale.flow.discount.mixin"]

    # ---- discounts (issue 3) ----
    # ``discount`` is the stack's exact effective discount (no 2-digit
    # rounding, see sale.order.line's ``discount``): Odoo's discount
    # allocation, UBL export and reports read it as it is.
    # No default: a default would be taken as a given value on create.
    discount = fields.Float(
        digits=False,
        default=None,
        compute="_compute_flow_discount",
        store=True,
        readonly=False,
        precompute=True,
    )

    # What an accountant reads on the invoice (issue 11): the stack and the
    # effective discount that gives the subtotal ("10 + 5 % = 14.5 %").
    flow_discount_effective_display = fields.Char(
        string="Discount Applied",
        compute="_compute_flow_discount_effective_display",
        help="The cascading discounts and the single discount they amount to, "
        "which the subtotal applies.",
    )

    # Vendor bills and imported entries may carry surcharges (negative
    # discounts): only customer documents are held to 0-100 %.
    _flow_clamp_existing_discounts = False

    @api.depends("discount", *FLOW_DISCOUNT_FIELDS)
    def _compute_flow_discount_effective_display(self):
        for line in self:
            given = [d for d in line._flow_get_discount_stack() if d]
            if len(given) > 1:
                line.flow_discount_effective_display = self.env._(
                    "%(stack)s = %(effective)s %%",
                    stack=line._flow_format_discount_stack(),
                    effective=line._flow_format_percent(line.discount),
                )
            elif line.discount:
                line.flow_discount_effective_display = self.env._(
                    "%(effective)s %%",
                    effective=line._flow_format_percent(line.discount),
                )
            else:
                line.flow_discount_effective_display = ""

    def _flow_get_range_checked_lines(self):
        return self.filtered(
            lambda line: line.move_id.move_type in ("out_invoice", "out_refund")
        )

    @api.constrains("move_id")
    def _check_flow_discount_range_move(self):
        # A line moved into a customer document is checked too.
        self._check_flow_discount_range()

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
            effective = line._flow_get_effective_discount()
            if not float_compare(
                line.discount,
                float_round(effective, precision_digits=digits),
                precision_digits=digits,
            ):
                line.discount = effective  # the value shown, typed again
            else:
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
        return super().write(
            self._flow_prepare_discount_vals(self._flow_drop_shown_discount(vals))
        )
