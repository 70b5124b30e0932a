import logging

from dateutil.relativedelta import relativedelta

from odoo import Command, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL, date_utils, float_compare, float_round, format_date
from odoo.tools.misc import formatLang

from ..utils import internal_context, run_isolated, schedule_failure_activity

_logger = logging.getLogger(__name__)

# Set by the program's create/write around its tiers' commands (see
# sale.flow.rebate.tier._check_values): an internal key a client cannot send.
TIERS_CHECKED_BY_PROGRAM_KEY = "sale_flow_rebate_tiers_checked_by_program"


class SaleFlowRebateProgram(models.Model):
    """A retrospective volume rebate: customers earn back a percentage of what
    they were invoiced in a period, by tiers; paid by credit notes."""

    _name = "sale.flow.rebate.program"
    _description = "Rebate Program"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "sequence, name, id"
    _check_company_auto = True
    # accountants (read access) settle programs and the settlement is noted here
    _mail_post_access = "read"

    name = fields.Char(required=True, translate=True, tracking=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        comodel_name="res.company",
        required=True,
        index=True,
        default=lambda self: self.env.company,
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    user_id = fields.Many2one(
        comodel_name="res.users",
        string="Responsible",
        default=lambda self: self.env.user,
        domain="[('share', '=', False)]",
        tracking=True,
        help="Gets an activity when a scheduled settlement or accrual of the "
        "program fails.",
    )
    state = fields.Selection(
        selection=[("draft", "Draft"), ("active", "Active"), ("closed", "Closed")],
        required=True,
        default="draft",
        copy=False,
        tracking=True,
        help="Only active programs show progress, accrue and are settled by the "
        "scheduled action; closed programs can still be settled by hand.",
    )
    partner_ids = fields.Many2many(
        comodel_name="res.partner",
        relation="sale_flow_rebate_program_partner_rel",
        string="Customers",
        domain="[('is_company', '=', True)]",
        help="Customers (companies) of the program; their contacts' invoices count "
        "for them.",
    )
    category_ids = fields.Many2many(
        comodel_name="res.partner.category",
        relation="sale_flow_rebate_program_category_rel",
        string="Customer Tags",
        help="Customers with one of these tags (or a sub-tag) take part too.",
    )
    period_type = fields.Selection(
        selection=[("month", "Month"), ("quarter", "Quarter"), ("year", "Year")],
        string="Period",
        required=True,
        default="quarter",
        tracking=True,
        help="The volume is counted and the rebate settled per period.",
    )
    date_start = fields.Date(
        string="Valid From",
        required=True,
        default=lambda self: date_utils.start_of(
            fields.Date.context_today(self), "year"
        ),
        tracking=True,
    )
    date_end = fields.Date(
        string="Valid Until",
        tracking=True,
        help="Invoices after this date do not count. Leave empty: no end.",
    )
    basis = fields.Selection(
        selection=[("amount", "Invoiced Amount"), ("quantity", "Invoiced Quantity")],
        required=True,
        default="amount",
        tracking=True,
        help="What the tier thresholds measure: the invoiced untaxed amount in the "
        "company currency, or the invoiced quantity (in the products' units). "
        "Refunds reduce it. The rebate is always a percentage of the amount.",
    )
    product_ids = fields.Many2many(
        comodel_name="product.product",
        relation="sale_flow_rebate_program_product_rel",
        string="Products",
        check_company=True,
        help="Only these products count (with the categories below: either). "
        "Leave both empty: every product counts.",
    )
    product_categ_ids = fields.Many2many(
        comodel_name="product.category",
        relation="sale_flow_rebate_program_product_categ_rel",
        string="Product Categories",
        help="Only products of these categories (or their sub-categories) count.",
    )
    tier_method = fields.Selection(
        selection=[("stepped", "Stepped"), ("progressive", "Progressive")],
        required=True,
        default="stepped",
        tracking=True,
        help="Stepped: the whole volume at the rate of the reached tier. "
        "Progressive: each bracket of volume at its own tier's rate.",
    )
    tier_ids = fields.One2many(
        comodel_name="sale.flow.rebate.tier",
        inverse_name="program_id",
        string="Tiers",
        copy=True,
    )
    journal_id = fields.Many2one(
        comodel_name="account.journal",
        string="Credit Note Journal",
        check_company=True,
        domain="[('type', '=', 'sale')]",
        help="Journal of the rebate credit notes. Empty: the company's first sales "
        "journal.",
    )
    product_id = fields.Many2one(
        comodel_name="product.product",
        string="Rebate Product",
        check_company=True,
        help="Product of the credit note lines: its income account and its "
        "customer taxes (through the customer's fiscal position) apply.",
    )
    account_id = fields.Many2one(
        comodel_name="account.account",
        string="Rebate Account",
        check_company=True,
        help="Account of the credit note lines; overrides the product's account. "
        "Without a rebate product the lines carry no taxes.",
    )
    accrual = fields.Boolean(
        string="Accrue Monthly",
        tracking=True,
        help="At each month end, book the rebate earned so far (expense against "
        "accrued liability); the accruals are reversed when the period is settled.",
    )
    accrual_expense_account_id = fields.Many2one(
        comodel_name="account.account",
        string="Rebate Expense Account",
        check_company=True,
    )
    accrual_liability_account_id = fields.Many2one(
        comodel_name="account.account",
        string="Accrued Liability Account",
        check_company=True,
    )
    accrual_journal_id = fields.Many2one(
        comodel_name="account.journal",
        check_company=True,
        domain="[('type', '=', 'general')]",
    )
    accrued_until = fields.Date(
        readonly=True,
        copy=False,
        help="Last month end accrued by the scheduled action; a month it missed "
        "is caught up at its next run.",
    )
    auto_settle = fields.Boolean(
        string="Settle Automatically",
        help="Settle each period once it is over, by the scheduled action.",
    )
    settlement_ids = fields.One2many(
        comodel_name="sale.flow.rebate.settlement",
        inverse_name="program_id",
        string="Settlements",
    )
    settlement_count = fields.Integer(compute="_compute_settlement_count")

    _sql_constraints = [
        (
            "date_check",
            "CHECK(date_end IS NULL OR date_end >= date_start)",
            "A rebate program cannot end before it starts.",
        ),
    ]

    def _compute_settlement_count(self):
        counts = dict(
            self.env["sale.flow.rebate.settlement"]._read_group(
                [("program_id", "in", self.ids)], ["program_id"], ["__count"]
            )
        )
        for program in self:
            program.settlement_count = counts.get(program, 0)

    @api.constrains("tier_ids")
    def _check_tiers(self):
        for program in self:
            program.tier_ids._check_sequence(program.tier_ids)

    @api.constrains(
        "state",
        "product_id",
        "account_id",
        "accrual",
        "accrual_expense_account_id",
        "accrual_liability_account_id",
    )
    def _check_active_setup(self):
        """An active program can be settled and accrued: what the credit notes
        and accrual entries need is there (checked again when they are made:
        an account can be deprecated later)."""
        for program in self.filtered(lambda p: p.state != "draft"):
            program._check_credit_note_setup()
            program._check_usable_accounts()

    def _check_credit_note_setup(self):
        self.ensure_one()
        if not (self.product_id or self.account_id):
            raise ValidationError(
                self.env._(
                    "Set a rebate product or a rebate account on program "
                    "%(name)s: the credit notes need one.",
                    name=self.name,
                )
            )

    def _check_usable_accounts(self, accrual=None):
        """Refuse deprecated accounts (the journal would refuse the entries).
        ``accrual``: only the accrual accounts (True) or only the credit
        notes' (False); both by default."""
        self.ensure_one()
        accounts = self.env["account.account"]
        if accrual is not False and self.accrual:
            accounts |= self.accrual_expense_account_id | (
                self.accrual_liability_account_id
            )
        if accrual is not True:
            accounts |= self.account_id
        deprecated = accounts.filtered("deprecated")
        if deprecated:
            raise ValidationError(
                self.env._(
                    "Rebate program %(name)s uses the deprecated account "
                    "%(account)s: choose another one.",
                    name=self.name,
                    account=deprecated[0].display_name,
                )
            )

    @api.constrains(
        "accrual", "accrual_expense_account_id", "accrual_liability_account_id"
    )
    def _check_accrual_accounts(self):
        for program in self.filtered("accrual"):
            if not (
                program.accrual_expense_account_id
                and program.accrual_liability_account_id
            ):
                raise ValidationError(
                    self.env._(
                        "Rebate program %(name)s accrues: set its expense and "
                        "accrued liability accounts.",
                        name=program.name,
                    )
                )

    @api.constrains("product_id")
    def _check_rebate_product_taxes(self):
        for program in self.filtered("product_id"):
            taxes = program.product_id.taxes_id.filtered(
                lambda tax, program=program: tax.company_id == program.company_id
            )
            if any(taxes.mapped("price_include")):
                # the rebate is computed on untaxed amounts: the credit note's
                # untaxed amount must be exactly the rebate
                raise ValidationError(
                    self.env._(
                        "The rebate product %(product)s has taxes included in its "
                        "price; rebates are untaxed amounts. Use a product with "
                        "taxes excluded from the price, or none.",
                        product=program.product_id.display_name,
                    )
                )

    def _check_settleable(self):
        for program in self:
            if program.state == "draft":
                raise UserError(
                    self.env._(
                        "Activate rebate program %(name)s before settling it.",
                        name=program.name,
                    )
                )
            program._check_credit_note_setup()
            program._check_usable_accounts(accrual=False)
            if not program.tier_ids:
                raise UserError(
                    self.env._(
                        "Rebate program %(name)s has no tiers.", name=program.name
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        programs = super(
            SaleFlowRebateProgram,
            self.with_context(**internal_context(TIERS_CHECKED_BY_PROGRAM_KEY)),
        ).create(vals_list)
        return programs.with_env(self.env)

    def write(self, vals):
        # tiers edited in the form arrive one command at a time: check their
        # order once, when all of them are written (constraint on tier_ids)
        return super(
            SaleFlowRebateProgram,
            self.with_context(**internal_context(TIERS_CHECKED_BY_PROGRAM_KEY)),
        ).write(vals)

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_activate(self):
        for program in self:
            if not program.tier_ids:
                raise UserError(
                    self.env._(
                        "Add at least one tier to rebate program %(name)s before "
                        "activating it.",
                        name=program.name,
                    )
                )
            if not (program.partner_ids or program.category_ids):
                raise UserError(
                    self.env._(
                        "Choose the customers or customer tags of rebate program "
                        "%(name)s before activating it.",
                        name=program.name,
                    )
                )
            program._check_credit_note_setup()
            program._check_usable_accounts()
        self.state = "active"
        return True

    def action_close(self):
        self.state = "closed"
        return True

    def action_draft(self):
        if self.settlement_ids:
            raise UserError(
                self.env._("A rebate program with settlements cannot go back to draft.")
            )
        self.state = "draft"
        return True

    def action_open_settle(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Settle Rebates"),
            "res_model": "sale.flow.rebate.program.settle",
            "view_mode": "form",
            "target": "new",
            "context": {"default_program_id": self.id},
        }

    def action_view_settlements(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "sales_order_flow.sale_flow_rebate_settlement_action"
        )
        action["domain"] = [("program_id", "=", self.id)]
        action["context"] = {"default_program_id": self.id}
        return action

    # ------------------------------------------------------------------
    # Periods and basis
    # ------------------------------------------------------------------

    def _get_period(self, day):
        """Return (first day, last day) of the program's period holding ``day``."""
        self.ensure_one()
        day = fields.Date.to_date(day)
        return (
            date_utils.start_of(day, self.period_type),
            date_utils.end_of(day, self.period_type),
        )

    def _get_period_label(self, period_start):
        self.ensure_one()
        if self.period_type == "month":
            return format_date(self.env, period_start, date_format="MMMM y")
        if self.period_type == "quarter":
            return self.env._(
                "Q%(quarter)s %(year)s",
                quarter=(period_start.month - 1) // 3 + 1,
                year=period_start.year,
            )
        return str(period_start.year)

    def _get_customer_ids(self):
        """Commercial partners taking part: chosen customers and tagged ones."""
        self.ensure_one()
        partners = self.partner_ids.commercial_partner_id
        if self.category_ids:
            # archived customers' invoices still count for the period
            partners |= (
                self.env["res.partner"]
                .with_context(active_test=False)
                .search([("category_id", "child_of", self.category_ids.ids)])
                .commercial_partner_id
            )
        return set(partners.ids)

    def _get_basis_conditions(self, date_from, date_to, partner_ids):
        """SQL conditions on ``line`` (account_move_line), ``move`` and
        ``template`` (product_template) selecting the lines of the basis."""
        self.ensure_one()
        conditions = [
            SQL("move.state = 'posted'"),
            SQL("move.move_type IN ('out_invoice', 'out_refund')"),
            SQL("line.display_type = 'product'"),
            SQL("move.company_id = %s", self.company_id.id),
            SQL("move.commercial_partner_id = ANY(%s)", list(partner_ids)),
            SQL("move.invoice_date BETWEEN %s AND %s", date_from, date_to),
            # rebate credit notes do not reduce the volume they pay back
            SQL("move.flow_rebate_settlement_line_id IS NULL"),
        ]
        limits = []
        if self.product_ids:
            limits.append(SQL("line.product_id = ANY(%s)", self.product_ids.ids))
        if self.product_categ_ids:
            categ_ids = (
                self.env["product.category"]
                .search([("id", "child_of", self.product_categ_ids.ids)])
                .ids
            )
            limits.append(SQL("template.categ_id = ANY(%s)", categ_ids))
        if limits:
            conditions.append(SQL("(%s)", SQL(" OR ").join(limits)))
        return conditions

    def _clip_to_validity(self, date_from, date_to):
        self.ensure_one()
        date_from = max(date_from, self.date_start)
        if self.date_end:
            date_to = min(date_to, self.date_end)
        return date_from, date_to

    def _get_basis(self, date_from, date_to, partner_ids=None, by_month=False):
        """Invoiced volume per customer between two dates, in one query.

        Posted customer invoices minus refunds, product lines only, within the
        program's validity and product limits. Returns
        ``{partner_id: {"amount": float, "quantity": float}}`` (company currency,
        products' units), or with ``by_month``
        ``{(partner_id, first day of month): {...}}``.
        """
        self.ensure_one()
        customers = self._get_customer_ids()
        if partner_ids is not None:
            customers &= set(partner_ids)
        date_from, date_to = self._clip_to_validity(date_from, date_to)
        if not customers or date_from > date_to:
            return {}
        self.env["account.move"].flush_model()
        self.env["account.move.line"].flush_model()
        month = SQL("date_trunc('month', move.invoice_date)::date")
        group_by = (
            SQL("move.commercial_partner_id, %s", month)
            if by_month
            else SQL("move.commercial_partner_id")
        )
        conditions = self._get_basis_conditions(date_from, date_to, customers)
        query = SQL(
            """
            SELECT %(group_by)s,
                   SUM(-line.balance),
                   SUM(
                       CASE WHEN move.move_type = 'out_refund' THEN -1 ELSE 1 END
                       * COALESCE(
                           line.quantity / NULLIF(line_uom.factor, 0)
                           * product_uom.factor,
                           line.quantity
                       )
                   )
              FROM account_move_line line
              JOIN account_move move ON move.id = line.move_id
         LEFT JOIN product_product product ON product.id = line.product_id
         LEFT JOIN product_template template ON template.id = product.product_tmpl_id
         LEFT JOIN uom_uom line_uom ON line_uom.id = line.product_uom_id
         LEFT JOIN uom_uom product_uom ON product_uom.id = template.uom_id
             WHERE %(where)s
          GROUP BY %(group_by)s
            """,
            group_by=group_by,
            where=SQL(" AND ").join(conditions),
        )
        self.env.cr.execute(query)
        # fetched at once: reading a field below may query the same cursor
        rows = self.env.cr.fetchall()
        currency = self.currency_id
        result = {}
        for row in rows:
            key = tuple(row[:2]) if by_month else row[0]
            result[key] = {
                "amount": currency.round(float(row[-2] or 0.0)),
                "quantity": float(row[-1] or 0.0),
            }
        return result

    # ------------------------------------------------------------------
    # Tiers
    # ------------------------------------------------------------------

    def _compute_rebate(self, amount, quantity):
        """Rebate earned by a volume.

        Returns a dict: ``volume`` (what the tiers measure), ``tier`` (reached
        tier, may be empty), ``rate`` (its %), ``rebate`` (company currency),
        ``next_tier`` and ``missing`` (volume still needed to reach it, 0 at the
        top). Stepped: the whole amount at the reached tier's rate. Progressive:
        each bracket at its own rate; on a quantity basis a bracket's amount is
        its share of the quantity times the amount (the average price).
        """
        self.ensure_one()
        currency = self.currency_id
        precision = (
            currency.decimal_places
            if self.basis == "amount"
            else self.env["decimal.precision"].precision_get("Product Unit of Measure")
        )
        volume = float_round(
            amount if self.basis == "amount" else quantity,
            precision_digits=precision,
        )
        tiers = self.tier_ids.sorted("threshold")
        reached = tiers.browse()
        next_tier = tiers.browse()
        for tier in tiers:
            if float_compare(tier.threshold, volume, precision_digits=precision) <= 0:
                reached = tier
            else:
                next_tier = tier
                break
        rebate = 0.0
        if reached and amount > 0:
            if self.tier_method == "stepped":
                rebate = amount * reached.rate / 100.0
            else:
                bounds = [*tiers.mapped("threshold")[1:], None]
                for tier, upper in zip(tiers, bounds, strict=True):
                    top = volume if upper is None else min(volume, upper)
                    portion = top - tier.threshold
                    if portion <= 0:
                        break
                    share = (
                        portion
                        if self.basis == "amount"
                        else (amount * portion / volume)
                    )
                    rebate += share * tier.rate / 100.0
        return {
            "volume": volume,
            "tier": reached,
            "rate": reached.rate,
            "rebate": currency.round(rebate),
            "next_tier": next_tier,
            "missing": float_round(
                next_tier.threshold - volume if next_tier else 0.0,
                precision_digits=precision,
            ),
        }

    def _format_volume(self, volume):
        self.ensure_one()
        if self.basis == "amount":
            return self.currency_id.format(volume)
        return self.env._(
            "%(quantity)s units",
            quantity=formatLang(self.env, volume),
        )

    def _get_progress_text(self, result):
        """One sentence of where a customer stands, e.g. "$ 500.00 more to
        reach the next tier (5.00 %)"."""
        self.ensure_one()
        if result["next_tier"]:
            return self.env._(
                "%(missing)s more to reach the next tier (%(rate)s %%)",
                missing=self._format_volume(result["missing"]),
                rate=formatLang(self.env, result["next_tier"].rate),
            )
        return self.env._("Highest tier reached")

    # ------------------------------------------------------------------
    # Settlement
    # ------------------------------------------------------------------

    def _lock_for_settlement(self):
        """Serialize settlements and accruals of a program: a second run at the
        same time fails at once (Odoo retries the request, which then sees
        what the first run paid); the unique keys of the settlement lines stop
        any run working from a stale snapshot."""
        self.ensure_one()
        self.env.cr.execute(
            SQL(
                "SELECT id FROM sale_flow_rebate_program WHERE id = %s "
                "FOR UPDATE NOWAIT",
                self.id,
            )
        )

    def _get_counted_lines_domain(self):
        """Settlement lines that count: a cancelled credit note paid nothing
        (its line is settled again); a line without credit note recorded an
        overpayment or a deduction."""
        self.ensure_one()
        return [
            ("program_id", "=", self.id),
            "|",
            ("move_id", "=", False),
            ("move_id.state", "!=", "cancel"),
        ]

    def _get_paid(self, period_start):
        """Per customer: (amount settled for the period, last settlement
        sequence)."""
        self.ensure_one()
        Line = self.env["sale.flow.rebate.settlement.line"]
        domain = [("program_id", "=", self.id), ("period_start", "=", period_start)]
        sequences = dict(Line._read_group(domain, ["partner_id"], ["sequence:max"]))
        paid = dict(
            Line._read_group(
                [
                    *self._get_counted_lines_domain(),
                    ("period_start", "=", period_start),
                ],
                ["partner_id"],
                ["amount_settled:sum"],
            )
        )
        return {
            partner.id: (paid.get(partner, 0.0), sequence)
            for partner, sequence in sequences.items()
        }

    def _get_carried(self, partner_ids):
        """Per customer: what was paid beyond the rebates earned (a negative
        amount: late credit notes lowered a period already paid), deducted
        from the next credit notes. All periods settled minus all credit
        notes."""
        self.ensure_one()
        rows = self.env["sale.flow.rebate.settlement.line"]._read_group(
            [*self._get_counted_lines_domain(), ("partner_id", "in", partner_ids)],
            ["partner_id"],
            ["amount_settled:sum", "amount_due:sum"],
        )
        currency = self.currency_id
        return {
            partner.id: min(currency.round(settled - paid), 0.0)
            for partner, settled, paid in rows
        }

    def _get_due(self, period_start, period_end):
        """What each customer would be paid if the period were settled now:
        ``{partner_id: dict(basis..., rebate, paid, settled, carried, due,
        sequence)}``: ``settled`` is the period's change (rebate minus what
        was settled before, negative after late credit notes), ``carried``
        what earlier overpayments deduct from it, ``due`` the credit note."""
        self.ensure_one()
        basis = self._get_basis(period_start, period_end)
        paid = self._get_paid(period_start)
        partner_ids = sorted(set(basis) | set(paid))
        carried = self._get_carried(partner_ids) if partner_ids else {}
        currency = self.currency_id
        result = {}
        for partner_id in partner_ids:
            volume = basis.get(partner_id, {"amount": 0.0, "quantity": 0.0})
            rebate = self._compute_rebate(volume["amount"], volume["quantity"])
            already, sequence = paid.get(partner_id, (0.0, 0))
            settled = currency.round(rebate["rebate"] - already)
            # an earlier overpayment is deducted from what is due now, never
            # more than it
            carry = max(carried.get(partner_id, 0.0), -settled) if settled > 0 else 0
            result[partner_id] = {
                **volume,
                **rebate,
                "paid": currency.round(already),
                "settled": settled,
                "carried": currency.round(carry),
                "due": currency.round(max(settled + carry, 0.0)),
                "sequence": sequence,
            }
        return result

    def _check_period_over(self, period_date, today=None):
        """Only a period that is over can be settled: invoices of the running
        one may still come."""
        self.ensure_one()
        today = fields.Date.to_date(today) or fields.Date.context_today(self)
        period_start, period_end = self._get_period(period_date)
        last_day = min(period_end, self.date_end) if self.date_end else period_end
        if last_day >= today:
            raise UserError(
                self.env._(
                    "The period %(period)s of rebate program %(name)s is still "
                    "running: it can be settled from the day after it ends "
                    "(%(date)s).",
                    period=self._get_period_label(period_start),
                    name=self.name,
                    date=format_date(self.env, last_day),
                )
            )

    def _settle(self, period_date, date=None, today=None):
        """Settle the period holding ``period_date``: one credit note per customer
        for its rebate minus what earlier settlements of the period paid.

        Returns ``(settlement, message)``; the settlement is empty when nothing
        is due (then nothing at all is created). The period's accruals are
        reversed. A customer paid more than it now earns (late credit notes)
        gets a line without credit note, and the difference is deducted from
        its next credit notes. Only a period over by ``today`` (default: the
        user's today) can be settled.
        """
        self.ensure_one()
        self._check_settleable()
        self._check_period_over(period_date, today)
        self._lock_for_settlement()
        date = date or fields.Date.context_today(self)
        period_start, period_end = self._get_period(period_date)
        currency = self.currency_id
        line_values = []
        skipped = 0
        for partner_id, values in self._get_due(period_start, period_end).items():
            if currency.is_zero(values["settled"]):
                skipped += 1
                continue
            # a negative change (late credit notes) is recorded without a
            # credit note: what it leaves overpaid is deducted next time
            line_values.append(
                {
                    "partner_id": partner_id,
                    "basis_amount": values["amount"],
                    "basis_quantity": values["quantity"],
                    "tier_id": values["tier"].id,
                    "rate": values["rate"],
                    "rebate": values["rebate"],
                    "paid_before": values["paid"],
                    "amount_settled": values["settled"],
                    "carried_in": values["carried"],
                    "amount_due": values["due"],
                    "sequence": values["sequence"] + 1,
                }
            )
        label = self._get_period_label(period_start)
        settlement = self.env["sale.flow.rebate.settlement"]
        if line_values:
            settlement = settlement.create(
                self._prepare_settlement_values(period_start, period_end, date)
                | {"line_ids": [Command.create(values) for values in line_values]}
            )
            to_pay = settlement.line_ids.filtered(
                lambda line: currency.compare_amounts(line.amount_due, 0.0) > 0
            )
            to_pay._create_credit_notes()
            # singular and plural spelled out (issue 11: "1 credit notes")
            message = (
                self.env._(
                    "1 credit note for %(amount)s created for %(period)s.",
                    amount=currency.format(settlement.amount_total),
                    period=label,
                )
                if len(to_pay) == 1
                else self.env._(
                    "%(count)s credit notes for %(amount)s created for %(period)s.",
                    count=len(to_pay),
                    amount=currency.format(settlement.amount_total),
                    period=label,
                )
            )
            carried = settlement.line_ids.filtered(
                lambda line: currency.compare_amounts(line.amount_settled, 0.0) < 0
            )
            if carried:
                amount = currency.format(-sum(carried.mapped("amount_settled")))
                message += " " + (
                    self.env._(
                        "1 customer was paid more than it earns now (late credit "
                        "notes): %(amount)s is deducted from its next rebates.",
                        amount=amount,
                    )
                    if len(carried) == 1
                    else self.env._(
                        "%(count)s customers were paid more than they earn now "
                        "(late credit notes): %(amount)s is deducted from their "
                        "next rebates.",
                        count=len(carried),
                        amount=amount,
                    )
                )
        else:
            message = self.env._(
                "Nothing to settle for %(period)s: no customer has a rebate due "
                "(%(count)s already paid or without rebate).",
                period=label,
                count=skipped,
            )
        if skipped and line_values:
            message += " " + (
                self.env._("1 customer had nothing due.")
                if skipped == 1
                else self.env._("%(count)s customers had nothing due.", count=skipped)
            )
        if self.accrual:
            self._reverse_accruals(period_start, date)
        return settlement, message

    def _prepare_settlement_values(self, period_start, period_end, date):
        self.ensure_one()
        sequence = (
            self.env["sale.flow.rebate.settlement"]._read_group(
                [("program_id", "=", self.id), ("period_start", "=", period_start)],
                [],
                ["sequence:max"],
            )[0][0]
            or 0
        )
        return {
            "program_id": self.id,
            "company_id": self.company_id.id,
            "period_start": period_start,
            "period_end": period_end,
            "date": date,
            "sequence": sequence + 1,
        }

    # ------------------------------------------------------------------
    # Accruals
    # ------------------------------------------------------------------

    def _get_accrued(self, period_start):
        """Net amount accrued (posted accruals minus reversals) for a period."""
        self.ensure_one()
        return self.env["account.move"]._read_group(
            [
                ("flow_rebate_program_id", "=", self.id),
                ("flow_rebate_period_start", "=", period_start),
                ("state", "=", "posted"),
            ],
            [],
            ["flow_rebate_accrual_amount:sum"],
        )[0][0]

    def _accrue(self, date):
        """Book the rebate earned but not yet paid in the period holding
        ``date``, less what was already accrued for it (incremental, never
        twice). Returns the entry, or an empty recordset when nothing changed."""
        self.ensure_one()
        self._check_accrual_accounts()
        self._check_usable_accounts(accrual=True)
        self._lock_for_settlement()
        period_start, period_end = self._get_period(date)
        earned = sum(
            max(values["settled"], 0.0)
            for values in self._get_due(period_start, min(period_end, date)).values()
        )
        delta = self.currency_id.round(earned - self._get_accrued(period_start))
        if self.currency_id.is_zero(delta):
            return self.env["account.move"]
        move = self.env["account.move"].create(
            self._prepare_accrual_move_values(period_start, date, delta)
        )
        move.action_post()
        return move

    def _prepare_accrual_move_values(self, period_start, date, amount):
        self.ensure_one()
        label = self.env._(
            "Rebate accrual: %(program)s, %(period)s",
            program=self.name,
            period=self._get_period_label(period_start),
        )
        debit, credit = (amount, 0.0) if amount > 0 else (0.0, -amount)
        values = {
            "move_type": "entry",
            "date": date,
            "ref": label,
            "company_id": self.company_id.id,
            "flow_rebate_program_id": self.id,
            "flow_rebate_period_start": period_start,
            "flow_rebate_accrual_amount": amount,
            "line_ids": [
                Command.create(
                    {
                        "name": label,
                        "account_id": self.accrual_expense_account_id.id,
                        "debit": debit,
                        "credit": credit,
                    }
                ),
                Command.create(
                    {
                        "name": label,
                        "account_id": self.accrual_liability_account_id.id,
                        "debit": credit,
                        "credit": debit,
                    }
                ),
            ],
        }
        if self.accrual_journal_id:
            values["journal_id"] = self.accrual_journal_id.id
        return values

    def _reverse_accruals(self, period_start, date):
        """Reverse the period's accrual entries not reversed yet: once settled,
        the accruals of a period net to zero."""
        self.ensure_one()
        moves = self.env["account.move"].search(
            [
                ("flow_rebate_program_id", "=", self.id),
                ("flow_rebate_period_start", "=", period_start),
                ("state", "=", "posted"),
                ("flow_rebate_accrual_amount", "!=", 0.0),
                ("reversed_entry_id", "=", False),
                ("reversal_move_ids", "=", False),
            ]
        )
        if not moves:
            return moves
        reversals = moves._reverse_moves(
            [
                {
                    "date": max(date, move.date),
                    "ref": self.env._("Reversal of %(ref)s", ref=move.ref),
                    "flow_rebate_program_id": self.id,
                    "flow_rebate_period_start": period_start,
                    "flow_rebate_accrual_amount": -move.flow_rebate_accrual_amount,
                }
                for move in moves
            ]
        )
        reversals.action_post()
        return reversals

    # ------------------------------------------------------------------
    # Scheduled actions
    # ------------------------------------------------------------------

    @api.model
    def _cron_accrue_rebates(self, date=None):
        """Monthly: accrue active programs as of each month end since the last
        one accrued, up to the month that just ended (or ``date``): a month the
        cron missed is caught up. Each program and month in its own savepoint:
        a program that fails gets an activity, the others are accrued."""
        date = fields.Date.to_date(date) or (
            date_utils.start_of(fields.Date.context_today(self), "month")
            - relativedelta(days=1)
        )
        programs = self.search(
            [
                ("state", "=", "active"),
                ("accrual", "=", True),
                ("date_start", "<=", date),
            ]
        )
        units = [
            (program, month_end)
            for program in programs
            for month_end in program._get_months_to_accrue(date)
        ]
        failed = set()

        def accrue(batch):
            for program, month_end in batch:
                if program.id in failed:
                    continue  # its next months wait for the one that failed
                # stays marked if this raises (also a lock conflict, which
                # reports nothing): its later months wait for the next run
                failed.add(program.id)
                program = program.with_company(program.company_id)
                program._accrue(month_end)
                program.accrued_until = month_end
                failed.discard(program.id)

        def report(unit, reason):
            program, month_end = unit
            program._notify_cron_failure(
                self.env._(
                    "Rebate accrual failed for %(date)s: %(reason)s",
                    date=format_date(self.env, month_end),
                    reason=reason,
                )
            )

        run_isolated(self.env, units, accrue, report, label="Rebate accruals")
        return True

    def _get_months_to_accrue(self, date):
        """Month ends to accrue as of ``date``: from the month after the last
        one accrued (or the program's start) to ``date``'s month end, ``date``
        itself when it is not one, within the program's dates."""
        self.ensure_one()
        date = fields.Date.to_date(date)
        first = (
            self.accrued_until + relativedelta(days=1)
            if self.accrued_until
            else self.date_start
        )
        month_ends = []
        month_end = date_utils.end_of(first, "month")
        while month_end <= date and (
            not self.date_end or month_end <= date_utils.end_of(self.date_end, "month")
        ):
            month_ends.append(month_end)
            month_end = date_utils.end_of(month_end + relativedelta(days=1), "month")
        if not month_ends and (not self.accrued_until or self.accrued_until < date):
            month_ends.append(date)
        return month_ends

    @api.model
    def _cron_settle_rebates(self, date=None):
        """Settle the closed periods of programs settled automatically, from the
        last one settled up to the one that just ended: a period the cron
        missed (server down, an error) is caught up at the next run. Each
        program and period in its own savepoint: a program that fails gets an
        activity, the others are settled."""
        today = fields.Date.to_date(date) or fields.Date.context_today(self)
        programs = self.search([("state", "=", "active"), ("auto_settle", "=", True)])
        units = [
            (program, period_end)
            for program in programs
            for period_end in program._get_periods_to_settle(today)
        ]
        failed = set()

        def settle(batch):
            for program, period_end in batch:
                if program.id in failed:
                    continue  # the periods after one that failed wait for it
                # stays marked if this raises (also a lock conflict, which
                # reports nothing): its later periods wait for the next run
                failed.add(program.id)
                program = program.with_company(program.company_id)
                _settlement, message = program._settle(period_end, today, today=today)
                _logger.info("Rebate program %s: %s", program.id, message)
                failed.discard(program.id)

        def report(unit, reason):
            program, period_end = unit
            program._notify_cron_failure(
                self.env._(
                    "Rebate settlement of %(period)s failed: %(reason)s",
                    period=program._get_period_label(
                        program._get_period(period_end)[0]
                    ),
                    reason=reason,
                )
            )

        run_isolated(self.env, units, settle, report, label="Rebate settlements")
        return True

    def _notify_cron_failure(self, note):
        """An activity for the program's responsible: a scheduled run failed."""
        self.ensure_one()
        schedule_failure_activity(
            self,
            self.user_id,
            self.env._("Scheduled rebate run failed"),
            note,
        )

    def _get_periods_to_settle(self, today):
        """Last days of the closed periods the settlement cron settles as of
        ``today``: from the latest period settled (settled again: invoices
        posted late pay only the difference, nothing else is made) or the
        program's start, up to the period before today's, within the program's
        dates."""
        self.ensure_one()
        latest = self.settlement_ids.sorted("period_start", reverse=True)[:1]
        period_start = self._get_period(latest.period_start or self.date_start)[0]
        current_start = self._get_period(today)[0]
        ends = []
        while period_start < current_start and (
            not self.date_end or period_start <= self.date_end
        ):
            period_end = self._get_period(period_start)[1]
            ends.append(period_end)
            period_start = period_end + relativedelta(days=1)
        return ends
