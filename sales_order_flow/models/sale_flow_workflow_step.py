"""Steps the automatic workflow ran, once each (issue 13)."""

from odoo import fields, models


class SaleFlowWorkflowStep(models.Model):
    _name = "sale.flow.workflow.step"
    _description = "Automatic Workflow Step"
    _order = "id desc"

    order_id = fields.Many2one(
        "sale.order", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="order_id.company_id", store=True)
    step = fields.Selection(
        [
            ("confirm", "Confirmation"),
            ("invoice", "Invoice"),
            ("send", "Send"),
            ("release", "Delivery Released"),
        ],
        required=True,
    )
    key = fields.Char(
        required=True, help="What the step ran for: the order, a delivery, an invoice."
    )
    move_ids = fields.Many2many("account.move", string="Invoices")

    _sql_constraints = [
        (
            "order_key_unique",
            "UNIQUE(order_id, key)",
            "An automatic step runs once for an order.",
        ),
    ]
