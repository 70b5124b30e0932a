from odoo import api, fields, models
from odoo.exceptions import ValidationError


class SaleFlowAgreementSchedule(models.Model):
    """Planned delivery of an agreement line: when due, a scheduled action
    creates a draft call-off for it."""

    _name = "sale.flow.agreement.schedule"
    _description = "Sales Agreement Delivery Schedule"
    _order = "date, id"

    line_id = fields.Many2one(
        "sale.flow.agreement.line", required=True, ondelete="cascade", index=True
    )
    agreement_id = fields.Many2one(
        related="line_id.agreement_id", store=True, index=True
    )
    company_id = fields.Many2one(related="line_id.company_id", store=True)
    # stored: switching the line to a category commitment recomputes it, which
    # runs the check below (a schedule needs a product to call off)
    product_id = fields.Many2one(related="line_id.product_id", store=True)
    date = fields.Date(required=True, help="Date the delivery is due.")
    quantity = fields.Float(
        required=True, digits="Product Unit of Measure", help="Quantity to deliver."
    )
    order_id = fields.Many2one(
        "sale.order",
        string="Call-off",
        copy=False,
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
        help="Draft call-off created for this delivery.",
    )

    _sql_constraints = [
        (
            "quantity_positive",
            "CHECK(quantity > 0)",
            "A scheduled quantity must be positive.",
        ),
    ]

    @api.constrains("line_id", "product_id")
    def _check_line_product(self):
        for schedule in self:
            if not schedule.line_id.product_id:
                raise ValidationError(
                    self.env._(
                        "Only product lines of an agreement can have a delivery "
                        "schedule: remove the schedule of %(line)s before making "
                        "it a category commitment.",
                        line=schedule.line_id._flow_label(),
                    )
                )
