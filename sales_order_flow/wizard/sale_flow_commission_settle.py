from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import date_utils


class SaleFlowCommissionSettle(models.TransientModel):
    """Group the payable commissions of a period into settlements.

    Lines dated up to the end of the period and still unsettled are taken (late
    payments of earlier periods too), one settlement per agent. A line is taken
    by one settlement only: see sale.flow.commission.line._flow_mark_settled.
    """

    _name = "sale.flow.commission.settle"
    _description = "Settle Commissions"

    period_type = fields.Selection(
        [("month", "Month"), ("quarter", "Quarter"), ("year", "Year")],
        string="Period",
        default="month",
    )
    period_date = fields.Date(
        string="Period Of",
        default=lambda self: fields.Date.context_today(self) - relativedelta(months=1),
        help="Any date in the period to settle.",
    )
    date_from = fields.Date(compute="_compute_dates")
    date_to = fields.Date(compute="_compute_dates")
    agent_ids = fields.Many2many(
        "res.partner",
        string="Agents",
        domain=[("flow_is_commission_agent", "=", True)],
        help="Leave empty to settle every agent.",
    )
    create_bills = fields.Boolean(
        string="Create Vendor Bills",
        default=True,
        help="Make a vendor bill for each external agent's settlement.",
    )
    journal_id = fields.Many2one(
        "account.journal",
        string="Purchase Journal",
        domain="[('type', '=', 'purchase'), ('company_id', 'in', (False, company_id))]",
        default=lambda self: self.env["account.journal"].search(
            [
                *self.env["account.journal"]._check_company_domain(self.env.company),
                ("type", "=", "purchase"),
            ],
            limit=1,
        ),
    )
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )

    @api.depends("period_type", "period_date")
    def _compute_dates(self):
        for wizard in self:
            if wizard.period_type and wizard.period_date:
                wizard.date_from = date_utils.start_of(
                    wizard.period_date, wizard.period_type
                )
                wizard.date_to = date_utils.end_of(
                    wizard.period_date, wizard.period_type
                )
            else:
                wizard.date_from = wizard.date_to = False

    def _get_lines_domain(self):
        self.ensure_one()
        domain = [
            ("company_id", "=", self.company_id.id),
            ("state", "=", "to_settle"),
            ("settlement_id", "=", False),
            ("date", "<=", self.date_to),
        ]
        if self.agent_ids:
            domain.append(("agent_id", "in", self.agent_ids.ids))
        return domain

    def action_settle(self):
        self.ensure_one()
        self.env["sale.flow.commission.settlement"]._flow_check_settler()
        if self.company_id not in self.env.companies:
            raise UserError(
                self.env._(
                    "Settle the commissions of a company you work in: select "
                    "%(company)s in the company switcher first.",
                    company=self.company_id.display_name,
                )
            )
        if not self.period_type or not self.period_date:
            raise UserError(
                self.env._("Choose the period to settle (month, quarter or year).")
            )
        if self.create_bills and not self.journal_id:
            raise UserError(
                self.env._("Choose the purchase journal of the vendor bills.")
            )
        settlements = self._flow_settle()
        if self.create_bills:
            settlements._flow_create_bills(self.journal_id)
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "sales_order_flow.sale_flow_commission_settlement_action"
        )
        action["domain"] = [("id", "in", settlements.ids)]
        return action

    def _flow_settle(self):
        """Settlements of the period; nothing to settle makes none."""
        Line = self.env["sale.flow.commission.line"]
        domain = self._get_lines_domain()
        # partly paid lines: settle the paid part, keep the rest following
        # (sudo after the search under the user's rules: accountants settle
        # but do not edit commission lines otherwise)
        Line.search(
            [*domain, ("payment_basis", "=", "paid"), ("payable_fraction", "<", 1.0)]
        ).sudo()._flow_split_payable()
        groups = Line._read_group(
            domain, ["agent_id"], ["id:array_agg", "amount_payable:sum"]
        )
        Settlement = self.env["sale.flow.commission.settlement"]
        settlements = Settlement.create(
            [
                {
                    "agent_id": agent.id,
                    "company_id": self.company_id.id,
                    "period_type": self.period_type,
                    "date_from": self.date_from,
                    "date_to": self.date_to,
                    "amount_total": amount,
                }
                for agent, _ids, amount in groups
            ]
        )
        for settlement, (_agent, ids, _amount) in zip(settlements, groups, strict=True):
            if Line.browse(ids)._flow_mark_settled(settlement) != len(ids):
                # another run took some of these lines meanwhile: undo it all
                raise UserError(
                    self.env._(
                        "Some of these commissions were settled meanwhile by "
                        "someone else. Nothing was settled: run the settlement "
                        "again."
                    )
                )
        return settlements
