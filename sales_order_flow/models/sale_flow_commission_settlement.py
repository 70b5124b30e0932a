from odoo import Command, api, fields, models
from odoo.exceptions import UserError, ValidationError


class SaleFlowCommissionSettlement(models.Model):
    """The commissions of one agent for one period, settled together.

    Made by the settlement wizard. External agents' settlements become vendor
    bills; cancelling the bill (or the settlement) frees its lines.
    """

    _name = "sale.flow.commission.settlement"
    _description = "Commission Settlement"
    _inherit = ["mail.thread", "portal.mixin"]
    _order = "date_to desc, id desc"

    name = fields.Char(
        string="Reference", required=True, readonly=True, copy=False, default="/"
    )
    agent_id = fields.Many2one("res.partner", required=True, index=True, readonly=True)
    agent_type = fields.Selection(related="agent_id.flow_agent_type", store=True)
    company_id = fields.Many2one(
        "res.company",
        required=True,
        index=True,
        readonly=True,
        default=lambda self: self.env.company,
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    period_type = fields.Selection(
        [("month", "Month"), ("quarter", "Quarter"), ("year", "Year")],
        required=True,
        readonly=True,
    )
    date_from = fields.Date(required=True, readonly=True)
    date_to = fields.Date(required=True, readonly=True)
    line_ids = fields.One2many(
        "sale.flow.commission.line", "settlement_id", string="Commission Lines"
    )
    line_count = fields.Integer(compute="_compute_line_count")
    amount_total = fields.Monetary(
        string="Total",
        readonly=True,
        help="Sum of the settled commissions, fixed when they are settled.",
    )
    state = fields.Selection(
        [
            ("settled", "Settled"),
            ("invoiced", "Invoiced"),
            ("cancel", "Cancelled"),
        ],
        default="settled",
        required=True,
        readonly=True,
        tracking=True,
        index=True,
    )
    invoice_id = fields.Many2one(
        "account.move",
        string="Vendor Bill",
        readonly=True,
        copy=False,
        index="btree_not_null",
        ondelete="restrict",
        tracking=True,
    )
    # What a reader needs (issue 11): "invoiced" only says a bill exists; the
    # bill's own state tells whether it is a draft, posted or paid.
    bill_status = fields.Selection(
        [
            ("settled", "Settled"),
            ("bill_draft", "Bill Draft"),
            ("billed", "Billed"),
            ("paid", "Paid"),
            ("cancel", "Cancelled"),
        ],
        string="Status",
        compute="_compute_bill_status",
        help="Settled: no vendor bill (yet). Bill Draft: the vendor bill is "
        "still a draft. Billed: the bill is posted. Paid: the bill is paid.",
    )

    _sql_constraints = [
        (
            "dates_ordered",
            "CHECK(date_from <= date_to)",
            "A settlement's period cannot end before it starts.",
        ),
    ]

    def _compute_line_count(self):
        counts = dict(
            self.env["sale.flow.commission.line"]._read_group(
                [("settlement_id", "in", self.ids)], ["settlement_id"], ["__count"]
            )
        )
        for settlement in self:
            settlement.line_count = counts.get(settlement, 0)

    @api.depends("state", "invoice_id.state", "invoice_id.payment_state")
    def _compute_bill_status(self):
        for settlement in self:
            # sudo: only the bill's state is shown, to whoever reads the
            # settlement (portal agents and salespeople may not read bills)
            bill = settlement.sudo().invoice_id
            if settlement.state == "cancel":
                settlement.bill_status = "cancel"
            elif settlement.state != "invoiced" or not bill:
                settlement.bill_status = "settled"
            elif bill.state == "draft":
                settlement.bill_status = "bill_draft"
            elif bill.payment_state in ("paid", "in_payment"):
                settlement.bill_status = "paid"
            else:
                settlement.bill_status = "billed"

    def _compute_access_url(self):  # pylint: disable=missing-return
        super()._compute_access_url()
        for settlement in self:
            settlement.access_url = f"/my/commissions/settlement/{settlement.id}"

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            # the database refuses it too; checked first for a readable message
            date_from, date_to = vals.get("date_from"), vals.get("date_to")
            if (
                date_from
                and date_to
                and fields.Date.to_date(date_from) > fields.Date.to_date(date_to)
            ):
                raise ValidationError(
                    self.env._("A settlement's period cannot end before it starts.")
                )
            if vals.get("name", "/") == "/":
                vals["name"] = self.env["ir.sequence"].next_by_code(
                    "sale.flow.commission.settlement"
                ) or self.env._("New")
        return super().create(vals_list)

    def _get_report_base_filename(self):
        self.ensure_one()
        return self.env._("Commission Statement - %(name)s", name=self.name)

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_view_lines(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "sales_order_flow.sale_flow_commission_line_action"
        )
        action["domain"] = [("settlement_id", "=", self.id)]
        action["context"] = {}
        return action

    def action_view_bill(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "account.move",
            "res_id": self.invoice_id.id,
            "view_mode": "form",
        }

    def action_create_bill(self):
        self._flow_check_settler()
        journal = self.env["account.journal"].search(
            [
                *self.env["account.journal"]._check_company_domain(self.company_id),
                ("type", "=", "purchase"),
            ],
            limit=1,
        )
        if not journal:
            raise UserError(
                self.env._("Create a purchase journal for the vendor bills first.")
            )
        bills = self._flow_create_bills(journal)
        if not bills:
            return True
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account.action_move_in_invoice_type"
        )
        if len(bills) == 1:
            action.update(
                {"res_id": bills.id, "view_mode": "form", "views": [(False, "form")]}
            )
        else:
            action["domain"] = [("id", "in", bills.ids)]
        return action

    def action_cancel(self):
        self._flow_check_settler()
        if any(
            settlement.invoice_id and settlement.invoice_id.state != "cancel"
            for settlement in self
        ):
            raise UserError(
                self.env._(
                    "Cancel the vendor bill of the settlement first; that frees it."
                )
            )
        self._flow_release()
        return True

    # ------------------------------------------------------------------
    # Business methods
    # ------------------------------------------------------------------
    @api.model
    def _flow_check_settler(self):
        """Accountants settle commissions (they make and pay the vendor
        bills), as they settle rebates; others get a message, not an access
        error on journal entries.

        An accountant here (issue 11) is an Invoicing user who sees every
        agent's commissions: Invoicing / Administrator or Accountant rights, a
        sales manager with Invoicing rights, or an Invoicing user without sales
        rights (no "own documents" rule restricts them). A salesperson limited
        to their own documents who also has basic Invoicing rights would settle
        only the lines they see, a partial period: they are refused too.
        """
        if self.env.su:
            return
        user = self.env.user
        if not user.has_group("account.group_account_invoice"):
            raise UserError(
                self.env._(
                    "Commissions are settled by accountants (Invoicing: Billing "
                    "or Accountant rights), who make and pay the agents' vendor "
                    "bills. Ask your accountant to settle them."
                )
            )
        if not self._flow_sees_all_commissions(user):
            raise UserError(
                self.env._(
                    "Commissions are settled by accountants who see every "
                    "agent's commissions (Invoicing: Administrator or Accountant "
                    "rights); you see only your own. Ask your accountant to "
                    "settle them."
                )
            )

    @api.model
    def _flow_sees_all_commissions(self, user):
        """Whether no "own commissions" record rule restricts ``user`` (the
        groups of the "see all" rules in security/ir_rules.xml)."""
        return not user.has_group("sales_team.group_sale_salesman") or any(
            user.has_group(xmlid)
            for xmlid in (
                "sales_order_flow.group_sale_flow_admin",
                "account.group_account_manager",
                "account.group_account_user",
            )
        )

    def _flow_release(self):
        """Cancel the settlements and free their lines for another settlement."""
        settlements = self.filtered(lambda s: s.state != "cancel")
        # sudo: lines are written only by the settlement flow; whoever may
        # cancel the settlement (or its bill) frees its lines
        settlements.line_ids.sudo()._flow_release()
        settlements.write({"state": "cancel"})
        for settlement in settlements:
            settlement.message_post(
                body=self.env._(
                    "Settlement cancelled: its commissions can be settled again."
                )
            )

    def _flow_create_bills(self, journal):
        """One vendor bill (or refund, when negative) per external settlement."""
        settlements = self.filtered(
            lambda s: (
                s.state == "settled"
                and s.agent_type == "external"
                and not s.currency_id.is_zero(s.amount_total)
            )
        )
        if not settlements:
            return self.env["account.move"]
        product = self.env.ref("sales_order_flow.product_sale_flow_commission")
        bills = self.env["account.move"].create(
            [
                settlement._flow_prepare_bill_values(journal, product)
                for settlement in settlements
            ]
        )
        for settlement, bill in zip(settlements, bills, strict=True):
            settlement.write({"invoice_id": bill.id, "state": "invoiced"})
        return bills

    def _flow_prepare_bill_values(self, journal, product):
        self.ensure_one()
        refund = self.amount_total < 0
        return {
            "move_type": "in_refund" if refund else "in_invoice",
            "partner_id": self.agent_id.id,
            "journal_id": journal.id,
            "company_id": self.company_id.id,
            "currency_id": self.currency_id.id,
            "invoice_date": fields.Date.context_today(self),
            "ref": self.name,
            "invoice_line_ids": [
                Command.create(
                    {
                        "product_id": product.id,
                        "name": self.env._(
                            "Commissions %(name)s (%(date_from)s - %(date_to)s)",
                            name=self.name,
                            date_from=self.date_from,
                            date_to=self.date_to,
                        ),
                        "quantity": 1.0,
                        "price_unit": abs(self.amount_total),
                        # the bill pays the settled amount, no tax on top
                        "tax_ids": [Command.clear()],
                    }
                )
            ],
        }
