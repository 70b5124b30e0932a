from odoo import api, fields, models
from odoo.exceptions import ValidationError


class CommissionRate:
    """A commission rule as plain values, read once: the engine matches and
    applies it to many lines without reading the rule again for each line.
    """

    __slots__ = (
        "discount_threshold",
        "fixed_amount",
        "rate",
        "rate_type",
        "reduced_rate",
        "rule_id",
        "scope",
        "tier_mode",
        "tiers",
    )

    def __init__(self, rule):
        self.rule_id = rule.id
        self.rate_type = rule.rate_type
        self.rate = rule.rate
        self.fixed_amount = rule.fixed_amount
        self.tier_mode = rule.tier_mode
        # (threshold, rate) by increasing threshold
        self.tiers = sorted((tier.threshold, tier.rate) for tier in rule.tier_ids)
        self.discount_threshold = rule.discount_threshold
        self.reduced_rate = rule.reduced_rate
        self.scope = (
            rule.agreement_id.id,
            rule.product_id.id,
            rule.categ_id.parent_path or "",
            rule.partner_id.id,
            rule.partner_category_id.id,
            rule.team_id.id,
        )

    def matches(self, key):
        """``key``: (agreement id, product id, product category path, customer
        id, customer tag ids, team id) of a line.
        """
        agreement_id, product_id, categ_path, partner_id, tag_id, team_id = self.scope
        return (
            (not agreement_id or agreement_id == key[0])
            and (not product_id or product_id == key[1])
            and (not categ_path or key[2].startswith(categ_path))
            and (not partner_id or partner_id == key[3])
            and (not tag_id or tag_id in key[4])
            and (not team_id or team_id == key[5])
        )

    def rate_and_amount(self, quantity, discount, base, volume):
        """(rate, amount) of a line of ``quantity`` and ``discount`` (%) whose
        commission base is ``base`` when the agent's volume of the period
        before it is ``volume``. Refunds have a negative base and quantity.
        """
        reduced = self.discount_threshold and discount > self.discount_threshold
        if self.rate_type == "fixed":
            rate = self.reduced_rate if reduced else self.fixed_amount
            return rate, rate * quantity
        if self.rate_type == "percent" or reduced:
            rate = self.reduced_rate if reduced else self.rate
            return rate, base * rate / 100.0
        after = volume + base
        if self.tier_mode == "stepped":
            # a refund is clawed back at the rate it was earned at
            reached = max(volume, after)
            rate = next(
                (
                    rate
                    for threshold, rate in reversed(self.tiers)
                    if reached >= threshold
                ),
                0.0,
            )
            return rate, base * rate / 100.0
        low, high = sorted((volume, after))
        amount = 0.0
        for index, (threshold, rate) in enumerate(self.tiers):
            upper = self.tiers[index + 1][0] if index + 1 < len(self.tiers) else None
            part_low = max(low, threshold)
            part_high = high if upper is None else min(high, upper)
            if part_high > part_low:
                amount += (part_high - part_low) * rate / 100.0
        if base < 0:
            amount = -amount
        rate = amount / base * 100.0 if base else 0.0
        return rate, amount


class SaleFlowCommissionRule(models.Model):
    """A rate of a commission plan and the lines it applies to.

    The most specific matching rule of a plan wins: a rule naming a sales
    agreement beats one naming a product (an agreement is a deal negotiated
    with one customer, so its terms override the general ones), which beats a
    product category (a deeper category beats its parent), then a customer, a
    customer tag and a sales team; a rule without any scope is the plan's
    default. Scopes combine: a rule naming a category and a customer is more
    specific than one naming only the category. On a tie, the lowest sequence
    wins, then the oldest rule.
    """

    _name = "sale.flow.commission.rule"
    _description = "Commission Rule"
    _order = "plan_id, sequence, id"
    _check_company_auto = True

    plan_id = fields.Many2one(
        "sale.flow.commission.plan", required=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one(related="plan_id.company_id", store=True)
    currency_id = fields.Many2one(related="plan_id.currency_id")
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    name = fields.Char(
        string="Description", compute="_compute_name", store=True, readonly=False
    )
    # scope: every field set must match
    agreement_id = fields.Many2one(
        "sale.flow.agreement",
        string="Sales Agreement",
        index="btree_not_null",
        ondelete="restrict",
        check_company=True,
        help="Only lines sold under this sales agreement (its call-offs and the "
        "orders placed against it), and their invoices and credit notes.",
    )
    product_id = fields.Many2one("product.product", help="Only lines of this product.")
    categ_id = fields.Many2one(
        "product.category",
        string="Product Category",
        help="Only products of this category or of its sub-categories.",
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        help="Only invoices of this customer (and its contacts).",
    )
    partner_category_id = fields.Many2one(
        "res.partner.category",
        string="Customer Tag",
        help="Only customers with this tag.",
    )
    team_id = fields.Many2one(
        "crm.team", string="Sales Team", help="Only invoices of this sales team."
    )
    # rate
    rate_type = fields.Selection(
        [
            ("percent", "Percentage of the Base"),
            ("fixed", "Fixed Amount per Unit"),
            ("tiers", "Tiers by Volume"),
        ],
        required=True,
        default="percent",
    )
    rate = fields.Float(
        string="Rate (%)", digits=(16, 4), help="Percentage of the line's base."
    )
    fixed_amount = fields.Monetary(
        string="Amount per Unit",
        help="Commission per unit invoiced, in the company's currency.",
    )
    tier_mode = fields.Selection(
        [("stepped", "Stepped"), ("progressive", "Progressive")],
        default="stepped",
        help="Stepped: the whole line at the rate of the tier the agent's volume "
        "of the period reaches with it. Progressive: each part of the line at "
        "the rate of the tier that part falls in.",
    )
    tier_ids = fields.One2many(
        "sale.flow.commission.tier", "rule_id", string="Tiers", copy=True
    )
    discount_threshold = fields.Float(
        string="Discount Above (%)",
        help="When the line's discount is above this percentage, the reduced "
        "rate applies instead. Leave 0 to never reduce.",
    )
    reduced_rate = fields.Float(
        digits=(16, 4),
        help="Rate used above the discount threshold: a percentage for "
        "percentage and tier rules, an amount per unit for fixed rules.",
    )

    _sql_constraints = [
        (
            "rate_positive",
            "CHECK(rate >= 0 AND fixed_amount >= 0 AND reduced_rate >= 0)",
            "Commission rates and amounts cannot be negative.",
        ),
        (
            "discount_threshold_range",
            "CHECK(discount_threshold >= 0 AND discount_threshold <= 100)",
            "The discount threshold is a percentage between 0 and 100.",
        ),
    ]

    @api.depends(
        "rate_type",
        "rate",
        "fixed_amount",
        "agreement_id",
        "product_id",
        "categ_id",
        "partner_id",
        "partner_category_id",
        "team_id",
    )
    def _compute_name(self):
        for rule in self:
            scope = [
                record.display_name
                for record in (
                    rule.agreement_id,
                    rule.product_id,
                    rule.categ_id,
                    rule.partner_id,
                    rule.partner_category_id,
                    rule.team_id,
                )
                if record
            ]
            rule.name = " / ".join(scope) or self.env._("Default")

    @api.constrains("rate_type", "tier_ids")
    def _check_tiers(self):
        for rule in self:
            if rule.rate_type == "tiers" and not rule.tier_ids:
                raise ValidationError(
                    self.env._(
                        "Rule %(rule)s: a tiered rule needs tiers.", rule=rule.name
                    )
                )
        self.tier_ids._check_increasing()

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._flow_check_rate_values(vals)
        return super().create(vals_list)

    def write(self, vals):
        self._flow_check_rate_values(vals)
        return super().write(vals)

    @api.model
    def _flow_check_rate_values(self, vals):
        # The database refuses negative rates too; checked before the insert
        # so the user reads which rate is wrong, and nothing is written.
        for name in ("rate", "fixed_amount", "reduced_rate"):
            if (vals.get(name) or 0.0) < 0:
                raise ValidationError(
                    self.env._(
                        "%(field)s cannot be negative: a commission rate or amount "
                        "is zero or more.",
                        field=self._fields[name].get_description(self.env)["string"],
                    )
                )
        if not 0.0 <= (vals.get("discount_threshold") or 0.0) <= 100.0:
            raise ValidationError(
                self.env._("The discount threshold is a percentage between 0 and 100.")
            )

    # ------------------------------------------------------------------
    # Matching and rates (used by the plan's engine)
    # ------------------------------------------------------------------
    def _flow_specificity(self):
        """Sort key, larger is more specific; see the class docstring."""
        self.ensure_one()
        categ_depth = self.categ_id.parent_path.count("/") if self.categ_id else 0
        return (
            bool(self.agreement_id),
            bool(self.product_id),
            categ_depth,
            bool(self.partner_id),
            bool(self.partner_category_id),
            bool(self.team_id),
        )
