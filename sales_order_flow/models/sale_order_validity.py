"""Quotation validity: customer days, expiry and the daily expiry job."""

from datetime import timedelta

from odoo import api, fields, models


class SaleOrder(models.Model):
    _inherit = "sale.order"

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
        asks for it, cancel those expired for longer than its grace days."""
        today = fields.Date.context_today(self)
        to_expire = self.search(
            [
                ("state", "in", ("draft", "sent")),
                ("flow_expired", "=", False),
                ("validity_date", "<", today),
            ]
        )
        if to_expire:
            to_expire.write({"flow_expired": True})
            to_expire._message_log_batch(
                bodies={
                    # env._: plain _() finds no language inside a comprehension
                    order.id: self.env._(
                        "This quotation expired on %(date)s.", date=order.validity_date
                    )
                    for order in to_expire
                }
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
        if to_cancel:
            to_cancel._action_cancel()
            to_cancel._message_log_batch(
                bodies={
                    order.id: self.env._(
                        "Cancelled automatically: expired on %(date)s and not renewed "
                        "within %(days)s grace days.",
                        date=order.validity_date,
                        days=order.company_id.flow_expiry_grace_days,
                    )
                    for order in to_cancel
                }
            )
        return True
