"""Invoiced periods of recurring order lines (issue 13)."""

from odoo import fields, models


class SaleFlowRecurrencePeriod(models.Model):
    _name = "sale.flow.recurrence.period"
    _description = "Invoiced Recurring Period"
    _order = "period_start desc, id desc"

    order_line_id = fields.Many2one(
        "sale.order.line", required=True, ondelete="cascade", index=True
    )
    order_id = fields.Many2one(
        related="order_line_id.order_id", store=True, index=True, string="Order"
    )
    company_id = fields.Many2one(related="order_line_id.company_id", store=True)
    partner_id = fields.Many2one(
        related="order_id.partner_id", store=True, string="Customer"
    )
    product_id = fields.Many2one(related="order_line_id.product_id", store=True)
    recurrence_id = fields.Many2one(
        "sale.flow.recurrence", string="Plan", required=True, ondelete="restrict"
    )
    period_start = fields.Date(required=True, help="First day of the plan's period.")
    period_end = fields.Date(required=True, help="Last day of the plan's period.")
    date_from = fields.Date(string="Invoiced From", required=True)
    date_to = fields.Date(string="Invoiced To", required=True)
    days = fields.Integer(string="Invoiced Days", help="Days invoiced in the period.")
    period_days = fields.Integer(help="Days of the plan's period.")
    move_line_id = fields.Many2one(
        "account.move.line", string="Invoice Line", ondelete="set null", index=True
    )
    move_id = fields.Many2one(
        "account.move", string="Invoice", ondelete="set null", index=True
    )
    refund_line_id = fields.Many2one(
        "account.move.line", string="Credit Note Line", ondelete="set null"
    )
    credited_from = fields.Date(
        help="Days from this date to Invoiced To were credited back."
    )
    currency_id = fields.Many2one(related="order_line_id.currency_id")
    amount = fields.Monetary(string="Invoiced Amount")

    _sql_constraints = [
        (
            "order_line_period_unique",
            "UNIQUE(order_line_id, period_start)",
            "A period of a recurring order line is invoiced once.",
        ),
    ]
