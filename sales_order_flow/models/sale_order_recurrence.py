"""Recurring orders: periods invoiced by a daily run (issue 13).

A confirmed order with recurring lines is a recurring order. The run (cron or
"Invoice Next Period") locks the orders, reads the periods already invoiced
and creates, per order and period, one invoice whose lines carry the period's
dates; days of a line added, removed, started, ended or paused inside a period
are prorated. A unique key on (order line, period start) backs the lock.
"""

import logging
from datetime import timedelta

import psycopg2.errors

import odoo
from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from ..utils.locking import lock_rows_for_retry

_logger = logging.getLogger(__name__)

# Raised by the row lock when another run holds or changed the orders: the
# whole run is retried (by Odoo for a button, by the next cron call).
CONCURRENCY_ERRORS = (
    psycopg2.errors.SerializationFailure,
    psycopg2.errors.LockNotAvailable,
    psycopg2.errors.DeadlockDetected,
)
# a daily plan running for 25 years, caught up in one run
MAX_PERIODS_PER_LINE = 10000


class SaleOrder(models.Model):
    _inherit = "sale.order"

    _flow_recurring_batch_size = 100

    # ------------------------------------------------------------------
    # ---- recurring invoices (issue 13) ----
    # ------------------------------------------------------------------
    flow_recurring_order = fields.Boolean(
        string="Recurring Order",
        compute="_compute_flow_recurring_order",
        store=True,
        help="The order has lines invoiced every period of a recurrence plan.",
    )
    flow_recurrence_date_start = fields.Date(
        string="Recurring Start",
        copy=False,
        help="First day of the recurring lines (empty: the confirmation day).",
    )
    flow_recurrence_date_end = fields.Date(
        string="Recurring End",
        copy=False,
        help="Last day invoiced (empty: the plans decide, else no end).",
    )
    flow_recurring_state = fields.Selection(
        [("active", "Active"), ("paused", "Paused"), ("closed", "Closed")],
        string="Recurring Status",
        copy=False,
        index="btree_not_null",
        readonly=True,
    )
    flow_recurring_next_date = fields.Date(
        string="Next Invoice Date", copy=False, readonly=True, index="btree_not_null"
    )
    flow_recurring_period_ids = fields.One2many(
        "sale.flow.recurrence.period", "order_id", string="Invoiced Periods"
    )
    flow_recurring_pause_ids = fields.One2many(
        "sale.flow.recurrence.pause", "order_id", string="Pauses"
    )
    flow_recurring_period_count = fields.Integer(
        string="Periods Invoiced", compute="_compute_flow_recurring_period_count"
    )
    flow_recurring_next_amount = fields.Monetary(
        string="Next Invoice Amount",
        compute="_compute_flow_recurring_next_amount",
        help="Untaxed amount of the recurring lines on the next invoice.",
    )
    flow_recurring_reminder_done = fields.Boolean(
        string="Renewal Reminded", copy=False, readonly=True
    )
    flow_recurring_exception = fields.Text(
        string="Recurring Invoicing Exception",
        copy=False,
        readonly=True,
        help="Why the last recurring run could not invoice the order; it is "
        "retried at the next run.",
    )

    @api.depends("order_line.flow_recurrence_id")
    def _compute_flow_recurring_order(self):
        for order in self:
            order.flow_recurring_order = any(
                line.flow_recurrence_id for line in order.order_line
            )

    def _compute_flow_recurring_period_count(self):
        for order in self:
            order.flow_recurring_period_count = len(
                set(order.flow_recurring_period_ids.mapped("period_start"))
            )

    @api.depends("flow_recurring_next_date")
    def _compute_flow_recurring_next_amount(self):
        for order in self:
            amount = 0.0
            date = order.flow_recurring_next_date
            if date and order.id and order.flow_recurring_state == "active":
                # sudo: the next amount reads periods and agreement prices
                # that the order's readers may not all read
                prepared = order.sudo()._flow_recurring_prepare(date)[0]
                amount = sum(
                    item["amount"]
                    for items in prepared["invoices"].values()
                    for item in items
                )
            order.flow_recurring_next_amount = amount

    @api.constrains("flow_recurrence_date_start", "flow_recurrence_date_end")
    def _check_flow_recurrence_dates(self):
        for order in self:
            start = order.flow_recurrence_date_start
            end = order.flow_recurrence_date_end
            if start and end and end < start:
                raise ValidationError(
                    self.env._(
                        "%(order)s cannot end its recurring lines (%(end)s) before "
                        "they start (%(start)s).",
                        order=order.name,
                        end=end,
                        start=start,
                    )
                )

    def write(self, vals):
        if "flow_recurrence_date_start" in vals:
            invoiced = self.filtered("flow_recurring_period_ids")
            if invoiced:
                raise UserError(
                    self.env._(
                        "%(orders)s already invoiced recurring periods: their start "
                        "date cannot change.",
                        orders=", ".join(invoiced.mapped("name")),
                    )
                )
        res = super().write(vals)
        if {"flow_recurrence_date_start", "flow_recurrence_date_end"} & set(vals):
            self.filtered(
                lambda o: o.flow_recurring_state in ("active", "paused")
            )._flow_recurring_update()
        return res

    # ------------------------------------------------------------------
    # Confirmation and state
    # ------------------------------------------------------------------
    def action_confirm(self):
        res = super().action_confirm()
        recurring = self.filtered(
            lambda o: o.state == "sale" and o.flow_recurring_order
        )
        for order in recurring.filtered(lambda o: not o.flow_recurrence_date_start):
            order.flow_recurrence_date_start = fields.Date.context_today(order)
        if recurring:
            recurring.flow_recurring_state = "active"
            recurring._flow_recurring_update()
        return res

    def _action_cancel(self):
        res = super()._action_cancel()
        self.filtered("flow_recurring_state").write(
            {"flow_recurring_state": False, "flow_recurring_next_date": False}
        )
        return res

    def _flow_recurring_check_running(self, states=("active", "paused")):
        for order in self:
            if order.state != "sale" or order.flow_recurring_state not in states:
                raise UserError(
                    self.env._(
                        "%(order)s is not a running recurring order.",
                        order=order.name,
                    )
                )

    def action_flow_recurring_pause(self, date=None):
        """Pause from ``date`` (today): no day of the pause is invoiced."""
        self._flow_recurring_check_running(("active",))
        date = date or fields.Date.context_today(self)
        self.check_access("write")
        # sudo: pauses are written by the order's own action, checked above
        self.env["sale.flow.recurrence.pause"].sudo().create(
            [{"order_id": order.id, "date_start": date} for order in self]
        )
        self.write({"flow_recurring_state": "paused"})
        for order in self:
            order.message_post(
                body=self.env._("Recurring invoicing paused from %(date)s.", date=date)
            )
        return True

    def action_flow_recurring_resume(self, date=None):
        """Resume on ``date`` (today): invoicing goes on from that day."""
        self._flow_recurring_check_running(("paused",))
        date = date or fields.Date.context_today(self)
        self.check_access("write")
        for order in self:
            pause = order.flow_recurring_pause_ids.filtered(lambda p: not p.date_end)
            if pause and date < pause[0].date_start:
                raise UserError(
                    self.env._(
                        "%(order)s is paused from %(date)s: resume it on that day "
                        "or later.",
                        order=order.name,
                        date=pause[0].date_start,
                    )
                )
            # sudo: closes the order's own pause, access checked above; a
            # pause resumed on its first day pauses nothing
            if pause and date == pause[0].date_start:
                pause.sudo().unlink()
            else:
                pause.sudo().date_end = date - timedelta(days=1)
            order.message_post(
                body=self.env._("Recurring invoicing resumed on %(date)s.", date=date)
            )
        self.write({"flow_recurring_state": "active"})
        self._flow_recurring_update()
        return True

    def action_flow_recurring_close_period_end(self, date=None):
        """Stop at the end of the current period: the last invoice is the
        current period's (in arrears) or nothing more (in advance)."""
        self._flow_recurring_check_running()
        date = date or fields.Date.context_today(self)
        self.check_access("write")
        for order in self:
            ends = []
            for line in order._flow_recurring_lines():
                plan = line.flow_recurrence_id
                anchor = plan._flow_anchor(order.flow_recurrence_date_start)
                index = plan._flow_period_index(anchor, date)
                ends.append(plan._flow_period(anchor, index)[1])
            end = max(ends) if ends else date
            current = order.flow_recurrence_date_end
            order.flow_recurrence_date_end = min(end, current) if current else end
            order.message_post(
                body=self.env._(
                    "Recurring lines end with the current period, on %(date)s.",
                    date=order.flow_recurrence_date_end,
                )
            )
        self._flow_recurring_update(date)
        return True

    def action_flow_recurring_close_now(self, date=None):
        """Close on ``date`` (today, its last invoiced day): the days used are
        invoiced, the days invoiced in advance past it credited."""
        self._flow_recurring_check_running()
        date = date or fields.Date.context_today(self)
        self.check_access("write")
        for order in self:
            if date < order.flow_recurrence_date_start:
                raise UserError(
                    self.env._(
                        "%(order)s starts on %(date)s: it cannot close before.",
                        order=order.name,
                        date=order.flow_recurrence_date_start,
                    )
                )
        self.write({"flow_recurrence_date_end": date, "flow_recurring_state": "active"})
        # sudo: the final invoice and credit are made for the user, who can
        # write the order (checked above), as Odoo's "Create Invoice" does
        # the days up to ``date`` are due, whatever the plan's invoicing mode
        moves = self.sudo()._flow_recurring_invoice(
            date=date + timedelta(days=1), invoice_date=date
        )
        self.flow_recurring_state = "closed"
        self.flow_recurring_next_date = False
        return moves

    def action_flow_recurring_invoice_next(self):
        """Button: invoice the next period now (today's date on the invoice),
        with anything due before it."""
        if not self.env.user.has_group("account.group_account_invoice"):
            raise AccessError(
                self.env._("Only invoicing users can invoice recurring periods.")
            )
        self._flow_recurring_check_running(("active",))
        self.check_access("write")
        today = fields.Date.context_today(self)
        moves = self.env["account.move"]
        for order in self:
            if not order.flow_recurring_next_date:
                continue
            # sudo: invoicing users create and post the invoices of orders
            # they may write (checked above)
            moves |= order.sudo()._flow_recurring_invoice(
                date=order.flow_recurring_next_date, invoice_date=today
            )
        if not moves:
            raise UserError(self.env._("There is no period left to invoice."))
        return self.action_view_invoice(moves.with_env(self.env))

    # ------------------------------------------------------------------
    # Periods due
    # ------------------------------------------------------------------
    def _flow_recurring_lines(self):
        return self.order_line.filtered(
            lambda line: line.flow_recurrence_id and not line.display_type
        )

    @api.model
    def _flow_recurring_covered(self, start, end, pauses):
        """(days, first day, last day) of [start, end] outside ``pauses``
        ((first, last) closed intervals)."""
        if start > end:
            return 0, None, None
        days = (end - start).days + 1
        for pause_start, pause_end in pauses:
            first, last = max(pause_start, start), min(pause_end, end)
            if first <= last:
                days -= (last - first).days + 1
        if days <= 0:
            return 0, None, None
        moved = True
        while moved:
            moved = False
            for pause_start, pause_end in pauses:
                if pause_start <= start <= pause_end:
                    start, moved = pause_end + timedelta(days=1), True
                if pause_start <= end <= pause_end:
                    end, moved = pause_start - timedelta(days=1), True
        return days, start, end

    def _flow_recurring_prices(self, lines, dates):
        """{(line id, date): unit price} of the plans reading their price at
        invoicing: the customer's agreement, else the order's pricelist."""
        # sudo: the customer's agreed prices apply whoever invoices
        Agreement = self.env["sale.flow.agreement"].sudo()
        candidates = Agreement._flow_get_candidate_lines(lines.order_id.partner_id)
        prices = {}
        for line in lines:
            order = line.order_id
            for date in dates.get(line.id, ()):
                agreement_line = Agreement._flow_find_lines(
                    order.partner_id,
                    line.product_id,
                    date=date,
                    company=order.company_id,
                    candidates=candidates,
                ).get(line.product_id.id)
                if agreement_line and agreement_line._flow_has_agreed_price():
                    price = agreement_line.currency_id._convert(
                        agreement_line.price_unit,
                        order.currency_id,
                        order.company_id,
                        date,
                    )
                elif order.pricelist_id:
                    price = order.pricelist_id._get_product_price(
                        line.product_id,
                        line.product_uom_qty or 1.0,
                        uom=line.product_uom,
                        date=date,
                    )
                else:
                    price = line.product_id.lst_price
                prices[line.id, date] = price
        return prices

    def _flow_recurring_prepare(self, date):
        """What the run invoices and credits for each order of ``self`` on
        ``date``: a list of {"order", "invoices": {period start: [item]},
        "credits": [item], "next_date"}. Reads in batch."""
        # sudo: periods are written by the run only; read whole to invoice
        # each once
        Period = self.env["sale.flow.recurrence.period"].sudo()
        periods = Period.search_fetch(
            [("order_id", "in", self.ids)],
            [
                "order_line_id",
                "period_start",
                "date_from",
                "date_to",
                "days",
                "refund_line_id",
                "move_line_id",
            ],
        )
        done = {}
        for period in periods:
            done.setdefault(period.order_line_id.id, {})[period.period_start] = period
        result = []
        price_dates = {}
        for order in self:
            pauses = [
                (pause.date_start, pause.date_end or date)
                for pause in order.flow_recurring_pause_ids
            ]
            invoices, credit_items, next_dates = {}, [], []
            for line in order._flow_recurring_lines():
                line_done = done.get(line.id, {})
                items, next_date = order._flow_recurring_line_items(
                    line, line_done, pauses, date
                )
                for item in items:
                    invoices.setdefault(item["period_start"], []).append(item)
                    if line.flow_recurrence_id.price_policy == "pricelist":
                        price_dates.setdefault(line.id, set()).add(item["period_start"])
                if next_date:
                    next_dates.append(next_date)
                credit_items += order._flow_recurring_line_credits(line, line_done)
            result.append(
                {
                    "order": order,
                    "invoices": invoices,
                    "credits": credit_items,
                    "next_date": min(next_dates) if next_dates else False,
                }
            )
        if price_dates:
            lines = self.env["sale.order.line"].browse(list(price_dates))
            prices = self._flow_recurring_prices(lines, price_dates)
            for entry in result:
                for items in entry["invoices"].values():
                    for item in items:
                        key = (item["line"].id, item["period_start"])
                        if key in prices:
                            entry["order"]._flow_recurring_set_price(item, prices[key])
        return result

    def _flow_recurring_line_items(self, line, line_done, pauses, date):
        """Periods of ``line`` due on ``date`` and not invoiced yet, and the
        invoice date of the next one (False: none left)."""
        self.ensure_one()
        plan = line.flow_recurrence_id
        anchor = plan._flow_anchor(self.flow_recurrence_date_start)
        start, end = line._flow_recurrence_bounds()
        if end and end < start:
            return [], False
        index = plan._flow_period_index(anchor, start)
        if line_done:
            index = max(index, plan._flow_period_index(anchor, max(line_done)) + 1)
        items = []
        for _step in range(MAX_PERIODS_PER_LINE):
            period_start, period_end = plan._flow_period(anchor, index)
            index += 1
            if end and period_start > end:
                return items, False
            if period_start in line_done:
                continue
            days, first, last = self._flow_recurring_covered(
                max(start, period_start),
                min(end, period_end) if end else period_end,
                pauses,
            )
            if not days:
                continue
            invoice_date = (
                first if plan.invoicing_mode == "advance" else last + timedelta(days=1)
            )
            if invoice_date > date:
                return items, invoice_date
            item = {
                "line": line,
                "plan": plan,
                "period_start": period_start,
                "period_end": period_end,
                "date_from": first,
                "date_to": last,
                "days": days,
                "period_days": (period_end - period_start).days + 1,
            }
            self._flow_recurring_set_price(item, line.price_unit)
            items.append(item)
        return items, False

    def _flow_recurring_set_price(self, item, price):
        line = item["line"]
        unit = price * item["days"] / item["period_days"]
        item["price_unit"] = unit
        item["amount"] = self.currency_id.round(
            unit * line.product_uom_qty * (1 - (line.discount or 0.0) / 100.0)
        )

    def _flow_recurring_line_credits(self, line, line_done):
        """Invoiced periods of ``line`` reaching past its end: their days past
        the end are credited."""
        self.ensure_one()
        _start, end = line._flow_recurrence_bounds()
        if not end:
            return []
        credit_items = []
        for period in line_done.values():
            if period.refund_line_id or period.date_to <= end or not period.days:
                continue
            first = max(end + timedelta(days=1), period.date_from)
            days = (period.date_to - first).days + 1
            invoiced = period.move_line_id
            credit_items.append(
                {
                    "line": line,
                    "period": period,
                    "date_from": first,
                    "date_to": period.date_to,
                    "days": days,
                    "price_unit": (invoiced.price_unit if invoiced else line.price_unit)
                    * days
                    / period.days,
                }
            )
        return credit_items

    # ------------------------------------------------------------------
    # Invoicing
    # ------------------------------------------------------------------
    def _flow_recurring_period_label(self, item):
        label = self.env._(
            "Period %(start)s to %(end)s",
            start=item["date_from"],
            end=item["date_to"],
        )
        period_days = item.get("period_days")
        if period_days and item["days"] != period_days:
            label += " " + self.env._(
                "(%(days)s of %(total)s days)",
                days=item["days"],
                total=period_days,
            )
        return label

    def _flow_recurring_invoice_line_values(self, item, sequence):
        line = item["line"]
        values = line._prepare_invoice_line(sequence=sequence)
        values.update(
            {
                "name": "{}\n{}".format(
                    values.get("name") or line.name,
                    self._flow_recurring_period_label(item),
                ),
                "quantity": line.product_uom_qty,
                "price_unit": item["price_unit"],
                "flow_period_start": item["date_from"],
                "flow_period_end": item["date_to"],
            }
        )
        return values

    def _flow_recurring_move_values(self, prepared, date):
        """Values of the invoices and credit notes of the prepared orders, and
        what each move line stands for."""
        move_values, items_by_move = [], []
        for entry in prepared:
            order = entry["order"]
            if order.partner_invoice_id.lang:
                order = order.with_context(lang=order.partner_invoice_id.lang)
            order = order.with_company(order.company_id)
            one_offs = order.order_line.filtered(
                lambda line: (
                    not line.flow_recurrence_id
                    and not line.display_type
                    and line.qty_to_invoice > 0
                )
            )
            for _period_start, items in sorted(entry["invoices"].items()):
                values = order._prepare_invoice()
                values["invoice_date"] = date
                lines = [
                    (0, 0, order._flow_recurring_invoice_line_values(item, sequence))
                    for sequence, item in enumerate(items, start=1)
                ]
                # one-off lines ride on the first period invoice
                lines += [
                    (0, 0, line._prepare_invoice_line(sequence=100 + line.sequence))
                    for line in one_offs
                ]
                one_offs = order.order_line.browse()
                values["invoice_line_ids"] = lines
                move_values.append(values)
                items_by_move.append(("invoice", items))
            if entry["credits"]:
                values = order._prepare_invoice()
                values.update({"move_type": "out_refund", "invoice_date": date})
                values["invoice_line_ids"] = [
                    (
                        0,
                        0,
                        order._flow_recurring_invoice_line_values(item, sequence),
                    )
                    for sequence, item in enumerate(entry["credits"], start=1)
                ]
                move_values.append(values)
                items_by_move.append(("credit", entry["credits"]))
        return move_values, items_by_move

    def _flow_recurring_create_moves(self, prepared, date):
        move_values, items_by_move = self._flow_recurring_move_values(prepared, date)
        if not move_values:
            return self.env["account.move"]
        # sudo: as Odoo's _create_account_invoices, the caller's rights were
        # checked on the orders (button) or it is the cron
        moves = (
            self.env["account.move"]
            .sudo()
            .with_context(default_move_type="out_invoice")
            .create(move_values)
        )
        period_values = []
        for move, (kind, items) in zip(moves, items_by_move, strict=True):
            move_lines = {
                (aml.sale_line_ids[:1].id, aml.flow_period_start): aml
                for aml in move.invoice_line_ids
                if aml.flow_period_start
            }
            for item in items:
                aml = move_lines[item["line"].id, item["date_from"]]
                if kind == "credit":
                    item["period"].write(
                        {"refund_line_id": aml.id, "credited_from": item["date_from"]}
                    )
                    continue
                period_values.append(
                    {
                        "order_line_id": item["line"].id,
                        "recurrence_id": item["plan"].id,
                        "period_start": item["period_start"],
                        "period_end": item["period_end"],
                        "date_from": item["date_from"],
                        "date_to": item["date_to"],
                        "days": item["days"],
                        "period_days": item["period_days"],
                        "move_line_id": aml.id,
                        "move_id": move.id,
                        "amount": aml.price_subtotal,
                    }
                )
        # sudo: periods are read-only for users; the run records them after
        # the caller's access check
        self.env["sale.flow.recurrence.period"].sudo().create(period_values)
        return moves

    def _flow_recurring_invoice(self, date=None, invoice_date=None):
        """Invoice (and credit) what is due on ``date`` for the active orders
        of ``self``, after locking them: a second run, or one at the same time,
        finds the periods invoiced and creates nothing more."""
        date = date or fields.Date.context_today(self)
        orders = self.filtered(
            lambda o: o.state == "sale" and o.flow_recurring_state == "active"
        )
        if not orders:
            return self.env["account.move"]
        lock_rows_for_retry(self.env.cr, "sale_order", orders.ids)
        orders.invalidate_recordset()
        orders.flow_recurring_period_ids.invalidate_recordset()
        orders = orders.filtered(lambda o: o.flow_recurring_state == "active")
        prepared = orders._flow_recurring_prepare(date)
        moves = orders._flow_recurring_create_moves(prepared, invoice_date or date)
        orders._flow_recurring_post(moves)
        orders._flow_recurring_update(date)
        return moves

    def _flow_recurring_post(self, moves):
        """Post the invoices of a run (hook of the automatic workflow)."""
        moves.action_post()

    def _flow_recurring_update(self, date=None):
        """Next invoice date of the running recurring orders; an order whose
        last period is invoiced is closed."""
        date = date or fields.Date.context_today(self)
        running = self.filtered(
            lambda o: (
                o.state == "sale" and o.flow_recurring_state in ("active", "paused")
            )
        )
        if not running:
            return
        running.flow_recurring_period_ids.invalidate_recordset()
        for entry in running._flow_recurring_prepare(date):
            order = entry["order"]
            if entry["invoices"]:
                next_date = min(
                    item["date_from"]
                    if item["plan"].invoicing_mode == "advance"
                    else item["date_to"] + timedelta(days=1)
                    for items in entry["invoices"].values()
                    for item in items
                )
            else:
                next_date = entry["next_date"]
            if entry["credits"]:
                # days invoiced past a line's new end: credited at the next run
                credit_date = min(item["date_from"] for item in entry["credits"])
                next_date = min(next_date, credit_date) if next_date else credit_date
            if order.flow_recurring_state == "paused":
                next_date = False
            values = {}
            if order.flow_recurring_next_date != next_date:
                values["flow_recurring_next_date"] = next_date
            if order.flow_recurring_exception:
                values["flow_recurring_exception"] = False
            if (
                not next_date
                and order.flow_recurring_state == "active"
                and order._flow_recurring_ended(date)
            ):
                values["flow_recurring_state"] = "closed"
            if values:
                order.write(values)
            if values.get("flow_recurring_state") == "closed":
                order.message_post(
                    body=self.env._("Recurring order ended: last period invoiced.")
                )

    def _flow_recurring_ended(self, date):
        self.ensure_one()
        end = self._flow_recurring_end()
        return bool(end) and end < date

    # ------------------------------------------------------------------
    # Crons
    # ------------------------------------------------------------------
    def _flow_recurring_due_domain(self, date):
        return [
            ("state", "=", "sale"),
            ("flow_recurring_state", "=", "active"),
            ("flow_recurring_next_date", "<=", date),
        ]

    @api.model
    def _cron_flow_recurring_invoice(self, date=None, batch_size=None):
        """Invoice every due recurring order, a batch at a time; an order that
        fails gets an activity and is retried at the next run."""
        date = date or fields.Date.context_today(self)
        batch_size = batch_size or self._flow_recurring_batch_size
        processed = []
        done = 0
        while True:
            domain = [
                *self._flow_recurring_due_domain(date),
                ("id", "not in", processed),
            ]
            orders = self.search(
                domain, order="flow_recurring_next_date, id", limit=batch_size
            )
            if not orders:
                break
            processed += orders.ids
            try:
                with self.env.cr.savepoint():
                    orders._flow_recurring_invoice(date)
            except CONCURRENCY_ERRORS:
                raise
            except Exception:  # noqa: BLE001 - one order at a time below
                for order in orders:
                    order._flow_recurring_invoice_one(date)
            done += len(orders)
            self.env["ir.cron"]._notify_progress(
                done=done, remaining=self.search_count(domain)
            )
            self._flow_recurring_commit()
        self._flow_recurring_close_ended(date)
        self._flow_recurring_remind(date)
        return True

    @api.model
    def _flow_recurring_close_ended(self, date):
        """Close the orders whose last period is invoiced and over."""
        self.search(
            [
                ("state", "=", "sale"),
                ("flow_recurring_state", "=", "active"),
                ("flow_recurring_next_date", "=", False),
            ]
        )._flow_recurring_update(date)

    def _flow_recurring_invoice_one(self, date):
        self.ensure_one()
        try:
            with self.env.cr.savepoint():
                return self._flow_recurring_invoice(date)
        except CONCURRENCY_ERRORS:
            raise
        except Exception as error:  # noqa: BLE001 - reported on the order
            _logger.info("Recurring invoicing of %s failed: %s", self.name, error)
            self._flow_recurring_fail(error)
        return self.env["account.move"]

    def _flow_error_text(self, error):
        if isinstance(error, UserError):
            return str(error.args[0])
        return self.env._("Unexpected error: %(error)s", error=repr(error))

    def _flow_recurring_fail(self, error):
        """Leave the failure's reason on the order: field, chatter, activity."""
        self.ensure_one()
        reason = self._flow_error_text(error)
        self.flow_recurring_exception = reason
        self.message_post(
            body=self.env._("Recurring invoicing failed: %(reason)s", reason=reason)
        )
        self._flow_exception_activity(self.env._("Recurring invoice failed"), reason)

    def _flow_exception_activity(self, summary, note):
        """One open exception activity per order, updated on each failure."""
        self.ensure_one()
        activity_type = self.env.ref(
            "sales_order_flow.mail_activity_type_sale_flow_exception"
        )
        existing = self.activity_ids.filtered(
            lambda a: a.activity_type_id == activity_type
        )
        if existing:
            existing[:1].write({"summary": summary, "note": note})
            return
        self.activity_schedule(
            activity_type_id=activity_type.id,
            summary=summary,
            note=note,
            user_id=self.user_id.id or self.env.uid,
        )

    def _flow_recurring_commit(self):
        """Commit a processed batch, except in tests where the test owns the
        transaction."""
        if not odoo.modules.module.current_test:
            self.env.cr.commit()  # pylint: disable=invalid-commit

    def _flow_recurring_end(self):
        """Last day of the recurring order (False: no end)."""
        self.ensure_one()
        ends = [
            line._flow_recurrence_bounds()[1] for line in self._flow_recurring_lines()
        ]
        return max(ends) if ends and all(ends) else False

    @api.model
    def _flow_recurring_remind(self, date):
        """Activity to the salesperson before a recurring order ends."""
        orders = self.search(
            [
                ("state", "=", "sale"),
                ("flow_recurring_state", "in", ("active", "paused")),
                ("flow_recurring_reminder_done", "=", False),
            ]
        )
        reminded = self.browse()
        for order in orders:
            end = order._flow_recurring_end()
            days = max(
                order._flow_recurring_lines().flow_recurrence_id.mapped("reminder_days")
                or [0]
            )
            if not end or not days or not date <= end <= date + timedelta(days=days):
                continue
            order.activity_schedule(
                "mail.mail_activity_data_todo",
                date_deadline=min(end, date + timedelta(days=1)),
                summary=self.env._("Recurring order ends soon"),
                note=self.env._(
                    "%(order)s ends on %(date)s: offer the customer a renewal.",
                    order=order.name,
                    date=end,
                ),
                user_id=order.user_id.id or self.env.uid,
            )
            reminded |= order
        reminded.write({"flow_recurring_reminder_done": True})
