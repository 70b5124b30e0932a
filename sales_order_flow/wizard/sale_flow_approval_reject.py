from odoo import fields, models


class SaleFlowApprovalReject(models.TransientModel):
    _name = "sale.flow.approval.reject"
    _description = "Reject a Quotation Waiting for Approval"

    order_id = fields.Many2one(
        "sale.order", string="Quotation", required=True, ondelete="cascade"
    )
    reason = fields.Text(
        required=True,
        help="Why the quotation is rejected: posted in its chatter and sent to "
        "the salesperson as an activity.",
    )

    def action_reject(self):
        self.ensure_one()
        self.order_id._flow_reject(self.reason)
        return {"type": "ir.actions.act_window_close"}
