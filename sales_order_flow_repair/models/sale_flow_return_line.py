from collections import defaultdict

from odoo import Command, api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import float_compare, plaintext2html

from ..hooks import REPAIR_ACTIVITY

# repair orders the team has not started: a cancelled return cancels them
NOT_STARTED = ("draft", "confirmed")
STARTED = ("under_repair", "done")


class SaleFlowReturnLine(models.Model):
    _inherit = "sale.flow.return.line"

    # without the bridge the line is a return without refund: its goods came
    # back and nothing was credited
    operation = fields.Selection(
        selection_add=[("repair", "Repair")],
        ondelete={"repair": "set return_no_refund"},
    )
    repair_id = fields.Many2one(
        "repair.order",
        string="Repair Order",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="Created once the goods of the line are received.",
    )
    # related: read as superuser, so the line's progress is known to users
    # without the repair rights (salespeople, accountants)
    repair_state = fields.Selection(related="repair_id.state", string="Repair Status")
    repair_move_ids = fields.One2many(
        "stock.move",
        "flow_repair_line_id",
        string="Repaired Goods Moves",
        readonly=True,
        help="The delivery of the repaired goods back to the customer.",
    )

    @api.depends("operation")
    def _compute_needs_receipt(self):
        result = super()._compute_needs_receipt()
        # nothing is repaired that did not come back
        for line in self.filtered(lambda line: line.operation == "repair"):
            line.needs_receipt = True
        return result

    @api.depends("repair_state", "repair_move_ids")
    def _compute_progress(self):
        result = super()._compute_progress()
        for line in self.filtered(lambda line: line.operation == "repair"):
            line.processed = bool(
                line.receipt_complete
                and line.repair_state == "done"
                and line.repair_move_ids
            )
        return result

    @api.constrains("operation", "product_id", "product_uom_qty")
    def _check_repair_serial_quantity(self):
        for line in self:
            if (
                line.operation == "repair"
                and line.product_id.tracking == "serial"
                and float_compare(
                    line.product_uom_qty,
                    1.0,
                    precision_rounding=line.product_uom_id.rounding or 0.01,
                )
            ):
                raise ValidationError(
                    self.env._(
                        "%(product)s is tracked by serial number: repair one unit "
                        "per return line (%(qty)s requested).",
                        product=line.product_id.display_name,
                        qty=line.product_uom_qty,
                    )
                )

    def _flow_receipt_ends_pending(self):
        # repaired goods go back to the customer, like a replacement
        return super()._flow_receipt_ends_pending() or self.operation == "repair"

    # ------------------------------------------------------------------
    # Repairs
    # ------------------------------------------------------------------
    def _flow_received_moves(self):
        return self.return_move_ids.filtered(
            lambda m: m.state == "done" and m.location_dest_id.usage != "customer"
        )

    def _flow_received_location(self):
        """Where the line's goods were put: the received move lines'
        location (a putaway rule may choose a sublocation), else the
        receipt's."""
        moves = self._flow_received_moves().sorted("date")
        put = moves.move_line_ids.location_dest_id
        return put if len(put) == 1 else moves[-1:].location_dest_id

    def _flow_repair_values(self):
        """Values of the repair order of the line, its goods received."""
        self.ensure_one()
        rma = self.return_id
        moves = self._flow_received_moves().sorted("date")
        receipt = moves[-1:].picking_id
        location = self._flow_received_location()
        lots = moves.move_line_ids.lot_id
        lot = lots if len(lots) == 1 else self.lot_id
        values = {
            "company_id": rma.company_id.id,
            "partner_id": rma.partner_id.id,
            "product_id": self.product_id.id,
            "product_qty": self.qty_received,
            "product_uom": self.product_uom_id.id,
            "lot_id": lot.id,
            "picking_id": receipt.id,
            "product_location_src_id": location.id,
            # repaired where they are: the delivery back leaves from there
            "product_location_dest_id": location.id,
            "under_warranty": self.reason_id.repair_under_warranty,
            "internal_notes": plaintext2html(rma.comment) if rma.comment else False,
            "flow_return_line_id": self.id,
        }
        repair_type = receipt.picking_type_id.warehouse_id.repair_type_id
        if repair_type:
            values["picking_type_id"] = repair_type.id
        return values

    def _flow_create_repairs(self):
        """Confirmed repair orders of the repair lines whose goods are all
        received, one per line, with an activity for the repair team."""
        lines = self.filtered(
            lambda line: (
                line.operation == "repair"
                and line.receipt_complete
                and not line.repair_id
            )
        )
        # the user whose step completes the receipt (a stock user, who has
        # Odoo's repair rights) creates the orders with their own rights, even
        # when the return follows its receipt as superuser
        Repair = self.env["repair.order"].sudo(False)
        if not Repair.has_access("create"):
            # sudo: another role's step (an accountant's refund) completed
            # the receipt; the repair team then works the order with its own
            # rights
            Repair = Repair.sudo()
        repairs = Repair.browse()
        for line in lines:
            rma = line.return_id
            repair = Repair.with_company(rma.company_id).create(
                line._flow_repair_values()
            )
            # the goods were just received at the repair's source location:
            # Odoo's availability check (action_validate) would only say so
            repair._action_repair_confirm()
            line.repair_id = repair
            # the returns logistics responsible, when they may see the order
            team = rma.company_id.flow_return_logistics_user_id
            if not (team and Repair.with_user(team).has_access("read")):
                team = self.env.user
            repair.activity_schedule(REPAIR_ACTIVITY, user_id=team.id)
            if repair.under_warranty:
                body = self.env._(
                    "Repair order %(repair)s created for %(product)s, under warranty.",
                    repair=repair.name,
                    product=line.product_id.display_name,
                )
            else:
                body = self.env._(
                    "Repair order %(repair)s created for %(product)s, not under "
                    "warranty: the repair team charges it.",
                    repair=repair.name,
                    product=line.product_id.display_name,
                )
            rma.message_post(body=body)
            repairs |= repair
        return repairs

    def _flow_create_repair_deliveries(self):
        """Deliveries of the lines' goods back to the customer, the same lot,
        from where the repair left them (or where they were received, when
        the repair never happened): on no order line and in no order's
        procurement group, like a replacement, so the order's delivered and
        invoiced quantities and the agreements do not count them."""
        pickings = self.env["stock.picking"]
        groups = defaultdict(lambda: self.browse())
        for line in self.filtered(
            lambda line: (
                line.operation == "repair"
                and line.qty_received
                and not line.repair_move_ids
            )
        ):
            source = (
                line.repair_id.product_location_dest_id
                if line.repair_state == "done"
                else line._flow_received_location()
            )
            groups[(line.return_id, line.move_id.picking_id, source)] |= line
        for (rma, origin, source), lines in groups.items():
            picking = rma._flow_create_picking(
                lines._flow_delivery_type(origin),
                source,
                rma.partner_id.property_stock_customer,
                [
                    {
                        "product_id": line.product_id.id,
                        "product_uom_qty": line.repair_id.product_qty
                        if line.repair_state == "done"
                        else line.qty_received,
                        "product_uom": line.product_uom_id.id,
                        "partner_id": rma.partner_id.id,
                        "flow_repair_line_id": line.id,
                    }
                    for line in lines
                ],
            )
            for move in picking.move_ids:
                commands = move.flow_repair_line_id._flow_lot_commands(move)
                if commands:
                    move.move_line_ids = commands
            pickings |= picking
            rma.message_post(
                body=self.env._(
                    "Delivery %(name)s sends the goods back to the customer.",
                    name=picking.name,
                )
            )
        return pickings

    def _flow_repair_lot(self):
        self.ensure_one()
        return self.repair_id.lot_id or self._flow_received_moves().move_line_ids.lot_id

    def _flow_lot_commands(self, move):
        """Move line commands reserving the line's own lot on ``move``: the
        customer gets back the unit they sent."""
        lot = self._flow_repair_lot()
        if len(lot) != 1 or move.move_line_ids.lot_id == lot:
            return None
        return [
            Command.clear(),
            Command.create(
                {
                    "product_id": move.product_id.id,
                    "product_uom_id": move.product_uom.id,
                    "lot_id": lot.id,
                    "quantity": move.product_uom_qty,
                    "location_id": move.location_id.id,
                    "location_dest_id": move.location_dest_id.id,
                }
            ),
        ]
