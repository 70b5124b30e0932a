from odoo import fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    flow_po_required = fields.Boolean(
        string="Purchase Order Required",
        help="Quotations of this customer cannot be confirmed, internally or on "
        "the portal, without the customer's purchase order reference.",
    )
    flow_quotation_validity_days = fields.Integer(
        string="Quotation Validity (days)",
        help="Days a quotation for this customer stays valid. Leave 0 to use the "
        "company's default.",
    )

    _sql_constraints = [
        (
            "flow_quotation_validity_days_positive",
            "CHECK(flow_quotation_validity_days >= 0)",
            "A customer's quotation validity cannot be negative.",
        ),
    ]

    def _commercial_fields(self):
        # Contacts follow their company: a PO requirement and the validity are
        # agreed with the customer, not with each of its contacts.
        return [
            *super()._commercial_fields(),
            "flow_po_required",
            "flow_quotation_validity_days",
        ]
