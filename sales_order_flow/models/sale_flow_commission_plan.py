from collections import defaultdict

from odoo import api, fields, models

# Period keys: the first month of the period a date falls in.
PERIOD_MONTHS = {"month": 1, "quarter": 3, "year": 12}


def period_start(date, period_type):
    """First day of the month, quarter or year ``date`` falls in."""
    months = PERIOD_MONTHS[period_type]
    month = ((date.month - 1) // months) * months + 1
    return date.replace(month=month, day=1)


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
        """Agents and plans of each line ``info``: a list of [(agent, plan)].

        The first level that names agents wins: the customer's default agents
        (each with its plan, else the agent's own plan), else the sales team's,
        else the salesperson when their partner is a commission agent with a
        plan. Plans of another company than the line's are ignored.
        """
        Assignment = self.env["sale.flow.commission.assignment"]
        partners = self.env["res.partner"].union(*(i["partner"] for i in infos))
        teams = self.env["crm.team"].union(*(i["team"] for i in infos))
        assignments = Assignment.search(
            [
                "|",
                ("partner_id", "in", partners.ids),
                ("team_id", "in", teams.ids),
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
            target[key].append((assignment.agent_id, plan))
        result = []
        for info in infos:
            agents = by_partner.get(info["partner"].id) or by_team.get(info["team"].id)
            if not agents:
                seller = info["user"].partner_id
                plan = seller.flow_commission_plan_id
                agents = (
                    [(seller, plan)] if seller.flow_is_commission_agent and plan else []
                )
            result.append(
                [
                    (agent, plan)
                    for agent, plan in agents
                    if plan.active and plan.company_id == info["company"]
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
    def _flow_load_volumes(self, keys, companies):
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
        groups = (
            self.env["sale.flow.commission.line"]
            .sudo()
            ._read_group(
                [
                    ("agent_id", "in", agent_ids),
                    ("company_id", "in", companies.ids),
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
            for period_type in PERIOD_MONTHS:
                key = (agent.id, period_type, period_start(month, period_type))
                if key in wanted:
                    volumes[key] += base
        return volumes

    @api.model
    def _flow_compute_commissions(self, infos):
        """Commission of each line ``info`` for each of its agents.

        ``infos`` are dicts: company, date, partner (commercial partner), team,
        user, product, quantity (signed), discount, amount (untaxed, company
        currency, negative for refunds), cost (company currency, signed).
        Returns one list per info of dicts: agent, plan, rule, base, rate,
        amount. Rules are matched in memory: the queries do not grow with the
        number of lines. Tier volumes grow with the lines as they are computed.
        """
        agents_per_info = self._flow_get_agents(infos)
        Rule = self.env["sale.flow.commission.rule"]
        scoped_rules = {}
        category_paths = {}
        partner_tags = {}
        matches = []
        volume_keys = set()
        for info, agents in zip(infos, agents_per_info, strict=True):
            info_matches = []
            if agents:
                product, partner = info["product"], info["partner"]
                if product.id not in category_paths:
                    category_paths[product.id] = product.categ_id.parent_path or ""
                if partner.id not in partner_tags:
                    partner_tags[partner.id] = set(partner.category_id.ids)
                key = (
                    product.id,
                    category_paths[product.id],
                    partner.id,
                    partner_tags[partner.id],
                    info["team"].id,
                )
            for agent, plan in agents:
                if plan not in scoped_rules:
                    scoped_rules[plan] = [
                        (rule, rule._flow_scope()) for rule in plan._flow_sorted_rules()
                    ]
                rule = next(
                    (
                        rule
                        for rule, scope in scoped_rules[plan]
                        if Rule._flow_scope_matches(scope, key)
                    ),
                    None,
                )
                if not rule:
                    continue
                info_matches.append((agent, plan, rule))
                if rule.rate_type == "tiers":
                    volume_keys.add(
                        (
                            agent.id,
                            plan.volume_period,
                            period_start(info["date"], plan.volume_period),
                        )
                    )
            matches.append(info_matches)
        companies = self.env["res.company"].union(*(i["company"] for i in infos))
        volumes = self._flow_load_volumes(volume_keys, companies)
        results = []
        for info, info_matches in zip(infos, matches, strict=True):
            currency = info["company"].currency_id
            info_results = []
            for agent, plan, rule in info_matches:
                base = info["amount"]
                if plan.base_type == "margin":
                    base -= info["cost"]
                base = currency.round(base)
                volume_key = (
                    agent.id,
                    plan.volume_period,
                    period_start(info["date"], plan.volume_period),
                )
                rate, amount = rule._flow_rate_and_amount(
                    info, base, volumes.get(volume_key, 0.0)
                )
                if rule.rate_type == "tiers":
                    volumes[volume_key] = volumes.get(volume_key, 0.0) + base
                info_results.append(
                    {
                        "agent": agent,
                        "plan": plan,
                        "rule": rule,
                        "base": base,
                        "rate": rate,
                        "amount": currency.round(amount),
                    }
                )
            results.append(info_results)
        return results
