from odoo import api, fields, models
from odoo.exceptions import UserError


class SaleFlowRebateSettlement(models.Model):
    """One settlement run of a rebate program for one period: the customers
    paid and their credit notes."""

    _name = "sale.flow.rebate.settlement"
    _description = "Rebate Settlement"
    _inherit = ["mail.thread"]
    _order = "period_start desc, id desc"
    _check_company_auto = True

    name = fields.Char(compute="_compute_name", store=True)
    program_id = fields.Many2one(
        comodel_name="sale.flow.rebate.program",
        required=True,
        index=True,
        readonly=True,
        ondelete="restrict",
        check_company=True,
    )
    company_id = fields.Many2one(
        comodel_name="res.company",
        required=True,
        index=True,
        readonly=True,
        default=lambda self: self.env.company,
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    period_start = fields.Date(required=True, readonly=True)
    period_end = fields.Date(required=True, readonly=True)
    period_label = fields.Char(string="Period", compute="_compute_name", store=True)
    date = fields.Date(
        required=True,
        readonly=True,
        default=fields.Date.context_today,
        help="Date of the credit notes.",
    )
    sequence = fields.Integer(
        readonly=True,
        help="1 for the first settlement of the period, 2 for the next one "
        "(late invoices), and so on.",
    )
    line_ids = fields.One2many(
        comodel_name="sale.flow.rebate.settlement.line",
        inverse_name="settlement_id",
        string="Customers",
        readonly=True,
    )
    amount_total = fields.Monetary(
        string="Total Paid",
        compute="_compute_amount_total",
        store=True,
        help="Sum of the credit notes' untaxed amounts.",
    )
    customer_count = fields.Integer(compute="_compute_amount_total", store=True)
    move_count = fields.Integer(string="Credit Notes", compute="_compute_move_count")
    note = fields.Text()

    _sql_constraints = [
        (
            "period_sequence_unique",
            "UNIQUE(program_id, period_start, sequence)",
            "This period of the rebate program was just settled by another run; "
            "reload to see it.",
        ),
    ]

    @api.depends("program_id.name", "period_start", "sequence")
    def _compute_name(self):
        for settlement in self:
            if not (settlement.program_id and settlement.period_start):
                settlement.name = settlement.period_label = False
                continue
            label = settlement.program_id._get_period_label(settlement.period_start)
            settlement.period_label = label
            settlement.name = (
                self.env._(
                    "%(program)s - %(period)s (%(sequence)s)",
                    program=settlement.program_id.name,
                    period=label,
                    sequence=settlement.sequence,
                )
                if settlement.sequence > 1
                else self.env._(
                    "%(program)s - %(period)s",
                    program=settlement.program_id.name,
                    period=label,
                )
            )

    @api.depends("line_ids.amount_due")
    def _compute_amount_total(self):
        for settlement in self:
            settlement.amount_total = sum(settlement.line_ids.mapped("amount_due"))
            settlement.customer_count = len(settlement.line_ids)

    def _compute_move_count(self):
        for settlement in self:
            settlement.move_count = len(settlement.line_ids.move_id)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_paid(self):
        if self.line_ids.move_id:
            raise UserError(
                self.env._(
                    "A rebate settlement that created credit notes cannot be "
                    "deleted: it is what prevents paying the rebate twice."
                )
            )

    def action_view_credit_notes(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account.action_move_out_refund_type"
        )
        action["domain"] = [("id", "in", self.line_ids.move_id.ids)]
        action["context"] = {"default_move_type": "out_refund", "create": False}
        return action

    def action_print_statements(self):
        action = self.env.ref(
            "sales_order_flow.sale_flow_rebate_statement_report"
        ).report_action(self.line_ids)
        # no report data: None cannot be marshalled over XML-RPC
        if action.get("data") is None:
            action.pop("data", None)
        return action
