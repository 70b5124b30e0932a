import math

from odoo import Command, api, fields, models
from odoo.exceptions import UserError


class SaleFlowAgreementCalloff(models.TransientModel):
    """Order against an agreement: pick lines and quantities, get a
    quotation or a confirmed order."""

    _name = "sale.flow.agreement.calloff"
    _description = "Sales Agreement Call-off"

    agreement_id = fields.Many2one(
        "sale.flow.agreement",
        required=True,
        domain=[("state", "=", "active")],
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Ordered By",
        help="Contact of the customer placing the call-off.",
    )
    date = fields.Date(
        string="Delivery Date", help="Delivery date committed on the order."
    )
    confirm = fields.Boolean(
        string="Confirm Order", help="Create a confirmed order, not a quotation."
    )
    line_ids = fields.One2many(
        "sale.flow.agreement.calloff.line",
        "calloff_id",
        string="Lines",
        compute="_compute_line_ids",
        store=True,
        readonly=False,
    )

    @api.depends("agreement_id")
    def _compute_line_ids(self):
        for wizard in self:
            lines = wizard.agreement_id.line_ids.filtered("product_id")
            consumption = lines._flow_get_consumption()
            wizard.line_ids = [Command.clear()] + [
                Command.create(
                    {
                        "agreement_line_id": line.id,
                        "product_id": line.product_id.id,
                        "remaining": consumption[line.id]["remaining"],
                        "quantity": 0.0,
                    }
                )
                for line in lines
            ]

    @api.onchange("agreement_id")
    def _onchange_agreement_id(self):
        self.partner_id = self.agreement_id.partner_id

    def action_create(self):
        self.ensure_one()
        for line in self.line_ids:
            if not math.isfinite(line.quantity) or line.quantity < 0:
                raise UserError(
                    self.env._("Call-off quantities must be positive numbers.")
                )
        values = [
            (line.agreement_line_id, line.quantity)
            for line in self.line_ids
            if line.quantity > 0
        ]
        if not values:
            raise UserError(self.env._("Enter the quantity of at least one line."))
        order = self.agreement_id._flow_create_calloff(
            values,
            date=self.date,
            confirm=self.confirm,
            partner=self.partner_id or None,
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": "sale.order",
            "res_id": order.id,
            "view_mode": "form",
        }
