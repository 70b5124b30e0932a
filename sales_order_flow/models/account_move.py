from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, float_is_zero


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
    flow_commission_line_count = fields.Integer(
        string="Commission Lines",
        compute="_compute_flow_commission_line_count",
        groups="sales_team.group_sale_salesman,account.group_account_invoice",
    )

    @api.depends_context("uid")
    def _compute_flow_commission_line_count(self):
        counts = self.env["sale.flow.commission.line"]._flow_count_by(
            "invoice_id", self
        )
        for move in self:
            move.flow_commission_line_count = counts.get(move, 0)

    def action_flow_view_commission_lines(self):
        self.ensure_one()
        # cancelled lines too: the invoice's whole commission history
        return self.env["sale.flow.commission.line"]._flow_action_for(
            [("invoice_id", "=", self.id)], context={}
        )

    @api.ondelete(at_uninstall=False)
    def _unlink_except_flow_commission_bill(self):
        # sudo: whoever deletes a draft bill may not read commissions
        if self.sudo().flow_commission_settlement_ids:
            raise UserError(
                self.env._(
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
        # Odoo's answers None, which XML-RPC cannot carry
        return True if res is None else res

    def button_cancel(self):
        res = super().button_cancel()
        self._flow_commission_release_settlements()
        # Odoo's answers None, which XML-RPC cannot carry (an integrator cancels
        # a commission bill to free its settlement)
        return True if res is None else res

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

    def _flow_commission_read_lines(self):
        """What the rule engine needs of the product lines of these invoices,
        in one query: a list of (invoice line id, info) in invoice order, then
        line order (tier volumes grow in that order). See the plan's
        ``_flow_compute_commissions`` for the info dicts (company currency).
        """
        self.env["account.move.line"].flush_model(
            [
                "move_id",
                "display_type",
                "product_id",
                "product_uom_id",
                "quantity",
                "discount",
                "balance",
                "sequence",
                "sale_line_ids",
            ]
        )
        self.flush_recordset(
            [
                "move_type",
                "company_id",
                "invoice_date",
                "date",
                "commercial_partner_id",
                "team_id",
                "invoice_user_id",
            ]
        )
        self.env["sale.order.line"].flush_model(["flow_agreement_id"])
        self.env.cr.execute(
            SQL(
                """
                SELECT line.id, line.move_id, line.product_id,
                       line.discount, line.balance,
                       -- quantity in the product's unit: per-unit rates and
                       -- the product's cost count units of the product
                       line.quantity * COALESCE(
                           product_uom.factor / NULLIF(line_uom.factor, 0), 1.0
                       ),
                       move.move_type = 'out_refund', move.company_id,
                       COALESCE(move.invoice_date, move.date),
                       move.commercial_partner_id, move.team_id,
                       move.invoice_user_id,
                       (SELECT order_line.flow_agreement_id
                          FROM sale_order_line_invoice_rel rel
                          JOIN sale_order_line order_line
                            ON order_line.id = rel.order_line_id
                         WHERE rel.invoice_line_id = line.id
                           AND order_line.flow_agreement_id IS NOT NULL
                         ORDER BY order_line.id
                         LIMIT 1)
                  FROM account_move_line line
                  JOIN account_move move ON move.id = line.move_id
                  JOIN product_product product ON product.id = line.product_id
                  JOIN product_template template
                    ON template.id = product.product_tmpl_id
                  LEFT JOIN uom_uom line_uom ON line_uom.id = line.product_uom_id
                  LEFT JOIN uom_uom product_uom ON product_uom.id = template.uom_id
                 WHERE line.move_id = ANY(%s)
                   AND line.display_type = 'product'
                 ORDER BY line.move_id, line.sequence, line.id
                """,
                self.ids,
            )
        )
        rows_by_move = defaultdict(list)
        for row in self.env.cr.fetchall():
            rows_by_move[row[1]].append(row)
        rows = [row for move_id in self.ids for row in rows_by_move[move_id]]
        result = []
        for (
            line_id,
            move_id,
            product_id,
            discount,
            balance,
            product_quantity,
            refund,
            company_id,
            date,
            partner_id,
            team_id,
            user_id,
            agreement_id,
        ) in rows:
            sign = -1.0 if refund else 1.0
            result.append(
                (
                    line_id,
                    {
                        "move_id": move_id,
                        "company_id": company_id,
                        "date": date,
                        "partner_id": partner_id,
                        "team_id": team_id or False,
                        "user_id": user_id or False,
                        "product_id": product_id,
                        "agreement_id": agreement_id or False,
                        "quantity": sign * product_quantity,
                        "discount": discount,
                        "amount": -balance,
                        # per unit of the product for now, see below
                        "cost": sign * product_quantity,
                    },
                )
            )
        costs = self._flow_commission_costs([info for _id, info in result])
        for _id, info in result:
            info["cost"] *= costs[info["product_id"], info["company_id"]]
        return result

    @api.model
    def _flow_commission_costs(self, infos):
        """Product costs per (product id, company id) of the line ``infos``,
        read once per company, not per line.
        """
        product_ids_by_company = defaultdict(set)
        for info in infos:
            product_ids_by_company[info["company_id"]].add(info["product_id"])
        costs = {}
        for company_id, product_ids in product_ids_by_company.items():
            products = (
                self.env["product.product"].with_company(company_id).browse(product_ids)
            )
            for product in products:
                costs[product.id, company_id] = product.standard_price
        return costs

    def _flow_commission_create_lines(self):
        """Commission lines of posted customer invoices and credit notes: one
        read of their lines, one engine pass for all of them, one bulk insert.
        """
        invoices = self._flow_commission_invoices()
        if not invoices:
            return self.env["sale.flow.commission.line"]
        lines = invoices._flow_commission_read_lines()
        if not lines:
            return self.env["sale.flow.commission.line"]
        # sudo: commissions follow from posting; whoever posts the invoice
        # need not manage commissions, and the engine reads every agent's volume
        Plan = self.env["sale.flow.commission.plan"].sudo()
        results = Plan._flow_compute_commissions(
            [info for _id, info in lines], lock_volumes=True
        )
        fractions = invoices._flow_commission_paid_fractions()
        Line = self.env["sale.flow.commission.line"].sudo()
        roundings = {
            company.id: company.currency_id.rounding for company in invoices.company_id
        }
        vals_list = []
        for (line_id, info), commissions in zip(lines, results, strict=True):
            rounding = roundings[info["company_id"]]
            for commission in commissions:
                if float_is_zero(commission["amount"], precision_rounding=rounding):
                    continue
                paid_basis = commission["plan"].payment_basis == "paid"
                fraction = (
                    Line._flow_fraction_for(fractions[info["move_id"]], 0.0)
                    if paid_basis
                    else 1.0
                )
                vals_list.append(
                    {
                        "agent_id": commission["agent_id"],
                        "plan_id": commission["plan"].id,
                        "rule_id": commission["rule_id"],
                        "move_line_id": line_id,
                        "invoice_id": info["move_id"],
                        "date": info["date"],
                        "product_id": info["product_id"],
                        "partner_id": info["partner_id"],
                        "team_id": info["team_id"],
                        "company_id": info["company_id"],
                        "base": commission["base"],
                        "rate": commission["rate"],
                        "amount": commission["amount"],
                        "payment_basis": "paid" if paid_basis else "invoiced",
                        "payable_fraction": fraction,
                        "state": Line._flow_state_for(
                            commission["amount"], fraction, rounding
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
                    ("state", "!=", "cancelled"),
                    ("reversed_line_id", "=", False),
                ]
            )
        )
        if lines:
            lines._flow_follow_payments(invoices._flow_commission_paid_fractions())

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
