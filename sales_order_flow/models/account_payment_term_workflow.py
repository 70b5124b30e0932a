"""Workflow profile of a payment term (issue 13)."""

from odoo import fields, models


class AccountPaymentTerm(models.Model):
    _inherit = "account.payment.term"

    flow_workflow_id = fields.Many2one(
        "sale.flow.workflow",
        string="Automatic Workflow",
        company_dependent=True,
        help="Profile of the orders with these terms whose customer and sales "
        "team name none (e.g. prepaid terms).",
    )
