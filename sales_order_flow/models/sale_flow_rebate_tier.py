from itertools import pairwise

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools.misc import formatLang

from ..utils import has_internal_key
from .sale_flow_rebate_program import TIERS_CHECKED_BY_PROGRAM_KEY


class SaleFlowRebateTier(models.Model):
    """A tier of a rebate program: from this volume on, this rate."""

    _name = "sale.flow.rebate.tier"
    _description = "Rebate Tier"
    _order = "program_id, threshold, id"

    program_id = fields.Many2one(
        comodel_name="sale.flow.rebate.program",
        required=True,
        index=True,
        ondelete="cascade",
    )
    company_id = fields.Many2one(related="program_id.company_id", store=True)
    threshold = fields.Float(
        string="From Volume",
        required=True,
        help="The tier applies from this volume (amount or quantity, per the "
        "program's basis) on, this value included.",
    )
    rate = fields.Float(
        string="Rebate %",
        digits="Discount",
        required=True,
        help="Percentage of the invoiced amount paid back.",
    )

    _sql_constraints = [
        (
            "threshold_positive",
            "CHECK(threshold >= 0)",
            "A rebate tier's volume cannot be negative.",
        ),
        (
            "rate_range",
            "CHECK(rate >= 0 AND rate <= 100)",
            "A rebate tier's rate must be between 0 and 100 %.",
        ),
        (
            "threshold_unique",
            "UNIQUE(program_id, threshold)",
            "Two tiers of a rebate program cannot start at the same volume.",
        ),
    ]

    def _compute_display_name(self):
        for tier in self:
            tier.display_name = self.env._(
                "From %(threshold)s: %(rate)s %%",
                threshold=formatLang(self.env, tier.threshold),
                rate=formatLang(self.env, tier.rate),
            )

    @api.constrains("threshold", "rate")
    def _check_values(self):
        for tier in self:
            self._check_tier_values({"threshold": tier.threshold, "rate": tier.rate})
        # edited through their program, tiers are checked together once all
        # of them are written (see the program's constraint on tier_ids); the
        # marker is a Python object a client cannot send
        if not has_internal_key(self.env, TIERS_CHECKED_BY_PROGRAM_KEY):
            for program in self.program_id:
                self._check_sequence(program.tier_ids)

    @api.model
    def _check_tier_values(self, values):
        """Range checks, run before anything reaches the database."""
        if "threshold" in values and (values["threshold"] or 0.0) < 0:
            raise ValidationError(
                self.env._(
                    "A rebate tier's volume cannot be negative (%(threshold)s).",
                    threshold=values["threshold"],
                )
            )
        if "rate" in values and not 0 <= (values["rate"] or 0.0) <= 100:
            raise ValidationError(
                self.env._(
                    "A rebate tier's rate must be between 0 and 100 %% (%(rate)s).",
                    rate=values["rate"],
                )
            )

    @api.model
    def _check_sequence(self, tiers):
        """Tiers sorted by volume must not share a volume (they would overlap)
        and each higher tier must pay a higher rate. ``tiers`` may be a list of
        dicts (values about to be written) or records."""
        rows = sorted(
            ((tier["threshold"] or 0.0, tier["rate"] or 0.0) for tier in tiers),
            key=lambda row: row[0],
        )
        for (threshold, rate), (next_threshold, next_rate) in pairwise(rows):
            if next_threshold <= threshold:
                raise ValidationError(
                    self.env._(
                        "Two rebate tiers start at the same volume "
                        "(%(threshold)s): tiers cannot overlap.",
                        threshold=formatLang(self.env, threshold),
                    )
                )
            if next_rate <= rate:
                raise ValidationError(
                    self.env._(
                        "Rebate tiers must increase: the tier from %(next)s pays "
                        "%(next_rate)s %%, not more than the tier from %(threshold)s "
                        "(%(rate)s %%).",
                        next=formatLang(self.env, next_threshold),
                        next_rate=formatLang(self.env, next_rate),
                        threshold=formatLang(self.env, threshold),
                        rate=formatLang(self.env, rate),
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        # checked before inserting, so that bad tiers give a clear error rather
        # than a database constraint violation, and nothing is written
        new_by_program = {}
        for vals in vals_list:
            self._check_tier_values(vals)
            new_by_program.setdefault(vals.get("program_id"), []).append(vals)
        programs = self.env["sale.flow.rebate.program"].browse(
            [program_id for program_id in new_by_program if program_id]
        )
        for program in programs:
            thresholds = program.tier_ids.mapped("threshold") + [
                vals.get("threshold") or 0.0 for vals in new_by_program[program.id]
            ]
            duplicates = {value for value in thresholds if thresholds.count(value) > 1}
            if duplicates:
                raise ValidationError(
                    self.env._(
                        "Two rebate tiers start at the same volume "
                        "(%(threshold)s): tiers cannot overlap.",
                        threshold=formatLang(self.env, min(duplicates)),
                    )
                )
        return super().create(vals_list)

    def write(self, vals):
        self._check_tier_values(vals)
        return super().write(vals)
