from odoo import fields, models


class SaleFlowReturnReason(models.Model):
    _inherit = "sale.flow.return.reason"

    # without the bridge a reason proposes a return without refund instead:
    # the goods still come back, nothing is credited
    default_operation = fields.Selection(
        selection_add=[("repair", "Repair")],
        ondelete={"repair": "set return_no_refund"},
    )
    repair_under_warranty = fields.Boolean(
        default=True,
        help="Repair orders of this reason are under warranty: the parts and "
        "work are not charged. Without it, the repair team charges the repair "
        "through the repair order's quotation.",
    )
