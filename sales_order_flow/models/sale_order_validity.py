"""Quotation validity: customer days, expiry and the daily expiry job."""

from datetime import timedelta

from odoo import api, fields, models

from ..utils import run_isolated, schedule_failure_activity


class SaleOrder(models.Model):
    _inherit = "sale.order"

    # quotations expired (or cancelled) per savepoint and commit by the daily job
    _flow_cron_batch_size = 200

    # ------------------------------------------------------------------
    # Fields: validity
    # ------------------------------------------------------------------
    flow_expired = fields.Boolean(
        string="Expired",
        copy=False,
        index=True,
        tracking=True,
        readonly=True,
        help="Set by the daily check once the quotation's expiration date has "
        "passed; cleared when a new expiration date is given.",
    )

    # ------------------------------------------------------------------
    # Compute methods
    # ------------------------------------------------------------------
    @api.depends("company_id", "partner_id")
    def _compute_validity_date(self):  # pylint: disable=missing-return
        """A customer's own validity days override the company's."""
        super()._compute_validity_date()
        today = fields.Date.context_today(self)
        for order in self:
            days = order.partner_id.commercial_partner_id.flow_quotation_validity_days
            if days > 0:
                order.validity_date = today + timedelta(days)

    def _flow_is_past_validity(self):
        self.ensure_one()
        return self.flow_expired or (
            self.validity_date and self.validity_date < fields.Date.context_today(self)
        )

    # ------------------------------------------------------------------
    # Validity: daily expiry cron
    # ------------------------------------------------------------------
    @api.model
    def _cron_flow_expire_quotations(self):
        """Mark quotations past their validity as expired and, where the company
        asks for it, cancel those expired for longer than its grace days.

        By batches, each in its own savepoint; a batch that fails is run again
        quotation by quotation, and a quotation that fails is left as it is,
        with an activity for its salesperson, while the others go on."""
        today = fields.Date.context_today(self)
        to_expire = self.search(
            [
                ("state", "in", ("draft", "sent")),
                ("flow_expired", "=", False),
                ("validity_date", "<", today),
            ]
        )
        run_isolated(
            self.env,
            to_expire,
            self._flow_expire,
            lambda order, reason: order._flow_notify_cron_failure(
                self.env._("Expiring the quotation failed: %(reason)s", reason=reason)
            ),
            label="Quotation expiry",
            batch_size=self._flow_cron_batch_size,
        )
        expired = self.search(
            [
                ("state", "in", ("draft", "sent")),
                ("flow_expired", "=", True),
                ("company_id.flow_cancel_expired_quotations", "=", True),
            ]
        )
        to_cancel = expired.filtered(
            lambda o: (
                o.validity_date
                and o.validity_date
                + timedelta(days=o.company_id.flow_expiry_grace_days)
                < today
            )
        )
        run_isolated(
            self.env,
            to_cancel,
            self._flow_cancel_expired,
            lambda order, reason: order._flow_notify_cron_failure(
                self.env._(
                    "Cancelling the expired quotation failed: %(reason)s",
                    reason=reason,
                )
            ),
            label="Expired quotation cancellation",
            batch_size=self._flow_cron_batch_size,
        )
        return True

    @api.model
    def _flow_expire(self, orders):
        orders.write({"flow_expired": True})
        orders._message_log_batch(
            bodies={
                # env._: plain _() finds no language inside a comprehension
                order.id: self.env._(
                    "This quotation expired on %(date)s.", date=order.validity_date
                )
                for order in orders
            }
        )

    @api.model
    def _flow_cancel_expired(self, orders):
        orders._action_cancel()
        orders._message_log_batch(
            bodies={
                order.id: self.env._(
                    "Cancelled automatically: expired on %(date)s and not renewed "
                    "within %(days)s grace days.",
                    date=order.validity_date,
                    days=order.company_id.flow_expiry_grace_days,
                )
                for order in orders
            }
        )

    def _flow_notify_cron_failure(self, note):
        """An activity for the salesperson: a scheduled action could not
        process this quotation (once, however often it runs)."""
        self.ensure_one()
        schedule_failure_activity(
            self, self.user_id, self.env._("Scheduled action failed"), note
        )
