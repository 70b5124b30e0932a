from odoo import api, fields, models
from odoo.exceptions import UserError

from ..hooks import REPAIR_ACTIVITY, REPAIR_CANCELLED_ACTIVITY
from .sale_flow_return_line import NOT_STARTED, STARTED


class SaleFlowReturn(models.Model):
    _inherit = "sale.flow.return"

    repair_ids = fields.One2many(
        "repair.order", "flow_return_id", string="Repair Orders", readonly=True
    )
    repair_count = fields.Integer(compute="_compute_repair_count")
    repair_delivery_count = fields.Integer(compute="_compute_counts")

    @api.depends("line_ids.repair_id")
    def _compute_repair_count(self):
        for rma in self:
            rma.repair_count = len(rma.line_ids.repair_id)

    @api.depends("picking_ids.move_ids.flow_repair_line_id")
    def _compute_counts(self):
        result = super()._compute_counts()
        # goods sent back are no replacements
        for rma in self:
            sent_back = rma._flow_repair_deliveries()
            rma.repair_delivery_count = len(sent_back)
            rma.exchange_count -= len(sent_back)
        return result

    def _flow_repair_deliveries(self):
        return self.picking_ids.filtered(
            lambda p: (
                p.picking_type_code == "outgoing" and p.move_ids.flow_repair_line_id
            )
        )

    def action_view_exchanges(self):
        pickings = (
            self.picking_ids.filtered(lambda p: p.picking_type_code == "outgoing")
            - self._flow_repair_deliveries()
        )
        return pickings._get_records_action(name=self.env._("Replacements"))

    def action_view_repair_deliveries(self):
        return self._flow_repair_deliveries()._get_records_action(
            name=self.env._("Goods Sent Back")
        )

    def _flow_update_state(self):
        # repair orders are due once the goods are back, before the state
        # follows the lines (as the replacements of exchanges)
        self.filtered(
            lambda rma: rma.state in ("approved", "received_partial", "received")
        ).line_ids._flow_create_repairs()
        return super()._flow_update_state()

    # ------------------------------------------------------------------
    # Cancellation: goods received for a repair not started go back
    # ------------------------------------------------------------------
    def _flow_cancel_states(self):
        return (*super()._flow_cancel_states(), "received_partial", "received")

    def _flow_cancel_blocked(self):
        """Received goods do not block the cancellation when they all came
        for repairs that have not started: they are sent back unrepaired."""
        self.ensure_one()
        if not super()._flow_cancel_blocked():
            return False
        if self.move_ids:
            return True
        repair_lines = self.line_ids.filtered(lambda line: line.operation == "repair")
        done = self.picking_ids.filtered(lambda p: p.state == "done")
        return bool(
            not repair_lines
            or done.move_ids.filtered(
                lambda m: m.flow_return_line_id not in repair_lines
            )
            or any(line.repair_state in STARTED for line in repair_lines)
        )

    def action_cancel(self):
        with self.env.cr.savepoint():
            result = super().action_cancel()
            # sudo: the sales team cancels the return (checked above: no
            # repair started); its repair orders and the goods' way back
            # follow, though salespeople have no repair rights
            repairs = self.sudo().line_ids.repair_id.filtered(
                lambda r: r.state in NOT_STARTED
            )
            repairs.activity_unlink([REPAIR_ACTIVITY])
            repairs.action_repair_cancel()
            self.sudo().line_ids._flow_create_repair_deliveries()
            # the salesperson's decision on a repair the team cancelled
            self.activity_feedback(
                [REPAIR_CANCELLED_ACTIVITY],
                feedback=self.env._("The return was cancelled: goods sent back."),
            )
        return result

    def action_draft(self):
        for rma in self:
            if rma.picking_ids.filtered(lambda p: p.state == "done"):
                raise UserError(
                    self.env._(
                        "Return %(name)s already moved goods: create a new return "
                        "instead.",
                        name=rma.name,
                    )
                )
        return super().action_draft()

    def action_view_repairs(self):
        return self.line_ids.repair_id._get_records_action(
            name=self.env._("Repair Orders")
        )
