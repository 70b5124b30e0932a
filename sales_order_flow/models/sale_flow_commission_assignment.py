from odoo import api, fields, models
from odoo.exceptions import ValidationError


class SaleFlowCommissionAssignment(models.Model):
    """A default agent of a customer or of a sales team, with its plan."""

    _name = "sale.flow.commission.assignment"
    _description = "Default Commission Agent"
    _order = "sequence, id"

    sequence = fields.Integer(default=10)
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        index=True,
        ondelete="cascade",
        domain=[("is_company", "=", True)],
    )
    team_id = fields.Many2one(
        "crm.team", string="Sales Team", index=True, ondelete="cascade"
    )
    agent_id = fields.Many2one(
        "res.partner",
        required=True,
        index=True,
        ondelete="cascade",
        domain=[("flow_is_commission_agent", "=", True)],
    )
    plan_id = fields.Many2one(
        "sale.flow.commission.plan",
        help="Leave empty to use the agent's own plan.",
    )
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )

    _sql_constraints = [
        (
            "customer_or_team",
            "CHECK((partner_id IS NULL) != (team_id IS NULL))",
            "A default agent belongs to either a customer or a sales team.",
        ),
    ]

    @api.model_create_multi
    def create(self, vals_list):
        # the database refuses it too; checked first for a readable message
        defaults = self.default_get(["partner_id", "team_id"])
        for vals in vals_list:
            values = {**defaults, **vals}
            self._flow_check_customer_or_team(
                values.get("partner_id"), values.get("team_id")
            )
        return super().create(vals_list)

    def write(self, vals):
        if "partner_id" in vals or "team_id" in vals:
            for assignment in self:
                self._flow_check_customer_or_team(
                    vals.get("partner_id", assignment.partner_id.id),
                    vals.get("team_id", assignment.team_id.id),
                )
        return super().write(vals)

    @api.model
    def _flow_check_customer_or_team(self, partner_id, team_id):
        if bool(partner_id) == bool(team_id):
            raise ValidationError(
                self.env._(
                    "A default agent belongs to either a customer or a sales "
                    "team: set one of them, not both."
                )
            )

    @api.constrains("agent_id", "partner_id", "team_id")
    def _check_unique_agent(self):
        for assignment in self:
            duplicates = self.search_count(
                [
                    ("id", "!=", assignment.id),
                    ("agent_id", "=", assignment.agent_id.id),
                    ("partner_id", "=", assignment.partner_id.id),
                    ("team_id", "=", assignment.team_id.id),
                ]
            )
            if duplicates:
                raise ValidationError(
                    self.env._(
                        "%(agent)s is already a default agent there.",
                        agent=assignment.agent_id.display_name,
                    )
                )
