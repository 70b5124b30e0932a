from dateutil.relativedelta import relativedelta

from odoo import api, fields, models


class SaleFlowRebateProgramSettle(models.TransientModel):
    """Settle one period of a rebate program."""

    _name = "sale.flow.rebate.program.settle"
    _description = "Settle Rebate Program"

    def _default_period_date(self):
        # the period that ended last is the one usually settled
        program = self.env["sale.flow.rebate.program"].browse(
            self.env.context.get("default_program_id")
        )
        today = fields.Date.context_today(self)
        if not program:
            return today
        return program._get_period(today)[0] - relativedelta(days=1)

    program_id = fields.Many2one(
        comodel_name="sale.flow.rebate.program",
        required=True,
        domain="[('state', 'in', ('active', 'closed'))]",
    )
    currency_id = fields.Many2one(related="program_id.currency_id")
    period_date = fields.Date(
        string="Period",
        required=True,
        default=lambda self: self._default_period_date(),
        help="Any day of the period to settle.",
    )
    period_start = fields.Date(compute="_compute_period")
    period_end = fields.Date(compute="_compute_period")
    date = fields.Date(
        string="Credit Note Date",
        required=True,
        default=fields.Date.context_today,
    )
    customer_count = fields.Integer(
        string="Customers to Pay", compute="_compute_preview"
    )
    amount_due = fields.Monetary(string="Total Due", compute="_compute_preview")

    @api.depends("program_id", "period_date")
    def _compute_period(self):
        for wizard in self:
            if wizard.program_id and wizard.period_date:
                wizard.period_start, wizard.period_end = wizard.program_id._get_period(
                    wizard.period_date
                )
            else:
                wizard.period_start = wizard.period_end = False

    @api.depends("program_id", "period_date")
    def _compute_preview(self):
        for wizard in self:
            dues = []
            if wizard.program_id.tier_ids and wizard.period_start:
                dues = [
                    values["due"]
                    for values in wizard.program_id._get_due(
                        wizard.period_start, wizard.period_end
                    ).values()
                    if values["due"] > 0
                ]
            wizard.customer_count = len(dues)
            wizard.amount_due = sum(dues)

    def action_settle(self):
        self.ensure_one()
        self.program_id._check_period_over(self.period_date)
        settlement, message = self.program_id._settle(self.period_date, self.date)
        if settlement:
            settlement.message_post(body=message)
            return {
                "type": "ir.actions.act_window",
                "res_model": "sale.flow.rebate.settlement",
                "res_id": settlement.id,
                "view_mode": "form",
                "target": "current",
            }
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Nothing to settle"),
                "message": message,
                "type": "warning",
                "next": {"type": "ir.actions.act_window_close"},
            },
        }
