"""Automatic order-to-cash workflow profiles (issue 13)."""

from odoo import api, fields, models
from odoo.exceptions import ValidationError


class SaleFlowWorkflow(models.Model):
    _name = "sale.flow.workflow"
    _description = "Automatic Workflow Profile"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    active = fields.Boolean(default=True)
    sequence = fields.Integer(default=10)
    company_id = fields.Many2one(
        "res.company",
        required=True,
        default=lambda self: self.env.company,
        index=True,
    )
    is_default = fields.Boolean(
        string="Company Default",
        help="Used for the orders of the company whose customer, sales team and "
        "payment terms name no profile.",
    )
    auto_confirm = fields.Boolean(
        string="Confirm Automatically",
        help="Confirm a quotation as soon as the customer's PO is entered and "
        "nothing blocks it (approval given, not expired). Signing or paying on "
        "the portal confirms it as usual.",
    )
    invoice_policy = fields.Selection(
        [
            ("manual", "Manual"),
            ("delivery", "When Delivered"),
            ("prepaid", "At Confirmation, Ship When Paid"),
        ],
        string="Invoicing",
        default="manual",
        required=True,
        help="When Delivered: an invoice for what each validated delivery "
        "shipped (services by ordered quantity). At Confirmation: the whole order "
        "is invoiced when confirmed and its deliveries wait for the payment.",
    )
    post_invoice = fields.Boolean(
        string="Post Invoices",
        default=True,
        help="Post the invoices the workflow and the recurring run create.",
    )
    send_invoice = fields.Boolean(
        string="Send Invoices",
        help="Send posted invoices to the customer with Odoo's Send & Print and "
        "its mail template.",
    )

    @api.constrains("is_default", "company_id", "active")
    def _check_default(self):
        for profile in self.filtered(lambda p: p.is_default and p.active):
            others = self.search_count(
                [
                    ("id", "!=", profile.id),
                    ("company_id", "=", profile.company_id.id),
                    ("is_default", "=", True),
                ]
            )
            if others:
                raise ValidationError(
                    self.env._(
                        "%(company)s already has a default workflow profile: "
                        "untick it there first.",
                        company=profile.company_id.name,
                    )
                )

    @api.constrains("send_invoice", "post_invoice", "invoice_policy")
    def _check_send(self):
        for profile in self:
            if profile.send_invoice and not profile.post_invoice:
                raise ValidationError(
                    self.env._(
                        "Profile %(name)s: only posted invoices can be sent; tick "
                        "Post Invoices too.",
                        name=profile.name,
                    )
                )
