from odoo import fields, models


class SaleFlowAgreementCalloffLine(models.TransientModel):
    _name = "sale.flow.agreement.calloff.line"
    _description = "Sales Agreement Call-off Line"

    calloff_id = fields.Many2one(
        "sale.flow.agreement.calloff", required=True, ondelete="cascade"
    )
    agreement_line_id = fields.Many2one(
        "sale.flow.agreement.line", required=True, ondelete="cascade"
    )
    product_id = fields.Many2one("product.product", readonly=True)
    remaining = fields.Float(
        readonly=True, help="What remains of the line's commitment."
    )
    quantity = fields.Float(digits="Product Unit of Measure")
