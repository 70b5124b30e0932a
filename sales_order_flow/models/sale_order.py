"""Sale order: the order in which the concerns of the flow run.

Each concern lives in its own file (sale_order_<concern>.py); this one
keeps only the hooks of create/write/confirmation that call them in order.
"""

from odoo import api, fields, models

from ..utils import internal_context


class SaleOrder(models.Model):
    _inherit = "sale.order"

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._flow_approval_before_write(vals)
        # Line hooks skip the approval evaluation; it runs once below.
        creator = self._flow_approval_clean_context().with_context(
            **internal_context(self._FLOW_APPROVAL_SKIP_KEY)
        )
        orders = super(SaleOrder, creator).create(vals_list)
        orders = orders.with_env(self.env)
        # Discount rules first: approval rules judge the resulting discounts.
        orders._flow_discount_after_create()
        orders._flow_approval_after_create()
        return orders

    def write(self, vals):
        self._flow_approval_before_write(vals)
        if vals.get("validity_date"):
            new_date = fields.Date.to_date(vals["validity_date"])
            if new_date >= fields.Date.context_today(self):
                vals = dict(vals, flow_expired=False)
        # Line hooks skip the approval evaluation; it runs once below.
        res = super(
            SaleOrder,
            self.with_context(**internal_context(self._FLOW_APPROVAL_SKIP_KEY)),
        ).write(vals)
        self._flow_discount_after_write(vals)
        self._flow_approval_after_write(vals)
        return res

    # ------------------------------------------------------------------
    # Confirmation and portal checks
    # ------------------------------------------------------------------
    def _confirmation_error_message(self):
        error = super()._confirmation_error_message()
        if error:
            return error
        blockers = self._flow_confirmation_blockers()
        return "\n".join(blockers) if blockers else False

    def _flow_confirmation_blockers(self):
        """Return why this quotation cannot be confirmed now (translated texts).

        Used by the internal confirmation, the portal signature and payment, so
        one rule holds everywhere.
        """
        self.ensure_one()
        blockers = []
        if self.flow_po_required and not self.client_order_ref:
            blockers.append(
                self.env._(
                    "%(customer)s requires a purchase order: enter the customer's "
                    "PO reference on %(order)s before confirming it.",
                    customer=self.partner_id.commercial_partner_id.display_name,
                    order=self.name,
                )
            )
        if self._flow_is_past_validity():
            blockers.append(
                self.env._(
                    "%(order)s expired on %(date)s: give it a new expiration date "
                    "before confirming it.",
                    order=self.name,
                    date=self.validity_date,
                )
            )
        blockers += self._flow_approval_blockers()
        blockers += self._flow_agreement_blockers()
        return blockers

    def _flow_portal_blockers(self):
        """Return, in the customer's words, why the quotation cannot be accepted
        or paid on the portal yet."""
        self.ensure_one()
        blockers = []
        if self.flow_po_required and not self.client_order_ref:
            blockers.append(
                self.env._(
                    "Please enter your purchase order reference before accepting "
                    "this quotation."
                )
            )
        if self._flow_is_past_validity():
            blockers.append(
                self.env._(
                    "This quotation has expired. Please ask us for a renewed offer."
                )
            )
        if self._flow_approval_blockers():
            blockers.append(
                self.env._(
                    "This quotation is being reviewed on our side. You can accept "
                    "it as soon as it has been approved."
                )
            )
        return blockers

    def _has_to_be_signed(self):
        return super()._has_to_be_signed() and not self._flow_confirmation_blockers()

    def _has_to_be_paid(self):
        return super()._has_to_be_paid() and not self._flow_confirmation_blockers()

    def action_confirm(self):
        # Lock the enforced agreement lines and check again what remains, so
        # two confirmations at once cannot overrun a maximum together.
        self._flow_lock_agreement_lines()
        self._flow_check_agreement_limits()
        res = super().action_confirm()
        self._flow_note_agreement_overruns()
        return res
