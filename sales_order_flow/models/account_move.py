from odoo import fields, models


class AccountMove(models.Model):
    _inherit = "account.move"

    flow_po_date = fields.Date(
        string="Customer PO Date",
        copy=False,
        help="Date of the customer's purchase order, carried from the sales order.",
    )
    flow_po_document = fields.Binary(
        string="Customer PO Document",
        attachment=True,
        copy=False,
    )
    flow_po_document_name = fields.Char(string="Customer PO File Name", copy=False)
