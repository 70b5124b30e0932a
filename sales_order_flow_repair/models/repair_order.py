from odoo import fields, models

from ..hooks import REPAIR_ACTIVITY, REPAIR_CANCELLED_ACTIVITY


class RepairOrder(models.Model):
    _inherit = "repair.order"

    flow_return_line_id = fields.Many2one(
        "sale.flow.return.line",
        string="Return Line",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="The customer return line whose goods this order repairs.",
    )
    flow_return_id = fields.Many2one(
        related="flow_return_line_id.return_id",
        string="Return (RMA)",
        store=True,
        index="btree_not_null",
    )
    flow_return_reason_id = fields.Many2one(
        related="flow_return_line_id.reason_id", string="Return Reason"
    )

    def action_repair_done(self):
        result = super().action_repair_done()
        lines = self.flow_return_line_id
        if lines:
            self.activity_feedback([REPAIR_ACTIVITY])
            # sudo: ending the repair (the repair team's right, checked by
            # Odoo) sends the goods back and moves the return on; the repair
            # team has no write access on returns
            lines = lines.sudo()
            lines._flow_create_repair_deliveries()
            # a repair cancelled, then reopened by the team: nothing is left
            # for the salesperson to decide
            lines.return_id.activity_feedback(
                [REPAIR_CANCELLED_ACTIVITY],
                feedback=self.env._("The repair was reopened and done."),
            )
            lines.return_id._flow_update_state()
        return result

    def action_repair_cancel(self):
        result = super().action_repair_cancel()
        # the repair team gave up on goods of a return still in progress: the
        # return's salesperson decides (cancel the return to send the goods
        # back); a return being cancelled cancels its repairs itself
        for repair in self.filtered("flow_return_id"):
            # sudo: the repair team has no rights on returns; it only tells
            # the return what happened to its repair
            rma = repair.sudo().flow_return_id
            if rma.state not in ("approved", "received_partial", "received"):
                continue
            message = self.env._(
                "Repair order %(repair)s was cancelled: the goods wait in "
                "%(location)s. The repair team can reopen it (Set to Draft on "
                "the repair order), or cancel the return to send them back "
                "unrepaired.",
                repair=repair.name,
                location=repair.product_location_src_id.display_name,
            )
            rma.message_post(body=message)
            rma.activity_schedule(
                REPAIR_CANCELLED_ACTIVITY,
                note=message,
                user_id=(rma.user_id or self.env.user).id,
            )
        return result

    def action_flow_view_return(self):
        self.ensure_one()
        return self.env["sale.flow.return"]._flow_returns_action(self.flow_return_id)
