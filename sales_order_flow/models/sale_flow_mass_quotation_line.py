from odoo import fields, models


class SaleFlowMassQuotationLine(models.Model):
    """One customer of a mass quotation run and what became of it."""

    _name = "sale.flow.mass.quotation.line"
    _description = "Mass Quotation Result"
    _order = "run_id, id"
    _rec_name = "partner_id"

    run_id = fields.Many2one(
        comodel_name="sale.flow.mass.quotation",
        required=True,
        index=True,
        ondelete="cascade",
    )
    company_id = fields.Many2one(related="run_id.company_id", store=True, index=True)
    partner_id = fields.Many2one(
        comodel_name="res.partner",
        string="Customer",
        required=True,
        index=True,
        ondelete="cascade",
    )
    order_id = fields.Many2one(
        comodel_name="sale.order",
        string="Quotation",
        index="btree_not_null",
        ondelete="set null",
        readonly=True,
        help="The quotation created for this customer.",
    )
    state = fields.Selection(
        selection=[
            ("pending", "To Process"),
            ("created", "Created"),
            ("sent", "Sent"),
            ("failed", "Failed"),
        ],
        default="pending",
        required=True,
        readonly=True,
        index=True,
        help="To Process: not handled yet. Created: the quotation exists (and was "
        "not sent, see the message). Sent: created and emailed to the customer. "
        "Failed: no quotation was created, see the message.",
    )
    message = fields.Text(
        readonly=True,
        help="Why the customer failed, or why the quotation was not sent.",
    )

    _sql_constraints = [
        (
            "run_partner_uniq",
            "UNIQUE(run_id, partner_id)",
            "A customer appears only once in a mass quotation run.",
        ),
    ]
