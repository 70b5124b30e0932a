"""Deliveries and the automatic workflow (issue 13): a validated delivery is
invoiced by the next workflow run; a prepaid order ships once paid."""

from odoo import fields, models
from odoo.exceptions import UserError


class StockPicking(models.Model):
    _inherit = "stock.picking"

    flow_workflow_to_invoice = fields.Boolean(
        string="To Invoice (Workflow)",
        copy=False,
        index="btree_not_null",
        help="Validated delivery the automatic workflow invoices at its next run.",
    )

    def button_validate(self):
        held = self.filtered(
            lambda p: (
                p.picking_type_code == "outgoing"
                and p.sale_id.flow_workflow_id.invoice_policy == "prepaid"
                and not p.sale_id.flow_workflow_released
            )
        )
        if held:
            raise UserError(
                self.env._(
                    "%(pickings)s waits for the payment of its prepaid order "
                    "%(orders)s: it is released once the invoice is paid.",
                    pickings=", ".join(held.mapped("name")),
                    orders=", ".join(held.sale_id.mapped("name")),
                )
            )
        return super().button_validate()

    def _action_done(self):
        res = super()._action_done()
        to_invoice = self.filtered(
            lambda p: (
                p.state == "done"
                and p.picking_type_code == "outgoing"
                and p.sale_id.flow_workflow_id.invoice_policy == "delivery"
            )
        )
        if to_invoice:
            # sudo: a warehouse user validates; the flag only queues the
            # invoicing step, which runs as the cron
            to_invoice.sudo().flow_workflow_to_invoice = True
            self.env.ref("sales_order_flow.ir_cron_sale_flow_workflow")._trigger()
        return res
