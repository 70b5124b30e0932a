"""Invoices waiting to be sent by the automatic workflow (issue 13)."""

from odoo import fields, models


class AccountMove(models.Model):
    _inherit = "account.move"

    flow_workflow_send_pending = fields.Boolean(
        string="To Send (Workflow)",
        copy=False,
        index="btree_not_null",
        help="The automatic workflow sends this invoice at its next run.",
    )
