from collections import defaultdict

from odoo import api, fields, models
from odoo.tools import date_utils, float_round

from ..utils import lock_keys_for_retry
from .sale_flow_commission_rule import CommissionRate

# Volume periods of tiered rules and settlements (odoo.tools.date_utils units).
PERIOD_TYPES = ("month", "quarter", "year")


def period_start(date, period_type):
    """First day of the month, quarter or year ``date`` falls in."""
    return date_utils.start_of(date, period_type)


class SaleFlowCommissionPlan(models.Model):
    _name = "sale.flow.commission.plan"
    _description = "Commission Plan"
    _order = "name, id"

    name = fields.Char(required=True, translate=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company",
        required=True,
        index=True,
        default=lambda self: self.env.company,
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    base_type = fields.Selection(
        [("invoiced", "Invoiced Amount"), ("margin", "Margin")],
        string="Base",
        required=True,
        default="invoiced",
        help="Invoiced Amount: the untaxed amount of the invoice line, in the "
        "company's currency. Margin: that amount minus the product's cost.",
    )
    payment_basis = fields.Selection(
        [("invoiced", "When Invoiced"), ("paid", "When Paid")],
        string="Payable",
        required=True,
        default="invoiced",
        help="When Invoiced: commissions can be settled once the invoice is "
        "posted. When Paid: they become payable in proportion to what the "
        "customer paid (partial payments too).",
    )
    volume_period = fields.Selection(
        [("month", "Month"), ("quarter", "Quarter"), ("year", "Year")],
        required=True,
        default="month",
        help="Period over which an agent's volume is summed to find the tier of "
        "tiered rules.",
    )
    rule_ids = fields.One2many(
        "sale.flow.commission.rule", "plan_id", string="Rules", copy=True
    )
    rule_count = fields.Integer(compute="_compute_rule_count")
    note = fields.Html(help="Internal notes on the plan.")

    @api.depends("rule_ids")
    def _compute_rule_count(self):
        for plan in self:
            plan.rule_count = len(plan.rule_ids)

    # ------------------------------------------------------------------
    # Rule engine
    # ------------------------------------------------------------------
    @api.model
    def _flow_get_agents(self, infos):
        """Agents and plans of each line ``info``: a list of [(agent id, plan)].

        The first level that names agents wins: the customer's default agents
        (each with its plan, else the agent's own plan), else the sales team's,
        else the salesperson when their partner is a commission agent with a
        plan. Plans of another company than the line's are ignored.
        """
        partner_ids = {info["partner_id"] for info in infos}
        team_ids = {info["team_id"] for info in infos if info["team_id"]}
        assignments = self.env["sale.flow.commission.assignment"].search(
            [
                "|",
                ("partner_id", "in", list(partner_ids)),
                ("team_id", "in", list(team_ids)),
            ]
        )
        by_partner = defaultdict(list)
        by_team = defaultdict(list)
        for assignment in assignments:
            plan = assignment.plan_id or assignment.agent_id.flow_commission_plan_id
            if not plan or not assignment.agent_id.flow_is_commission_agent:
                continue
            target = by_partner if assignment.partner_id else by_team
            key = assignment.partner_id.id or assignment.team_id.id
            target[key].append((assignment.agent_id.id, plan))
        by_user = {}
        for user in self.env["res.users"].browse(
            {info["user_id"] for info in infos if info["user_id"]}
        ):
            seller = user.partner_id
            plan = seller.flow_commission_plan_id
            by_user[user.id] = (
                [(seller.id, plan)] if seller.flow_is_commission_agent and plan else []
            )
        # plan checks once per plan and company, not per line
        usable = {}
        result = []
        for info in infos:
            agents = (
                by_partner.get(info["partner_id"])
                or by_team.get(info["team_id"])
                or by_user.get(info["user_id"], [])
            )
            company_id = info["company_id"]
            for _agent_id, plan in agents:
                if (plan.id, company_id) not in usable:
                    usable[plan.id, company_id] = (
                        plan.active and plan.company_id.id == company_id
                    )
            result.append(
                [
                    (agent_id, plan)
                    for agent_id, plan in agents
                    if usable[plan.id, company_id]
                ]
            )
        return result

    def _flow_sorted_rules(self):
        """The plan's rules, most specific first (see the rule's specificity)."""
        self.ensure_one()
        return self.rule_ids.filtered("active").sorted(
            lambda rule: (rule._flow_specificity(), -rule.sequence, -rule.id),
            reverse=True,
        )

    @api.model
    def _flow_load_volumes(self, keys, company_ids):
        """Agents' volume (sum of commission bases) per (agent id, period type,
        period start), for the given keys; one query over the months involved.
        """
        if not keys:
            return {}
        agent_ids = list({key[0] for key in keys})
        start = min(key[2] for key in keys)
        end = max(key[2] for key in keys).replace(day=1)
        # the longest period is a year: read up to its last month
        end_year = end.replace(year=end.year + 1)
        # sudo: an agent's volume counts every commission line of the agent,
        # whoever's invoice is being posted
        groups = (
            self.env["sale.flow.commission.line"]
            .sudo()
            ._read_group(
                [
                    ("agent_id", "in", agent_ids),
                    ("company_id", "in", list(company_ids)),
                    ("state", "!=", "cancelled"),
                    ("date", ">=", start),
                    ("date", "<", end_year),
                ],
                ["agent_id", "date:month"],
                ["base:sum"],
            )
        )
        volumes = defaultdict(float)
        wanted = set(keys)
        for agent, month, base in groups:
            for period_type in PERIOD_TYPES:
                key = (agent.id, period_type, period_start(month, period_type))
                if key in wanted:
                    volumes[key] += base
        return volumes

    @api.model
    def _flow_line_keys(self, infos):
        """Scope key of each line ``info`` (see ``CommissionRate.matches``):
        product categories and customer tags read once per product and customer.
        """
        products = self.env["product.product"].browse(
            {info["product_id"] for info in infos}
        )
        category_paths = {
            product.id: product.categ_id.parent_path or "" for product in products
        }
        partners = self.env["res.partner"].browse(
            {info["partner_id"] for info in infos}
        )
        partner_tags = {
            partner.id: frozenset(partner.category_id.ids) for partner in partners
        }
        return [
            (
                info.get("agreement_id") or False,
                info["product_id"],
                category_paths[info["product_id"]],
                info["partner_id"],
                partner_tags[info["partner_id"]],
                info["team_id"],
            )
            for info in infos
        ]

    @api.model
    def _flow_compute_commissions(self, infos, lock_volumes=False):
        """Commission of each line ``info`` for each of its agents.

        ``infos`` are dicts of plain values: company_id, date, partner_id
        (commercial partner), team_id, user_id, product_id, agreement_id,
        quantity (signed), discount, amount (untaxed, company currency,
        negative for refunds), cost (company currency, signed). Returns one
        list per info of dicts: agent_id, plan (record), rule_id, base, rate,
        amount. Rules are read once and matched in memory: the queries do not
        grow with the number of lines. Tier volumes grow with the lines as they
        are computed, in the order of ``infos``. With ``lock_volumes`` (when the
        lines are recorded), the agents with tiered rules are locked first: two
        postings for one agent at once cannot both start from the same volume.
        """
        agents_per_info = self._flow_get_agents(infos)
        keys = self._flow_line_keys(infos)
        compiled = {}
        matches = []
        volume_keys = set()
        for info, key, agents in zip(infos, keys, agents_per_info, strict=True):
            info_matches = []
            for agent_id, plan in agents:
                if plan not in compiled:
                    compiled[plan] = (
                        [CommissionRate(rule) for rule in plan._flow_sorted_rules()],
                        plan.volume_period,
                        plan.base_type == "margin",
                    )
                rates, volume_period, on_margin = compiled[plan]
                rate = next((rate for rate in rates if rate.matches(key)), None)
                if not rate:
                    continue
                volume_key = (
                    agent_id,
                    volume_period,
                    period_start(info["date"], volume_period),
                )
                info_matches.append((agent_id, plan, rate, on_margin, volume_key))
                if rate.rate_type == "tiers":
                    volume_keys.add(volume_key)
            matches.append(info_matches)
        company_ids = {info["company_id"] for info in infos}
        roundings = {
            company.id: company.currency_id.rounding
            for company in self.env["res.company"].browse(company_ids)
        }
        if lock_volumes and volume_keys:
            # the addon's own lock row per agent, not the agent's partner row:
            # unrelated writes on the partner are not blocked
            lock_keys_for_retry(
                self.env.cr, "commission_volumes", {key[0] for key in volume_keys}
            )
        volumes = self._flow_load_volumes(volume_keys, company_ids)
        results = []
        for info, info_matches in zip(infos, matches, strict=True):
            rounding = roundings[info["company_id"]]
            info_results = []
            for agent_id, plan, rate, on_margin, volume_key in info_matches:
                base = info["amount"] - info["cost"] if on_margin else info["amount"]
                base = float_round(base, precision_rounding=rounding)
                volume = volumes.get(volume_key, 0.0)
                percent, amount = rate.rate_and_amount(
                    info["quantity"], info["discount"], base, volume
                )
                if rate.rate_type == "tiers":
                    volumes[volume_key] = volume + base
                info_results.append(
                    {
                        "agent_id": agent_id,
                        "plan": plan,
                        "rule_id": rate.rule_id,
                        "base": base,
                        "rate": percent,
                        "amount": float_round(amount, precision_rounding=rounding),
                    }
                )
            results.append(info_results)
        return results
