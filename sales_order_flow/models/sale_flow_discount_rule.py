import math

from odoo import api, fields, models
from odoo.exceptions import ValidationError


class SaleFlowDiscountRule(models.Model):
    _name = "sale.flow.discount.rule"
    _description = "Sales Flow Discount Rule"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    active = fields.Boolean(default=True)
    sequence = fields.Integer(
        string="Priority",
        default=10,
        help="Rules are applied from the lowest priority number to the highest; "
        "the first rule giving a discount level keeps it.",
    )
    company_id = fields.Many2one(
        "res.company",
        default=lambda self: self.env.company,
        index=True,
        help="Leave empty to apply the rule in every company.",
    )
    currency_id = fields.Many2one(
        "res.currency",
        compute="_compute_currency_id",
        help="Currency of the amounts of the rule: the company's.",
    )
    description = fields.Text(translate=True)

    # Conditions
    product_ids = fields.Many2many(
        "product.product",
        "sale_flow_discount_rule_product_rel",
        "rule_id",
        "product_id",
        string="Products",
        help="Applies to these products only. Leave empty for any product.",
    )
    categ_ids = fields.Many2many(
        "product.category",
        "sale_flow_discount_rule_categ_rel",
        "rule_id",
        "categ_id",
        string="Product Categories",
        help="Applies to products of these categories or of their sub-categories.",
    )
    partner_ids = fields.Many2many(
        "res.partner",
        "sale_flow_discount_rule_partner_rel",
        "rule_id",
        "partner_id",
        string="Customers",
        domain=[("is_company", "=", True)],
        help="Applies to these customers (and all their contacts). Leave empty "
        "for any customer.",
    )
    partner_category_ids = fields.Many2many(
        "res.partner.category",
        "sale_flow_discount_rule_partner_category_rel",
        "rule_id",
        "category_id",
        string="Customer Tags",
        help="Applies to customers having one of these tags (on the contact or "
        "its company).",
    )
    pricelist_ids = fields.Many2many(
        "product.pricelist",
        "sale_flow_discount_rule_pricelist_rel",
        "rule_id",
        "pricelist_id",
        string="Pricelists",
        help="Applies to quotations using one of these pricelists.",
    )
    min_qty = fields.Float(
        string="Minimum Quantity",
        digits="Product Unit of Measure",
        help="Minimum quantity of the line, in the product's unit of measure.",
    )
    min_line_amount = fields.Monetary(
        string="Minimum Line Amount",
        help="Minimum amount of the line before discounts (unit price × quantity, "
        "in the company's currency).",
    )
    min_order_amount = fields.Monetary(
        string="Minimum Order Amount",
        help="Minimum amount of the quotation before discounts (sum of unit "
        "price × quantity of its product lines, free items excluded, in the "
        "company's currency).",
    )
    date_from = fields.Date(
        string="Valid From", help="First day of the quotation date (included)."
    )
    date_to = fields.Date(
        string="Valid Until", help="Last day of the quotation date (included)."
    )

    # Effects
    effect = fields.Selection(
        [
            ("percent", "Discount (%)"),
            ("fixed", "Amount Off per Unit"),
            ("free", "Free Items"),
        ],
        required=True,
        default="percent",
        help="Discount (%): a percentage into the chosen discount level. Amount "
        "off per unit: an amount converted into a percentage of the unit price "
        "in the chosen level. Free items: an extra line at 100 % discount.",
    )
    level = fields.Selection(
        [("1", "Discount 1"), ("2", "Discount 2"), ("3", "Discount 3")],
        string="Discount Level",
        default="1",
        required=True,
        help="Level of the cascading discount this rule fills.",
    )
    discount_percent = fields.Float(string="Discount (%)", digits="Discount")
    fixed_amount = fields.Monetary(
        string="Amount Off per Unit",
        help="In the company's currency, converted to the quotation's.",
    )
    free_product_id = fields.Many2one(
        "product.product",
        domain=[("sale_ok", "=", True)],
        help="Product given for free.",
    )
    free_per_qty = fields.Float(
        string="For Every",
        digits="Product Unit of Measure",
        default=1.0,
        help="Buy X: free items are given for every X units of the line (in the "
        "product's unit of measure).",
    )
    free_qty = fields.Float(
        string="Free Quantity",
        digits="Product Unit of Measure",
        default=1.0,
        help="Get Y: free quantity given for every X units (in the free "
        "product's unit of measure).",
    )
    exclusive = fields.Boolean(
        help="When this rule applies to a line, the rules after it are not "
        "applied to that line. Otherwise rules are cumulative.",
    )

    conflict_rule_ids = fields.Many2many(
        "sale.flow.discount.rule",
        string="Conflicting Rules",
        compute="_compute_conflict_rule_ids",
        help="Other active rules with the same priority whose company, dates, "
        "products and customers overlap this one: which one applies first is "
        "then decided by creation order only.",
    )

    _sql_constraints = [
        (
            "discount_percent_range",
            "CHECK(discount_percent >= 0 AND discount_percent <= 100)",
            "The discount of a rule must be between 0 and 100 %.",
        ),
        (
            "amounts_positive",
            "CHECK(COALESCE(fixed_amount, 0) >= 0 AND COALESCE(min_qty, 0) >= 0 "
            "AND COALESCE(min_line_amount, 0) >= 0 "
            "AND COALESCE(min_order_amount, 0) >= 0)",
            "Amounts and quantities of a discount rule cannot be negative.",
        ),
        (
            "free_quantities_positive",
            "CHECK(COALESCE(free_qty, 0) >= 0 AND COALESCE(free_per_qty, 0) >= 0)",
            "Free item quantities cannot be negative.",
        ),
        (
            "date_range",
            "CHECK(date_from IS NULL OR date_to IS NULL OR date_from <= date_to)",
            "The start date of a discount rule must be before its end date.",
        ),
    ]

    @api.depends("company_id")
    def _compute_currency_id(self):
        for rule in self:
            rule.currency_id = (rule.company_id or self.env.company).currency_id

    @api.depends(
        "active",
        "sequence",
        "company_id",
        "date_from",
        "date_to",
        "product_ids",
        "categ_ids",
        "partner_ids",
        "partner_category_ids",
    )
    def _compute_conflict_rule_ids(self):
        # One search for the batch; the overlap itself is checked in memory.
        candidates = self.search(
            [
                ("active", "=", True),
                ("sequence", "in", list(set(self.mapped("sequence")))),
            ]
        )
        for rule in self:
            rule.conflict_rule_ids = candidates.filtered(
                lambda other, rule=rule: (
                    other._origin != rule._origin
                    and rule.active
                    and rule._flow_overlaps(other)
                )
            )

    @api.constrains(
        "effect", "discount_percent", "fixed_amount", "free_product_id", "free_qty"
    )
    def _check_effect(self):
        for rule in self:
            if rule.effect == "percent" and not rule.discount_percent:
                raise ValidationError(
                    self.env._(
                        "Rule %(rule)s: give the discount percentage.", rule=rule.name
                    )
                )
            if rule.effect == "fixed" and not rule.fixed_amount:
                raise ValidationError(
                    self.env._(
                        "Rule %(rule)s: give the amount off per unit.", rule=rule.name
                    )
                )
            if rule.effect == "free" and not (
                rule.free_product_id and rule.free_qty > 0 and rule.free_per_qty > 0
            ):
                raise ValidationError(
                    self.env._(
                        "Rule %(rule)s: give the free product, the quantity bought "
                        "and the free quantity.",
                        rule=rule.name,
                    )
                )

    @api.onchange(
        "sequence",
        "company_id",
        "date_from",
        "date_to",
        "product_ids",
        "categ_ids",
        "partner_ids",
        "partner_category_ids",
    )
    def _onchange_flow_conflicts(self):
        conflicts = self.conflict_rule_ids
        if conflicts:
            return {
                "warning": {
                    "title": self.env._("Overlapping rules"),
                    "message": self.env._(
                        "These active rules have the same priority and overlap this "
                        "one: %(rules)s. Give them different priorities to decide "
                        "which applies first.",
                        rules=", ".join(conflicts.mapped("display_name")),
                    ),
                    "type": "notification",
                }
            }
        return None

    # ------------------------------------------------------------------
    # Conflicts
    # ------------------------------------------------------------------
    def _flow_overlaps(self, other):
        """Whether ``other`` applies to some of the same quotation lines."""
        self.ensure_one()
        if (
            self.company_id
            and other.company_id
            and self.company_id._origin != other.company_id._origin
        ):
            return False
        if (self.date_to and other.date_from and self.date_to < other.date_from) or (
            other.date_to and self.date_from and other.date_to < self.date_from
        ):
            return False
        return self._flow_products_overlap(other) and self._flow_customers_overlap(
            other
        )

    def _flow_products_overlap(self, other):
        def in_categs(products, categs):
            paths = [c.parent_path for c in categs if c.parent_path]
            return any(
                (p.categ_id.parent_path or "").startswith(path)
                for p in products
                for path in paths
            )

        mine, theirs = (
            (self.product_ids, self.categ_ids),
            (
                other.product_ids,
                other.categ_ids,
            ),
        )
        if not any(mine) or not any(theirs):
            return True  # one of them applies to every product
        if mine[0] & theirs[0]:
            return True
        my_paths = [c.parent_path for c in mine[1] if c.parent_path]
        their_paths = [c.parent_path for c in theirs[1] if c.parent_path]
        if any(
            a.startswith(b) or b.startswith(a) for a in my_paths for b in their_paths
        ):
            return True
        return in_categs(mine[0], theirs[1]) or in_categs(theirs[0], mine[1])

    def _flow_customers_overlap(self, other):
        mine = (self.partner_ids, self.partner_category_ids)
        theirs = (other.partner_ids, other.partner_category_ids)
        if not any(mine) or not any(theirs):
            return True
        if mine[0] & theirs[0] or mine[1] & theirs[1]:
            return True
        return bool(mine[0].category_id & theirs[1] or theirs[0].category_id & mine[1])

    # ------------------------------------------------------------------
    # Matching (used by sale.order._flow_apply_discount_rules)
    # ------------------------------------------------------------------
    @api.model
    def _flow_get_candidate_rules(self, companies):
        """Active rules of ``companies`` (or of no company), in priority order,
        with their conditions read in one go: one query per relation, whatever
        the number of lines they are then matched against."""
        rules = self.search(
            [("company_id", "in", [*companies.ids, False])], order="sequence, id"
        )
        rules.fetch(
            [
                "company_id",
                "sequence",
                "product_ids",
                "categ_ids",
                "partner_ids",
                "partner_category_ids",
                "pricelist_ids",
                "min_qty",
                "min_line_amount",
                "min_order_amount",
                "date_from",
                "date_to",
                "effect",
                "level",
                "discount_percent",
                "fixed_amount",
                "free_product_id",
                "free_per_qty",
                "free_qty",
                "exclusive",
                "name",
            ]
        )
        rules.categ_ids.fetch(["parent_path"])
        return rules

    def _flow_prepare_matching_data(self):
        """Plain Python sets of each rule's conditions (hook)."""
        return {
            rule.id: {
                "company_id": rule.company_id.id,
                "product_ids": set(rule.product_ids.ids),
                "categ_paths": [c.parent_path for c in rule.categ_ids],
                "partner_ids": set(rule.partner_ids.ids),
                "partner_category_ids": set(rule.partner_category_ids.ids),
                "pricelist_ids": set(rule.pricelist_ids.ids),
            }
            for rule in self
        }

    def _flow_matches(self, data, order_facts, line_facts):
        """Whether this rule applies to a line.

        :param data: this rule's entry of ``_flow_prepare_matching_data()``
        :param order_facts: dict with ``company_id``, ``partner_id``
            (commercial entity), ``partner_category_ids`` (set), ``pricelist_id``,
            ``date`` and ``amount`` (before discounts, company currency)
        :param line_facts: dict with ``product_id``, ``categ_path``, ``qty`` and
            ``amount`` (before discounts, company currency)
        """
        self.ensure_one()
        if data["company_id"] and data["company_id"] != order_facts["company_id"]:
            return False
        if self.date_from and order_facts["date"] < self.date_from:
            return False
        if self.date_to and order_facts["date"] > self.date_to:
            return False
        if data["product_ids"] or data["categ_paths"]:
            in_products = line_facts["product_id"] in data["product_ids"]
            in_categs = any(
                line_facts["categ_path"].startswith(path)
                for path in data["categ_paths"]
            )
            if not (in_products or in_categs):
                return False
        if data["partner_ids"] or data["partner_category_ids"]:
            if not (
                order_facts["partner_id"] in data["partner_ids"]
                or data["partner_category_ids"] & order_facts["partner_category_ids"]
            ):
                return False
        if (
            data["pricelist_ids"]
            and order_facts["pricelist_id"] not in (data["pricelist_ids"])
        ):
            return False
        if self.min_qty and line_facts["qty"] < self.min_qty:
            return False
        currency = self.currency_id
        if (
            self.min_line_amount
            and currency.compare_amounts(line_facts["amount"], self.min_line_amount) < 0
        ):
            return False
        return not (
            self.min_order_amount
            and currency.compare_amounts(order_facts["amount"], self.min_order_amount)
            < 0
        )

    def _flow_get_free_qty(self, qty):
        """Free quantity given for ``qty`` units bought (buy X get Y)."""
        self.ensure_one()
        per = self.free_per_qty or self.min_qty or 1.0
        # Tolerate float noise (9.9999999 units are 10 units).
        return math.floor(round(qty / per, 6)) * self.free_qty
