"""Workflow profile of a customer (issue 13)."""

from odoo import fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    flow_workflow_id = fields.Many2one(
        "sale.flow.workflow",
        string="Automatic Workflow",
        company_dependent=True,
        help="Profile of this customer's orders (before the sales team's and the "
        "payment terms').",
    )
