from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL, float_compare, float_is_zero, float_round


class SaleFlowCommissionLine(models.Model):
    """What one agent earns on one customer invoice line.

    Made when the invoice is posted (negative on credit notes: clawback),
    payable at once or in proportion to the invoice's payments, settled once.
    Amounts are in the company's currency at the invoice's rate.
    """

    _name = "sale.flow.commission.line"
    _description = "Commission Line"
    _order = "date desc, id desc"
    _rec_names_search = ["invoice_id", "agent_id", "product_id"]

    agent_id = fields.Many2one("res.partner", required=True, index=True, readonly=True)
    agent_type = fields.Selection(
        related="agent_id.flow_agent_type",
        store=True,
        precompute=True,
        string="Agent Type",
    )
    plan_id = fields.Many2one("sale.flow.commission.plan", readonly=True, index=True)
    rule_id = fields.Many2one(
        "sale.flow.commission.rule",
        string="Rule Applied",
        readonly=True,
        ondelete="set null",
    )
    move_line_id = fields.Many2one(
        "account.move.line",
        string="Invoice Line",
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
    )
    invoice_id = fields.Many2one(
        "account.move",
        readonly=True,
        index=True,
        ondelete="set null",
    )
    date = fields.Date(required=True, index=True, readonly=True)
    product_id = fields.Many2one("product.product", readonly=True, index=True)
    partner_id = fields.Many2one(
        "res.partner", string="Customer", readonly=True, index=True
    )
    team_id = fields.Many2one("crm.team", string="Sales Team", readonly=True)
    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, index=True
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    base = fields.Monetary(
        readonly=True,
        help="Invoiced untaxed amount or margin the commission is computed on.",
    )
    rate = fields.Float(
        digits=(16, 4),
        readonly=True,
        help="Percentage of the base, or amount per unit for fixed rules.",
    )
    amount = fields.Monetary(string="Commission", readonly=True)
    payment_basis = fields.Selection(
        [("invoiced", "When Invoiced"), ("paid", "When Paid")],
        required=True,
        default="invoiced",
        readonly=True,
    )
    payable_fraction = fields.Float(
        digits=(16, 6),
        default=1.0,
        readonly=True,
        help="Part of the commission that can be settled: 1 when invoiced, or "
        "the paid part of the invoice on the 'when paid' basis.",
    )
    fraction_start = fields.Float(
        digits=(16, 6),
        readonly=True,
        help="Paid part of the invoice already settled by an earlier part of "
        "this commission (set when a partly paid line is settled).",
    )
    amount_payable = fields.Monetary(
        string="Payable",
        compute="_compute_amount_payable",
        store=True,
        precompute=True,
    )
    state = fields.Selection(
        [
            ("draft", "Not Payable Yet"),
            ("to_settle", "To Settle"),
            ("settled", "Settled"),
            ("cancelled", "Cancelled"),
        ],
        required=True,
        default="to_settle",
        index=True,
        readonly=True,
    )
    settlement_id = fields.Many2one(
        "sale.flow.commission.settlement",
        readonly=True,
        index="btree_not_null",
        ondelete="restrict",
        copy=False,
    )
    reversed_line_id = fields.Many2one(
        "sale.flow.commission.line",
        string="Reverses",
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
        help="The settled commission this line takes back (invoice cancelled).",
    )

    _sql_constraints = [
        # the database itself keeps a settled line on exactly one settlement
        (
            "settled_has_settlement",
            "CHECK((state = 'settled') = (settlement_id IS NOT NULL))",
            "A commission line is settled exactly when it belongs to a settlement.",
        ),
        (
            "reversed_once",
            "UNIQUE(reversed_line_id)",
            "A settled commission line is reversed only once.",
        ),
        (
            "fraction_range",
            "CHECK(payable_fraction >= 0 AND payable_fraction <= 1 "
            "AND fraction_start >= 0 AND fraction_start < 1)",
            "The payable part of a commission is between 0 and 1.",
        ),
    ]

    # stored fields given to _flow_insert, Many2one first
    _FLOW_M2O_FIELDS = (
        "agent_id",
        "plan_id",
        "rule_id",
        "move_line_id",
        "invoice_id",
        "product_id",
        "partner_id",
        "team_id",
        "company_id",
    )
    _FLOW_VALUE_FIELDS = (
        "date",
        "base",
        "rate",
        "amount",
        "payment_basis",
        "payable_fraction",
        "state",
    )
    _FLOW_INSERT_FIELDS = _FLOW_M2O_FIELDS + _FLOW_VALUE_FIELDS

    def write(self, vals):
        # the database keeps these too; checked first for a readable message
        for name in ("payable_fraction", "fraction_start"):
            value = vals.get(name) or 0.0
            if value < 0 or value > 1 or (name == "fraction_start" and value == 1):
                raise ValidationError(
                    self.env._("The payable part of a commission is between 0 and 1.")
                )
        if "state" in vals or "settlement_id" in vals:
            for line in self:
                state = vals.get("state", line.state)
                settlement = vals.get("settlement_id", line.settlement_id.id)
                if (state == "settled") != bool(settlement):
                    raise ValidationError(
                        self.env._(
                            "A commission line is settled exactly when it belongs "
                            "to a settlement: settle it with the Settle "
                            "Commissions wizard."
                        )
                    )
        return super().write(vals)

    @api.depends("amount", "payable_fraction")
    def _compute_amount_payable(self):
        for line in self:
            line.amount_payable = line.currency_id.round(
                line.amount * line.payable_fraction
            )

    @api.depends("invoice_id", "agent_id", "product_id")
    def _compute_display_name(self):
        for line in self:
            line.display_name = " - ".join(
                name
                for name in (
                    line.invoice_id.name,
                    line.agent_id.name,
                    line.product_id.display_name,
                )
                if name
            )

    # ------------------------------------------------------------------
    # Business methods
    # ------------------------------------------------------------------
    @api.model
    def _flow_fraction_for(self, invoice_fraction, fraction_start):
        """Own payable fraction of a line covering the invoice's paid part from
        ``fraction_start`` to 1, when ``invoice_fraction`` of it is paid.
        """
        own = (invoice_fraction - fraction_start) / (1.0 - fraction_start)
        return float_round(min(max(own, 0.0), 1.0), precision_digits=6)

    @api.model
    def _flow_state_for(self, amount, fraction, rounding):
        """State of a line of ``amount`` whose ``fraction`` is payable, in a
        currency of ``rounding``: nothing payable yet is 'draft'."""
        payable = float_round(amount * fraction, precision_rounding=rounding)
        return (
            "draft"
            if float_is_zero(payable, precision_rounding=rounding)
            else "to_settle"
        )

    def _flow_update_payable(self, invoice_fractions):
        """Payable part of unsettled 'when paid' lines from their invoice's
        paid part ({invoice id: fraction}); one write per distinct result.
        """
        groups = defaultdict(list)
        for line in self:
            if line.payment_basis != "paid" or line.state not in ("draft", "to_settle"):
                continue
            fraction = self._flow_fraction_for(
                invoice_fractions.get(line.invoice_id.id, 0.0), line.fraction_start
            )
            state = self._flow_state_for(
                line.amount, fraction, line.currency_id.rounding
            )
            if (
                float_compare(fraction, line.payable_fraction, precision_digits=6)
                or state != line.state
            ):
                groups[(fraction, state)].append(line.id)
        for (fraction, state), ids in groups.items():
            self.browse(ids).write({"payable_fraction": fraction, "state": state})

    def _flow_follow_payments(self, invoice_fractions):
        """Follow the paid part of the invoices ({invoice id: fraction}):
        take back what was settled beyond it, then update what is payable.

        ``self``: the invoices' commission lines but cancelled ones and
        reversals of cancelled invoices.
        """
        self._flow_take_back_unpaid(invoice_fractions)
        lines = self.search(
            [
                ("invoice_id", "in", list(invoice_fractions)),
                ("payment_basis", "=", "paid"),
                ("state", "in", ("draft", "to_settle")),
            ]
        )
        lines._flow_update_payable(invoice_fractions)

    def _flow_take_back_unpaid(self, invoice_fractions):
        """Payments reversed after their part was settled: take that part back.

        The lines of one invoice line, agent and plan form a chain whose
        amounts add up to the commission. Its unsettled 'when paid' line (the
        remainder) starts at the paid part of the invoice already settled
        (``fraction_start``; 1 when all of it was settled). When the invoice's
        paid part falls below that start, the chain gets a line taking back the
        commission times the difference, payable at once (the next settlement
        nets it), and the remainder starts again at the paid part: paid again,
        it is earned again.
        """
        chains = defaultdict(lambda: self.browse())
        for line in self:
            chains[line.move_line_id, line.agent_id, line.plan_id] |= line
        new_lines = []
        for chain in chains.values():
            settled = chain.filtered(
                lambda line: line.state == "settled" and line.payment_basis == "paid"
            )
            if not settled:
                continue
            remainder = chain.filtered(
                lambda line: (
                    line.payment_basis == "paid"
                    and line.state in ("draft", "to_settle")
                )
            )[:1]
            start = remainder.fraction_start if remainder else 1.0
            paid = invoice_fractions.get(chain.invoice_id[:1].id, 0.0)
            if float_compare(paid, start, precision_digits=6) >= 0:
                continue
            currency = chain.currency_id[:1]
            total = sum(chain.mapped("amount"))
            total_base = sum(chain.mapped("base"))
            taken = currency.round(total * (start - paid))
            taken_base = currency.round(total_base * (start - paid))
            kept = chain - remainder
            rest = {
                "amount": total - sum(kept.mapped("amount")) + taken,
                "base": total_base - sum(kept.mapped("base")) + taken_base,
                "fraction_start": float_round(paid, precision_digits=6),
                "payable_fraction": 0.0,
                "state": "draft",
            }
            new_lines.append(
                {
                    **settled[-1:]._flow_prepare_reversal_values(),
                    "base": -taken_base,
                    "amount": -taken,
                    "reversed_line_id": False,
                }
            )
            if remainder:
                remainder.write(rest)
            else:
                new_lines.append(
                    {
                        **settled[-1:]._flow_prepare_reversal_values(),
                        **rest,
                        "date": settled[-1:].date,
                        "payment_basis": "paid",
                        "reversed_line_id": False,
                    }
                )
        return self.create(new_lines)

    @api.model
    def _flow_insert(self, vals_list):
        """Create commission lines in bulk: one INSERT of column arrays.

        Commission lines are append-only records computed by the addon, with no
        ORM side effect (no chatter, no Python constraint; the database checks
        still apply): the ORM's create costs about 1 ms a line, too slow for
        100,000 invoice lines. ``vals_list`` holds the stored fields of
        ``_FLOW_INSERT_FIELDS`` (Many2one as ids); ``agent_type`` and
        ``amount_payable`` are computed here as the ORM would.
        """
        if not vals_list:
            return self.browse()
        self.check_access("create")
        agents = self.env["res.partner"].browse(
            {vals["agent_id"] for vals in vals_list}
        )
        agent_types = {agent.id: agent.flow_agent_type for agent in agents}
        roundings = {
            company.id: company.currency_id.rounding
            for company in self.env["res.company"].browse(
                {vals["company_id"] for vals in vals_list}
            )
        }
        columns = {
            name: [vals.get(name) or None for vals in vals_list]
            for name in self._FLOW_M2O_FIELDS
        }
        columns.update(
            {
                name: [vals[name] for vals in vals_list]
                for name in self._FLOW_VALUE_FIELDS
            }
        )
        columns["agent_type"] = [agent_types[vals["agent_id"]] for vals in vals_list]
        columns["amount_payable"] = [
            float_round(
                vals["amount"] * vals["payable_fraction"],
                precision_rounding=roundings[vals["company_id"]],
            )
            for vals in vals_list
        ]
        now = self.env.cr.now()
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO sale_flow_commission_line
                       (%(columns)s, create_uid, create_date, write_uid, write_date)
                SELECT *, %(uid)s, %(now)s, %(uid)s, %(now)s
                  FROM unnest(%(arrays)s)
                RETURNING id
                """,
                columns=SQL(", ").join(map(SQL.identifier, columns)),
                arrays=SQL(", ").join(
                    SQL(
                        "%s::%s[]",
                        values,
                        SQL(self._fields[name].column_type[1]),
                    )
                    for name, values in columns.items()
                ),
                uid=self.env.uid,
                now=now,
            )
        )
        ids = [row[0] for row in self.env.cr.fetchall()]
        # the invoices' commission lists now hold more lines
        self.env["account.move"].invalidate_model(["flow_commission_line_ids"])
        return self.browse(ids)

    def _flow_cancel(self):
        """Take back commissions of cancelled invoices: unsettled lines are
        cancelled, settled ones get a reversing line to settle.
        """
        originals = self.filtered(lambda line: not line.reversed_line_id)
        reversed_ids = set(
            self.search(
                [("reversed_line_id", "in", originals.ids)]
            ).reversed_line_id.ids
        )
        originals.filtered(lambda line: line.state in ("draft", "to_settle")).write(
            {"state": "cancelled"}
        )
        to_reverse = originals.filtered(
            lambda line: line.state == "settled" and line.id not in reversed_ids
        )
        return self.create(
            [line._flow_prepare_reversal_values() for line in to_reverse]
        )

    def _flow_prepare_reversal_values(self):
        self.ensure_one()
        return {
            "agent_id": self.agent_id.id,
            "plan_id": self.plan_id.id,
            "rule_id": self.rule_id.id,
            "move_line_id": self.move_line_id.id,
            "invoice_id": self.invoice_id.id,
            "date": fields.Date.context_today(self),
            "product_id": self.product_id.id,
            "partner_id": self.partner_id.id,
            "team_id": self.team_id.id,
            "company_id": self.company_id.id,
            "base": -self.base,
            "rate": self.rate,
            "amount": -self.amount,
            "payment_basis": "invoiced",
            "payable_fraction": 1.0,
            "state": "to_settle",
            "reversed_line_id": self.id,
        }

    def _flow_split_payable(self):
        """Before settling partly payable lines: keep the payable part on the
        line (fully payable) and move the rest to a new line that keeps
        following the invoice's payments.
        """
        remainders = []
        for line in self:
            amount_rest = line.amount - line.amount_payable
            if line.currency_id.is_zero(amount_rest):
                continue
            fraction = line.payable_fraction
            invoice_fraction = line.fraction_start + fraction * (
                1.0 - line.fraction_start
            )
            base_payable = line.currency_id.round(line.base * fraction)
            remainders.append(
                {
                    **line._flow_prepare_reversal_values(),
                    "date": line.date,
                    "base": line.base - base_payable,
                    "amount": amount_rest,
                    "payment_basis": "paid",
                    "payable_fraction": 0.0,
                    "fraction_start": float_round(invoice_fraction, precision_digits=6),
                    "state": "draft",
                    "reversed_line_id": False,
                }
            )
            line.write(
                {
                    "base": base_payable,
                    "amount": line.amount_payable,
                    "payable_fraction": 1.0,
                }
            )
        return self.create(remainders)

    def _flow_mark_settled(self, settlement):
        """Attach the lines to ``settlement`` in one conditional update: only
        lines still unsettled are taken. Returns the number taken; the caller
        must fail when it is not all of them (another run took some).
        """
        self.flush_model()
        self.env.cr.execute(
            SQL(
                """
                UPDATE sale_flow_commission_line
                   SET settlement_id = %(settlement)s,
                       state = 'settled',
                       write_uid = %(uid)s,
                       write_date = (now() at time zone 'UTC')
                 WHERE id = ANY(%(ids)s)
                   AND settlement_id IS NULL
                   AND state = 'to_settle'
                """,
                settlement=settlement.id,
                uid=self.env.uid,
                ids=self.ids,
            )
        )
        taken = self.env.cr.rowcount
        self.invalidate_recordset(["settlement_id", "state", "write_uid", "write_date"])
        settlement.invalidate_recordset(["line_ids"])
        return taken

    def _flow_release(self):
        """Lines of a cancelled settlement can be settled again."""
        self.write({"settlement_id": False, "state": "to_settle"})

    @api.model
    def _flow_count_by(self, field_name, records, domain=()):
        """Lines per record of ``records`` ({record: count}) through the Many2one
        ``field_name``, under the current user's access rules (smart buttons).
        """
        return dict(
            self._read_group(
                [(field_name, "in", records.ids), *domain], [field_name], ["__count"]
            )
        )

    @api.model
    def _flow_action_for(self, domain, context=None):
        """The commission lines action, restricted to ``domain``."""
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "sales_order_flow.sale_flow_commission_line_action"
        )
        action["domain"] = domain
        if context is not None:
            action["context"] = context
        return action

    def action_open_invoice(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "account.move",
            "res_id": self.invoice_id.id,
            "view_mode": "form",
            "name": self.env._("Invoice"),
        }
