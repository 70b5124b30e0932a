"""Orders placed against sales agreements: terms, limits, overruns."""

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import (
    float_compare,
)

from ..utils import lock_rows_for_retry


class SaleOrder(models.Model):
    _inherit = "sale.order"

    # ------------------------------------------------------------------
    # ---- agreements (issue 4) ----
    # ------------------------------------------------------------------
    flow_agreement_id = fields.Many2one(
        "sale.flow.agreement",
        string="Agreement",
        index="btree_not_null",
        tracking=True,
        check_company=True,
        domain="[('state', '=', 'active'), ('commercial_partner_id', '=', "
        "flow_commercial_partner_id), ('company_id', '=', company_id)]",
        help="Framework agreement the order is placed against: its prices, "
        "discounts and terms apply. Empty: each product finds the customer's "
        "active agreement covering it, if any.",
    )
    flow_commercial_partner_id = fields.Many2one(
        related="partner_id.commercial_partner_id", string="Customer Entity"
    )

    @api.onchange("flow_agreement_id")
    def _onchange_flow_agreement_id(self):
        agreement = self.flow_agreement_id
        if not agreement:
            return
        for fname, value in self._flow_get_agreement_terms(agreement).items():
            self[fname] = value
        for line in self.order_line:
            line._onchange_flow_agreement_line_id()

    def _flow_get_agreement_terms(self, agreement):
        """Order values an agreement sets (hook)."""
        values = {}
        if agreement.pricelist_id:
            values["pricelist_id"] = agreement.pricelist_id
        if agreement.payment_term_id:
            values["payment_term_id"] = agreement.payment_term_id
        if agreement.partner_shipping_id:
            values["partner_shipping_id"] = agreement.partner_shipping_id
        if agreement.incoterm_id and "incoterm" in self._fields:
            values["incoterm"] = agreement.incoterm_id
        return values

    def _flow_agreement_requests(self, lines=None):
        """What the order lines ask of each agreement line, in its unit
        (product unit for quantity lines, untaxed amount in the agreement's
        currency at the order date for value lines):
        ``{agreement line: amount}``."""
        requests = {}
        for line in lines if lines is not None else self.order_line:
            # sudo: the agreement's limits hold whoever sells to the customer
            agreement_line = line.flow_agreement_line_id.sudo()
            if not agreement_line or line.display_type:
                continue
            requests.setdefault(agreement_line, 0.0)
            if agreement_line.commitment_type == "quantity":
                requests[agreement_line] += line.product_uom._compute_quantity(
                    line.product_uom_qty, line.product_id.uom_id
                )
            elif line.currency_id and line.currency_id != agreement_line.currency_id:
                requests[agreement_line] += line.currency_id._convert(
                    line.price_subtotal,
                    agreement_line.currency_id,
                    line.company_id or self.env.company,
                    line.order_id.date_order or fields.Date.context_today(self),
                    round=False,
                )
            else:
                requests[agreement_line] += line.price_subtotal
        return requests

    def _flow_agreement_blockers(self, requests=None):
        """Why the order cannot be confirmed under its agreements."""
        self.ensure_one()
        requests = self._flow_agreement_requests() if requests is None else requests
        if not requests:
            return []
        blockers = []
        # sudo: the agreement's limits hold whoever sells to the customer
        agreement_lines = self.env["sale.flow.agreement.line"].sudo().concat(*requests)
        consumption = agreement_lines._flow_get_consumption()
        day = fields.Date.context_today(self, self.date_order)
        for agreement_line, request in requests.items():
            agreement = agreement_line.agreement_id
            if agreement.state != "active" or not (
                agreement.date_start <= day <= agreement.date_end
            ):
                blockers.append(
                    self.env._(
                        "Agreement %(name)s is not active on %(date)s: remove it "
                        "from %(order)s.",
                        name=agreement.name,
                        date=day,
                        order=self.name,
                    )
                )
                continue
            try:
                agreement_line._flow_check_calloff_size_amount(request)
            except UserError as error:
                blockers.append(error.args[0])
            remaining = consumption[agreement_line.id]["remaining"]
            if (
                agreement_line.max_enforced
                and float_compare(request, remaining, precision_digits=2) > 0
            ):
                blockers.append(
                    self.env._(
                        "%(line)s: %(order)s asks %(request)s but only "
                        "%(remaining)s remains under agreement %(name)s, whose "
                        "maximum is enforced.",
                        line=agreement_line._flow_label(),
                        order=self.name,
                        request=round(request, 2),
                        remaining=round(remaining, 2),
                        name=agreement.name,
                    )
                )
        return blockers

    def _flow_lock_agreement_lines(self):
        # sudo: the agreement's limits hold whoever sells to the customer
        lines = self.order_line.flow_agreement_line_id.sudo().filtered("max_enforced")
        if not lines:
            return
        # what remains of the lines is checked after this, under the lock
        lock_rows_for_retry(self.env.cr, "sale_flow_agreement_line", lines.ids)

    def _flow_check_agreement_limits(self):
        """All the orders confirmed together, against what remains."""
        requests = self._flow_agreement_requests(
            self.filtered(lambda o: o.state in ("draft", "sent")).order_line
        )
        enforced = {
            line: request for line, request in requests.items() if line.max_enforced
        }
        if not enforced or len(self) == 1:
            return  # a single order is checked by its confirmation blockers
        # sudo: what remains of the agreements' limits is read whoever sells,
        # even under another salesperson's agreement (record rules keep the
        # agreements themselves hidden); the lines are already sudo.
        consumption = (
            self.env["sale.flow.agreement.line"]
            .sudo()
            .concat(*enforced)
            ._flow_get_consumption()
        )
        for line, request in enforced.items():
            remaining = consumption[line.id]["remaining"]
            if float_compare(request, remaining, precision_digits=2) > 0:
                raise UserError(
                    self.env._(
                        "%(line)s: these orders ask %(request)s together but only "
                        "%(remaining)s remains under agreement %(name)s.",
                        line=line._flow_label(),
                        request=round(request, 2),
                        remaining=round(remaining, 2),
                        name=line.agreement_id.name,
                    )
                )

    def _flow_note_agreement_overruns(self):
        """Note on the order when it goes beyond what remained of a line
        whose maximum is not enforced; check the consumption threshold."""
        # sudo: the agreement's limits and activities hold whoever sells
        lines = self.order_line.flow_agreement_line_id.sudo()
        if not lines:
            return
        lines.agreement_id._flow_invalidate_consumption()
        consumption = lines._flow_get_consumption()
        for order in self:
            over = [
                line
                # sudo: as above, the agreement's figures whoever sells
                for line in order.order_line.flow_agreement_line_id.sudo()
                if float_compare(
                    consumption[line.id]["remaining"], 0.0, precision_digits=2
                )
                < 0
            ]
            if over:
                order.message_post(
                    body=self.env._(
                        "Beyond the agreement: %(lines)s now exceed what was "
                        "committed.",
                        lines=", ".join(line.display_name for line in over),
                    ),
                    subtype_xmlid="mail.mt_note",
                )
        lines.agreement_id._flow_check_threshold()
