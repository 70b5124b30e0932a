from odoo import _, api, fields, models
from odoo.exceptions import UserError


class AccountMove(models.Model):
    _inherit = "account.move"

    flow_po_date = fields.Date(
        string="Customer PO Date",
        copy=False,
        help="Date of the customer's purchase order, carried from the sales order.",
    )
    flow_po_document = fields.Binary(
        string="Customer PO Document",
        attachment=True,
        copy=False,
    )
    flow_po_document_name = fields.Char(string="Customer PO File Name", copy=False)

    # ---- commissions (issue 5) ----
    flow_commission_line_ids = fields.One2many(
        "sale.flow.commission.line",
        "invoice_id",
        string="Commissions",
        readonly=True,
    )
    flow_commission_settlement_ids = fields.One2many(
        "sale.flow.commission.settlement",
        "invoice_id",
        string="Commission Settlements",
        readonly=True,
    )

    @api.ondelete(at_uninstall=False)
    def _unlink_except_flow_commission_bill(self):
        # sudo: whoever deletes a draft bill may not read commissions
        if self.sudo().flow_commission_settlement_ids:
            raise UserError(
                _(
                    "This bill pays commission settlements: cancel it instead, "
                    "which frees the settlements."
                )
            )

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        posted._flow_commission_create_lines()
        return posted

    def button_draft(self):
        posted_invoices = self.filtered(
            lambda move: (
                move.state == "posted"
                and move.move_type in ("out_invoice", "out_refund")
            )
        )
        res = super().button_draft()
        posted_invoices._flow_commission_cancel_lines()
        return res

    def button_cancel(self):
        res = super().button_cancel()
        self._flow_commission_release_settlements()
        return res

    def _flow_commission_invoices(self):
        return self.filtered(
            lambda move: (
                move.move_type in ("out_invoice", "out_refund")
                and move.state == "posted"
            )
        )

    def _flow_commission_paid_fractions(self):
        """Paid part of each invoice, {invoice id: 0..1}."""
        return {
            move.id: (
                1.0 - move.amount_residual / move.amount_total
                if move.amount_total
                else 1.0
            )
            for move in self
        }

    def _flow_commission_line_info(self, line, costs=None):
        """What the rule engine needs of an invoice line (company currency).

        ``costs`` caches product costs ({(product id, company id): cost}).
        """
        sign = -1.0 if self.move_type == "out_refund" else 1.0
        product = line.product_id
        quantity = line.quantity
        if line.product_uom_id and line.product_uom_id != product.uom_id:
            quantity = line.product_uom_id._compute_quantity(
                quantity, product.uom_id, round=False
            )
        costs = {} if costs is None else costs
        cost_key = (product.id, self.company_id.id)
        if cost_key not in costs:
            costs[cost_key] = product.with_company(self.company_id).standard_price
        return {
            "company": self.company_id,
            "date": self.invoice_date or self.date,
            "partner": self.commercial_partner_id,
            "team": self.team_id,
            "user": self.invoice_user_id,
            "product": product,
            "quantity": sign * line.quantity,
            "discount": line.discount,
            "amount": -line.balance,
            "cost": sign * quantity * costs[cost_key],
        }

    def _flow_commission_create_lines(self):
        """Commission lines of posted customer invoices and credit notes: one
        engine pass for all of them and one bulk insert.
        """
        invoices = self._flow_commission_invoices()
        pairs = [
            (move, line)
            for move in invoices
            for line in move.invoice_line_ids
            if line.display_type == "product" and line.product_id
        ]
        if not pairs:
            return self.env["sale.flow.commission.line"]
        # sudo: commissions follow from posting; whoever posts the invoice
        # need not manage commissions, and the engine reads every agent's volume
        Plan = self.env["sale.flow.commission.plan"].sudo()
        costs = {}
        results = Plan._flow_compute_commissions(
            [move._flow_commission_line_info(line, costs) for move, line in pairs]
        )
        fractions = invoices._flow_commission_paid_fractions()
        Line = self.env["sale.flow.commission.line"].sudo()
        vals_list = []
        for (move, line), commissions in zip(pairs, results, strict=True):
            for commission in commissions:
                if move.company_id.currency_id.is_zero(commission["amount"]):
                    continue
                paid_basis = commission["plan"].payment_basis == "paid"
                fraction = (
                    Line._flow_fraction_for(fractions[move.id], 0.0)
                    if paid_basis
                    else 1.0
                )
                vals_list.append(
                    {
                        "agent_id": commission["agent"].id,
                        "plan_id": commission["plan"].id,
                        "rule_id": commission["rule"].id,
                        "move_line_id": line.id,
                        "invoice_id": move.id,
                        "date": move.invoice_date or move.date,
                        "product_id": line.product_id.id,
                        "partner_id": move.commercial_partner_id.id,
                        "team_id": move.team_id.id,
                        "company_id": move.company_id.id,
                        "base": commission["base"],
                        "rate": commission["rate"],
                        "amount": commission["amount"],
                        "payment_basis": "paid" if paid_basis else "invoiced",
                        "payable_fraction": fraction,
                        "state": Line._flow_state_for(
                            commission["amount"],
                            fraction,
                            move.company_id.currency_id,
                        ),
                    }
                )
        return Line._flow_insert(vals_list)

    def _flow_commission_update_payable(self):
        """Follow payments on the 'when paid' basis (called on reconciliation)."""
        invoices = self._flow_commission_invoices()
        if not invoices:
            return
        # sudo: payments are registered by accountants, not commission managers
        lines = (
            self.env["sale.flow.commission.line"]
            .sudo()
            .search(
                [
                    ("invoice_id", "in", invoices.ids),
                    ("payment_basis", "=", "paid"),
                    ("state", "in", ("draft", "to_settle")),
                ]
            )
        )
        if lines:
            lines._flow_update_payable(invoices._flow_commission_paid_fractions())

    def _flow_commission_cancel_lines(self):
        # sudo: see _flow_commission_create_lines
        lines = (
            self.env["sale.flow.commission.line"]
            .sudo()
            .search([("invoice_id", "in", self.ids), ("state", "!=", "cancelled")])
        )
        return lines._flow_cancel()

    def _flow_commission_release_settlements(self):
        """A cancelled commission bill frees its settlements."""
        # sudo: an accountant cancelling the bill frees the commissions it paid
        settlements = (
            self.sudo()
            .filtered(lambda move: move.state == "cancel")
            .flow_commission_settlement_ids
        )
        settlements._flow_release()

    # ---- rebates (issue 3) ----
    flow_rebate_settlement_line_id = fields.Many2one(
        comodel_name="sale.flow.rebate.settlement.line",
        string="Rebate Settlement Line",
        readonly=True,
        copy=False,
        index="btree_not_null",
        ondelete="restrict",
        help="The rebate this credit note pays. Rebate credit notes do not count "
        "in any rebate volume.",
    )
    flow_rebate_program_id = fields.Many2one(
        comodel_name="sale.flow.rebate.program",
        string="Accrued Rebate Program",
        readonly=True,
        copy=False,
        index="btree_not_null",
        ondelete="restrict",
    )
    flow_rebate_period_start = fields.Date(
        string="Accrued Rebate Period", readonly=True, copy=False
    )
    flow_rebate_accrual_amount = fields.Monetary(
        string="Rebate Accrued",
        currency_field="company_currency_id",
        readonly=True,
        copy=False,
        help="Rebate expense booked by this accrual entry (negative: released).",
    )

    # ---- discounts (issue 3) ----
    def _prepare_product_base_line_for_taxes_computation(self, product_line):
        # Invoice amounts use the unrounded effective discount of the stack
        # (journal entries have no discount: Odoo passes 0 for them).
        base_line = super()._prepare_product_base_line_for_taxes_computation(
            product_line
        )
        if self.is_invoice(include_receipts=True):
            base_line["discount"] = product_line._flow_get_effective_discount()
        return base_line
