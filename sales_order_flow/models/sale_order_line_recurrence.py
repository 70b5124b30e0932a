"""Recurring order lines: plan, dates, invoiced periods (issue 13)."""

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    # ------------------------------------------------------------------
    # ---- recurring invoices (issue 13) ----
    # ------------------------------------------------------------------
    flow_recurrence_id = fields.Many2one(
        "sale.flow.recurrence",
        string="Recurrence Plan",
        compute="_compute_flow_recurrence_id",
        store=True,
        readonly=False,
        precompute=True,
        index="btree_not_null",
        ondelete="restrict",
        help="The line is invoiced every period of this plan instead of once.",
    )
    flow_recurrence_date_start = fields.Date(
        string="Recurring From",
        copy=False,
        help="First day invoiced for this line (empty: the order's start). A line "
        "added to a running recurring order starts on the day it is added.",
    )
    flow_recurrence_date_end = fields.Date(
        string="Recurring Until",
        copy=False,
        help="Last day invoiced for this line (empty: the order's end). Days "
        "already invoiced in advance past it are credited at the next run.",
    )
    flow_recurrence_period_ids = fields.One2many(
        "sale.flow.recurrence.period", "order_line_id", string="Invoiced Periods"
    )
    flow_recurring_monthly_amount = fields.Monetary(
        string="Monthly Recurring Revenue",
        compute="_compute_flow_recurring_monthly_amount",
        store=True,
        help="Untaxed amount of the recurring line per month (a year is 12 "
        "months, a month 365/12 days).",
    )
    flow_recurring_order_state = fields.Selection(
        related="order_id.flow_recurring_state", string="Recurring Status"
    )

    @api.depends(
        "price_subtotal",
        "flow_recurrence_id.interval_number",
        "flow_recurrence_id.interval_type",
    )
    def _compute_flow_recurring_monthly_amount(self):
        months_per_unit = {"day": 12 / 365, "week": 84 / 365, "month": 1, "year": 12}
        for line in self:
            plan = line.flow_recurrence_id
            if not plan or plan.interval_number <= 0:
                line.flow_recurring_monthly_amount = 0.0
                continue
            months = plan.interval_number * months_per_unit[plan.interval_type]
            line.flow_recurring_monthly_amount = line.price_subtotal / months

    @api.depends("product_id")
    def _compute_flow_recurrence_id(self):
        for line in self:
            if line.state in ("draft", "sent", False) or not line.flow_recurrence_id:
                line.flow_recurrence_id = (
                    line.product_id.product_tmpl_id.flow_recurrence_id
                    if not line.display_type
                    else False
                )

    @api.constrains(
        "flow_recurrence_id",
        "product_id",
        "flow_recurrence_date_start",
        "flow_recurrence_date_end",
    )
    def _check_flow_recurrence(self):
        for line in self.filtered("flow_recurrence_id"):
            product = line.product_id
            if (
                line.display_type
                or line.is_downpayment
                or not product
                or product.type == "combo"
                or product.invoice_policy != "order"
            ):
                raise ValidationError(
                    self.env._(
                        "%(product)s cannot be invoiced every period: a recurring "
                        "line needs a product invoiced on ordered quantities "
                        "(Invoicing Policy: Ordered quantities).",
                        product=product.display_name or line.name,
                    )
                )
            start = line.flow_recurrence_date_start
            end = line.flow_recurrence_date_end
            if start and end and end < start:
                raise ValidationError(
                    self.env._(
                        "%(product)s: the recurring line cannot end (%(end)s) "
                        "before it starts (%(start)s).",
                        product=product.display_name,
                        end=end,
                        start=start,
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        lines = super().create(vals_list)
        # upsell: a recurring line added to a running recurring order starts
        # today, and the order's next invoice date follows
        added = lines.filtered(
            lambda line: (
                line.flow_recurrence_id
                and line.order_id.state == "sale"
                and line.order_id.flow_recurring_state
            )
        )
        for line in added.filtered(lambda line: not line.flow_recurrence_date_start):
            line.flow_recurrence_date_start = fields.Date.context_today(line)
        added.order_id._flow_recurring_update()
        return lines

    def write(self, vals):
        if "flow_recurrence_id" in vals:
            invoiced = self.filtered(
                lambda line: (
                    line.flow_recurrence_period_ids
                    and line.flow_recurrence_id.id != vals["flow_recurrence_id"]
                )
            )
            if invoiced:
                raise UserError(
                    self.env._(
                        "%(product)s already has invoiced periods: its plan cannot "
                        "change. End the line (Recurring Until) and add a new one.",
                        product=invoiced[0].product_id.display_name,
                    )
                )
        res = super().write(vals)
        if {
            "flow_recurrence_id",
            "flow_recurrence_date_start",
            "flow_recurrence_date_end",
        } & set(vals):
            self.order_id.filtered("flow_recurring_state")._flow_recurring_update()
        return res

    # Recurring lines are invoiced per period by the recurring run, never by
    # Odoo's "Create Invoice" (their invoiced quantity adds up period after
    # period).
    @api.depends("flow_recurrence_id")
    def _compute_qty_to_invoice(self):  # pylint: disable=missing-return
        super()._compute_qty_to_invoice()
        self.filtered("flow_recurrence_id").qty_to_invoice = 0.0

    @api.depends("flow_recurrence_id")
    def _compute_untaxed_amount_to_invoice(self):  # pylint: disable=missing-return
        super()._compute_untaxed_amount_to_invoice()
        self.filtered("flow_recurrence_id").untaxed_amount_to_invoice = 0.0

    def _flow_recurrence_bounds(self):
        """(first day, last day or False) invoiced for this recurring line."""
        self.ensure_one()
        order = self.order_id
        start = self.flow_recurrence_date_start or order.flow_recurrence_date_start
        plan = self.flow_recurrence_id
        anchor = plan._flow_anchor(order.flow_recurrence_date_start)
        ends = [
            end
            for end in (
                self.flow_recurrence_date_end,
                order.flow_recurrence_date_end,
                plan._flow_plan_end(anchor, order.flow_recurrence_date_start),
            )
            if end
        ]
        return start, min(ends) if ends else False
