from odoo import api, fields, models
from odoo.exceptions import ValidationError


class SaleFlowCommissionTier(models.Model):
    """A step of a tiered rule: from ``threshold`` of the agent's volume in the
    period, the rate is ``rate``. Thresholds strictly increase with the
    sequence, so tiers never overlap.
    """

    _name = "sale.flow.commission.tier"
    _description = "Commission Tier"
    _order = "rule_id, sequence, threshold, id"

    rule_id = fields.Many2one(
        "sale.flow.commission.rule", required=True, index=True, ondelete="cascade"
    )
    sequence = fields.Integer(default=10)
    currency_id = fields.Many2one(related="rule_id.currency_id")
    threshold = fields.Monetary(
        string="From Volume",
        help="The tier applies once the agent's volume of the period (sum of "
        "the commission bases, company currency) reaches this amount.",
    )
    rate = fields.Float(string="Rate (%)", digits=(16, 4), required=True)

    _sql_constraints = [
        (
            "threshold_unique",
            "UNIQUE(rule_id, threshold)",
            "Two tiers of a rule cannot start at the same volume.",
        ),
        (
            "threshold_rate_positive",
            "CHECK(threshold >= 0 AND rate >= 0)",
            "Tier thresholds and rates cannot be negative.",
        ),
    ]

    @api.constrains("threshold", "rate", "sequence")
    def _check_increasing(self):
        """Thresholds strictly increase with the sequence: no overlap."""
        for rule in self.rule_id:
            previous = None
            for tier in rule.tier_ids.sorted(lambda t: (t.sequence, t.id)):
                if tier.threshold < 0 or tier.rate < 0:
                    raise ValidationError(
                        self.env._("Tier thresholds and rates cannot be negative.")
                    )
                if previous is not None and tier.threshold <= previous:
                    raise ValidationError(
                        self.env._(
                            "Rule %(rule)s: each tier must start above the "
                            "previous one (tiers overlap or do not increase).",
                            rule=rule.name,
                        )
                    )
                previous = tier.threshold

    @api.model_create_multi
    def create(self, vals_list):
        # Checked before the insert (the database would refuse it with a less
        # readable message): no negative value, no threshold twice in a rule.
        seen = set()
        for vals in vals_list:
            if (vals.get("threshold") or 0.0) < 0 or (vals.get("rate") or 0.0) < 0:
                raise ValidationError(
                    self.env._("Tier thresholds and rates cannot be negative.")
                )
            key = (vals.get("rule_id"), vals.get("threshold") or 0.0)
            if key in seen:
                self._flow_raise_same_threshold()
            seen.add(key)
        self._flow_check_threshold_free(seen)
        return super().create(vals_list)

    def write(self, vals):
        if (vals.get("threshold") or 0.0) < 0 or (vals.get("rate") or 0.0) < 0:
            raise ValidationError(
                self.env._("Tier thresholds and rates cannot be negative.")
            )
        if "threshold" in vals or "rule_id" in vals:
            keys = {
                (
                    vals.get("rule_id", tier.rule_id.id),
                    vals.get("threshold", tier.threshold) or 0.0,
                )
                for tier in self
            }
            if len(keys) < len(self):
                self._flow_raise_same_threshold()
            self._flow_check_threshold_free(keys, exclude=self)
        return super().write(vals)

    def _flow_check_threshold_free(self, keys, exclude=None):
        """No other tier of the rule starts at these (rule id, threshold)."""
        keys = {(rule_id, threshold) for rule_id, threshold in keys if rule_id}
        if not keys:
            return
        existing = self.search_fetch(
            [
                ("rule_id", "in", list({rule_id for rule_id, _t in keys})),
                ("id", "not in", (exclude or self.browse()).ids),
            ],
            ["rule_id", "threshold"],
        )
        rounding = existing.currency_id[:1].rounding or 0.01
        for tier in existing:
            for rule_id, threshold in keys:
                if rule_id == tier.rule_id.id and (
                    abs(tier.threshold - threshold) < rounding / 2
                ):
                    self._flow_raise_same_threshold()

    @api.model
    def _flow_raise_same_threshold(self):
        raise ValidationError(
            self.env._(
                "Two tiers of a rule start at the same volume: tiers cannot overlap."
            )
        )
