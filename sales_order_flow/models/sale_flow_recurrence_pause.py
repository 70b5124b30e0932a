"""Pauses of recurring orders: no day of a pause is invoiced (issue 13)."""

from odoo import fields, models


class SaleFlowRecurrencePause(models.Model):
    _name = "sale.flow.recurrence.pause"
    _description = "Recurring Order Pause"
    _order = "date_start desc, id desc"

    order_id = fields.Many2one(
        "sale.order", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="order_id.company_id", store=True)
    date_start = fields.Date(string="Paused From", required=True)
    date_end = fields.Date(
        string="Paused To", help="Last day of the pause; empty while paused."
    )
