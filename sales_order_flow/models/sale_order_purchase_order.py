"""The customer's purchase order on the quotation and its invoices."""

from odoo import fields, models


class SaleOrder(models.Model):
    _inherit = "sale.order"

    # ------------------------------------------------------------------
    # Fields: customer purchase order
    # ------------------------------------------------------------------
    flow_po_required = fields.Boolean(
        string="PO Required",
        related="partner_id.commercial_partner_id.flow_po_required",
    )
    flow_po_date = fields.Date(
        string="Customer PO Date",
        copy=False,
        tracking=True,
        help="Date of the customer's purchase order.",
    )
    flow_po_document = fields.Binary(
        string="Customer PO Document",
        attachment=True,
        copy=False,
        help="The customer's purchase order as they sent it (PDF or image).",
    )
    flow_po_document_name = fields.Char(string="Customer PO File Name", copy=False)

    # ------------------------------------------------------------------
    # Invoicing: the customer PO follows the order
    # ------------------------------------------------------------------
    def _prepare_invoice(self):
        values = super()._prepare_invoice()
        values["flow_po_date"] = self.flow_po_date
        if self.flow_po_document:
            values["flow_po_document"] = self.flow_po_document
            values["flow_po_document_name"] = self.flow_po_document_name
        return values
