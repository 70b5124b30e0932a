from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import format_date


class SaleFlowCommissionTarget(models.Model):
    """A volume an agent should reach in a period, and how far they are."""

    _name = "sale.flow.commission.target"
    _description = "Commission Target"
    _order = "date_from desc, agent_id"

    agent_id = fields.Many2one(
        "res.partner",
        required=True,
        index=True,
        domain=[("flow_is_commission_agent", "=", True)],
    )
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    date_from = fields.Date(string="From", required=True)
    date_to = fields.Date(string="To", required=True)
    target_amount = fields.Monetary(
        string="Target",
        required=True,
        help="Volume to reach: the sum of the commission bases of the period.",
    )
    achieved_amount = fields.Monetary(
        string="Achieved", compute="_compute_achieved", help="Volume reached so far."
    )
    commission_amount = fields.Monetary(
        string="Commissions", compute="_compute_achieved"
    )
    attainment = fields.Float(
        string="Attainment (%)",
        compute="_compute_achieved",
        help="Achieved volume as a percentage of the target.",
    )

    _sql_constraints = [
        (
            "dates_ordered",
            "CHECK(date_from <= date_to)",
            "A target's period cannot end before it starts.",
        ),
        (
            "target_positive",
            "CHECK(target_amount > 0)",
            "A target must be a positive amount.",
        ),
    ]

    @api.depends("agent_id", "date_from", "date_to")
    def _compute_display_name(self):
        for target in self:
            target.display_name = self.env._(
                "%(agent)s: %(date_from)s - %(date_to)s",
                agent=target.agent_id.display_name or "",
                date_from=format_date(self.env, target.date_from),
                date_to=format_date(self.env, target.date_to),
            )

    @api.model_create_multi
    def create(self, vals_list):
        defaults = self.default_get(["date_from", "date_to", "target_amount"])
        for vals in vals_list:
            values = {**defaults, **vals}
            self._flow_check_values(
                values.get("date_from"),
                values.get("date_to"),
                values.get("target_amount"),
            )
        return super().create(vals_list)

    def write(self, vals):
        if {"date_from", "date_to", "target_amount"} & set(vals):
            for target in self:
                self._flow_check_values(
                    vals.get("date_from", target.date_from),
                    vals.get("date_to", target.date_to),
                    vals.get("target_amount", target.target_amount),
                )
        return super().write(vals)

    @api.model
    def _flow_check_values(self, date_from, date_to, target_amount):
        # the database refuses them too; checked first for a readable message
        if (
            date_from
            and date_to
            and fields.Date.to_date(date_from) > fields.Date.to_date(date_to)
        ):
            raise ValidationError(
                self.env._("A target's period cannot end before it starts.")
            )
        if (target_amount or 0.0) <= 0:
            raise ValidationError(self.env._("A target must be a positive amount."))

    @api.depends("agent_id", "date_from", "date_to", "target_amount")
    def _compute_achieved(self):
        # one grouped query per distinct period, never one per target
        by_period = defaultdict(lambda: self.browse())
        for target in self:
            by_period[(target.date_from, target.date_to)] |= target
        Line = self.env["sale.flow.commission.line"]
        for (date_from, date_to), targets in by_period.items():
            figures = {}
            if date_from and date_to:
                figures = {
                    (agent.id, company.id): (base, amount)
                    for agent, company, base, amount in Line._read_group(
                        [
                            ("agent_id", "in", targets.agent_id.ids),
                            ("state", "!=", "cancelled"),
                            ("date", ">=", date_from),
                            ("date", "<=", date_to),
                        ],
                        ["agent_id", "company_id"],
                        ["base:sum", "amount:sum"],
                    )
                }
            for target in targets:
                base, amount = figures.get(
                    (target.agent_id.id, target.company_id.id), (0.0, 0.0)
                )
                target.achieved_amount = base
                target.commission_amount = amount
                target.attainment = (
                    base / target.target_amount * 100.0 if target.target_amount else 0.0
                )
