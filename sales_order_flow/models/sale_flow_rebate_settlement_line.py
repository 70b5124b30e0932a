from odoo import Command, fields, models
from odoo.tools import SQL


class SaleFlowRebateSettlementLine(models.Model):
    """What one customer is paid by one settlement, with its credit note."""

    _name = "sale.flow.rebate.settlement.line"
    _description = "Rebate Settlement Line"
    _order = "settlement_id desc, partner_id, id"
    _check_company_auto = True
    _rec_name = "partner_id"

    settlement_id = fields.Many2one(
        comodel_name="sale.flow.rebate.settlement",
        required=True,
        index=True,
        ondelete="cascade",
    )
    program_id = fields.Many2one(
        related="settlement_id.program_id", store=True, index=True, precompute=True
    )
    company_id = fields.Many2one(
        related="settlement_id.company_id", store=True, precompute=True
    )
    currency_id = fields.Many2one(related="settlement_id.currency_id")
    period_start = fields.Date(
        related="settlement_id.period_start", store=True, precompute=True
    )
    period_end = fields.Date(related="settlement_id.period_end")
    date = fields.Date(related="settlement_id.date", store=True)
    partner_id = fields.Many2one(
        comodel_name="res.partner",
        string="Customer",
        required=True,
        index=True,
        ondelete="restrict",
    )
    sequence = fields.Integer(
        required=True,
        help="1 for the customer's first payment of the period, 2 for the next.",
    )
    basis_amount = fields.Monetary(
        string="Invoiced",
        help="Untaxed amount invoiced in the period, refunds deducted.",
    )
    basis_quantity = fields.Float(
        string="Invoiced Quantity", digits="Product Unit of Measure"
    )
    tier_id = fields.Many2one(comodel_name="sale.flow.rebate.tier", ondelete="set null")
    rate = fields.Float(string="Rate %", digits="Discount")
    rebate = fields.Monetary(help="Rebate earned over the whole period.")
    paid_before = fields.Monetary(
        string="Already Paid",
        help="Paid for the same period by earlier settlements.",
    )
    amount_settled = fields.Monetary(
        string="Settled Now",
        help="Rebate earned minus what earlier settlements of the period counted; "
        "negative when late credit notes lowered a rebate already paid (then "
        "deducted from the customer's next credit notes).",
    )
    carried_in = fields.Monetary(
        string="Deducted",
        help="Earlier overpayment deducted from this credit note.",
    )
    amount_due = fields.Monetary(
        string="Paid Now",
        help="Untaxed amount of the credit note (none when zero): settled now "
        "minus what is deducted.",
    )
    move_id = fields.Many2one(
        comodel_name="account.move",
        string="Credit Note",
        readonly=True,
        copy=False,
        index="btree_not_null",
    )
    move_state = fields.Selection(related="move_id.state", string="Credit Note Status")

    _sql_constraints = [
        # the database, not only the lock, guarantees a period is paid once:
        # a second run working from a stale snapshot takes the same sequence
        (
            "payment_unique",
            "UNIQUE(program_id, partner_id, period_start, sequence)",
            "This customer's rebate for the period was just paid by another "
            "settlement; reload to see it.",
        ),
        (
            "amount_due_positive",
            "CHECK(amount_due >= 0)",
            "A rebate settlement pays positive amounts only.",
        ),
    ]

    def init(self):
        # lines settled before overpayments were carried: what they settled
        # is what they paid (only those rows, once)
        self.env.cr.execute(
            SQL(
                "UPDATE sale_flow_rebate_settlement_line SET amount_settled = "
                "amount_due WHERE amount_settled IS NULL"
            )
        )

    def _prepare_credit_note_values(self):
        self.ensure_one()
        program = self.program_id
        settlement = self.settlement_id
        label = self.env._(
            "Rebate %(program)s, %(period)s",
            program=program.name,
            period=settlement.period_label,
        )
        line_values = {
            "name": label,
            "quantity": 1.0,
            "price_unit": self.amount_due,
        }
        if program.product_id:
            # taxes: the product's customer taxes through the fiscal position
            # (computed by the invoice line), on top of the untaxed rebate
            line_values["product_id"] = program.product_id.id
        else:
            line_values["tax_ids"] = [Command.clear()]
        if program.account_id:
            line_values["account_id"] = program.account_id.id
        values = {
            "move_type": "out_refund",
            "partner_id": self.partner_id.id,
            "company_id": settlement.company_id.id,
            "currency_id": settlement.currency_id.id,
            "invoice_date": settlement.date,
            "date": settlement.date,
            "invoice_origin": settlement.name,
            "ref": label,
            "flow_rebate_settlement_line_id": self.id,
            "invoice_line_ids": [Command.create(line_values)],
        }
        if program.journal_id:
            values["journal_id"] = program.journal_id.id
        return values

    def _create_credit_notes(self):
        """One posted credit note per line, created and posted in batch."""
        # no "created" note on each credit note: the settlement tells the story
        moves = (
            self.env["account.move"]
            .with_context(default_move_type="out_refund", mail_create_nolog=True)
            .create([line._prepare_credit_note_values() for line in self])
        )
        moves.action_post()
        for line, move in zip(self, moves, strict=True):
            line.move_id = move
        return moves

    def _get_statement_data(self):
        """Values of the rebate statement of this customer and period."""
        self.ensure_one()
        program = self.program_id
        months = program._get_basis(
            self.period_start,
            self.period_end,
            partner_ids=[self.partner_id.id],
            by_month=True,
        )
        paid_lines = self.search(
            [
                ("program_id", "=", program.id),
                ("partner_id", "=", self.partner_id.id),
                ("period_start", "=", self.period_start),
                ("sequence", "<=", self.sequence),
            ],
            order="sequence",
        )
        return {
            "program": program,
            "months": [
                {
                    "month": month,
                    "amount": values["amount"],
                    "quantity": values["quantity"],
                }
                for (_partner, month), values in sorted(months.items())
            ],
            "tiers": program.tier_ids.sorted("threshold"),
            "payments": paid_lines,
        }
