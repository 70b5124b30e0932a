"""Recurrence plans of recurring order lines (issue 13).

Not Odoo Enterprise's ``sale.subscription.plan``: the names stay in the
``sale.flow.`` / ``flow_`` namespaces so both can be installed together.
"""

from datetime import timedelta

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError


class SaleFlowRecurrence(models.Model):
    _name = "sale.flow.recurrence"
    _description = "Recurrence Plan"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    active = fields.Boolean(default=True)
    sequence = fields.Integer(default=10)
    company_id = fields.Many2one(
        "res.company", help="Leave empty to use the plan in every company."
    )
    interval_number = fields.Integer(
        string="Every", default=1, required=True, help="Length of a period."
    )
    interval_type = fields.Selection(
        [
            ("day", "Days"),
            ("week", "Weeks"),
            ("month", "Months"),
            ("year", "Years"),
        ],
        string="Unit",
        default="month",
        required=True,
    )
    invoicing_mode = fields.Selection(
        [("advance", "In Advance"), ("arrears", "In Arrears")],
        default="advance",
        required=True,
        help="In advance: a period is invoiced on its first day. In arrears: on "
        "the day after its last day.",
    )
    fixed_day = fields.Integer(
        string="Fixed Day of the Month",
        help="Monthly and yearly plans: periods start on this day of the month "
        "(a start on another day makes a first, prorated period). 0: periods "
        "start on the order's start date.",
    )
    period_count = fields.Integer(
        string="Number of Periods",
        help="Periods invoiced before the recurring line ends (0: no limit). A "
        "first, prorated period counts as one.",
    )
    date_end = fields.Date(
        string="End Date", help="No period is invoiced past this date."
    )
    price_policy = fields.Selection(
        [
            ("fixed", "Fixed from the Order"),
            ("pricelist", "Pricelist or Agreement at Invoicing"),
        ],
        default="fixed",
        required=True,
        help="Fixed: every period at the order line's price. Pricelist: the price "
        "is read again at each period, from the customer's agreement if it has "
        "one, else from the order's pricelist.",
    )
    reminder_days = fields.Integer(
        string="Renewal Reminder (days)",
        default=30,
        help="An activity reminds the salesperson this many days before a "
        "recurring order ends (0: no reminder).",
    )

    @api.constrains("interval_number", "fixed_day", "period_count", "reminder_days")
    def _check_numbers(self):
        for plan in self:
            if plan.interval_number <= 0:
                raise ValidationError(
                    self.env._(
                        "Plan %(name)s: a period lasts at least one day, week, month "
                        "or year: enter an interval of 1 or more.",
                        name=plan.name,
                    )
                )
            if not 0 <= plan.fixed_day <= 31:
                raise ValidationError(
                    self.env._(
                        "Plan %(name)s: the fixed day of the month is between 1 and "
                        "31 (0 for none).",
                        name=plan.name,
                    )
                )
            if plan.period_count < 0 or plan.reminder_days < 0:
                raise ValidationError(
                    self.env._(
                        "Plan %(name)s: the number of periods and the reminder "
                        "cannot be negative.",
                        name=plan.name,
                    )
                )

    def write(self, vals):
        grid = {"interval_number", "interval_type", "fixed_day"} & set(vals)
        if grid:
            # sudo: a plan used by any order's invoiced period keeps its grid,
            # whoever edits the plan
            used = (
                self.env["sale.flow.recurrence.period"]
                .sudo()
                .search_count([("recurrence_id", "in", self.ids)], limit=1)
            )
            if used:
                raise UserError(
                    self.env._(
                        "This plan has invoiced periods: its periods cannot change. "
                        "Archive it and create a new plan."
                    )
                )
        return super().write(vals)

    # ------------------------------------------------------------------
    # Period grid
    # ------------------------------------------------------------------
    def _flow_step(self, count):
        self.ensure_one()
        number = self.interval_number * count
        if self.interval_type == "day":
            return relativedelta(days=number)
        if self.interval_type == "week":
            return relativedelta(weeks=number)
        if self.interval_type == "month":
            return relativedelta(months=number)
        return relativedelta(years=number)

    def _flow_uses_fixed_day(self):
        return bool(self.fixed_day) and self.interval_type in ("month", "year")

    def _flow_anchor(self, start):
        """First day of the period grid for an order starting on ``start``."""
        self.ensure_one()
        if not self._flow_uses_fixed_day():
            return start
        anchor = start + relativedelta(day=self.fixed_day)
        if anchor > start:
            anchor = start + relativedelta(months=-1, day=self.fixed_day)
        return anchor

    def _flow_period_start(self, anchor, index):
        start = anchor + self._flow_step(index)
        if self._flow_uses_fixed_day():
            start += relativedelta(day=self.fixed_day)
        return start

    def _flow_period(self, anchor, index):
        """(first day, last day) of period ``index`` of the grid."""
        return (
            self._flow_period_start(anchor, index),
            self._flow_period_start(anchor, index + 1) - timedelta(days=1),
        )

    def _flow_period_index(self, anchor, date):
        """Index of the period of the grid that contains ``date``."""
        self.ensure_one()
        if self.interval_type in ("day", "week"):
            days = self.interval_number * (7 if self.interval_type == "week" else 1)
            return (date - anchor).days // days
        months = self.interval_number * (12 if self.interval_type == "year" else 1)
        index = ((date.year - anchor.year) * 12 + date.month - anchor.month) // months
        while index > 0 and self._flow_period_start(anchor, index) > date:
            index -= 1
        while self._flow_period_start(anchor, index + 1) <= date:
            index += 1
        return index

    def _flow_plan_end(self, anchor, start):
        """Last day the plan invoices for an order starting on ``start``
        (False: no end)."""
        self.ensure_one()
        ends = []
        if self.period_count:
            first = self._flow_period_index(anchor, start)
            ends.append(self._flow_period(anchor, first + self.period_count - 1)[1])
        if self.date_end:
            ends.append(self.date_end)
        return min(ends) if ends else False

    def _flow_period_label(self):
        self.ensure_one()
        return self.display_name
