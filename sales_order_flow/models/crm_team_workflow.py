"""Workflow profile of a sales team (issue 13)."""

from odoo import fields, models


class CrmTeam(models.Model):
    _inherit = "crm.team"

    flow_workflow_id = fields.Many2one(
        "sale.flow.workflow",
        string="Automatic Workflow",
        help="Profile of the team's orders whose customer names none.",
    )
