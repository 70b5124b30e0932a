from collections import defaultdict

from odoo import Command, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import float_compare, float_is_zero

from .account_move_line_return import ReversalLines
from .sale_flow_return_reason import RETURN_OPERATIONS

# Return states whose lines hold returnable quantities.
ACTIVE_STATES = (
    "requested",
    "approved",
    "received_partial",
    "received",
    "processed",
    "done",
)


class SaleFlowReturnLine(models.Model):
    _name = "sale.flow.return.line"
    _description = "Return Line"
    _order = "return_id, sequence, id"
    _check_company_auto = True

    return_id = fields.Many2one(
        "sale.flow.return", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="return_id.company_id", store=True)
    currency_id = fields.Many2one(related="return_id.currency_id")
    state = fields.Selection(related="return_id.state", store=True)
    commercial_partner_id = fields.Many2one(
        related="return_id.commercial_partner_id", store=True
    )
    sequence = fields.Integer(default=10)
    product_id = fields.Many2one(
        "product.product",
        required=True,
        check_company=True,
        domain="[('type', '=', 'consu')]",
    )
    product_tracking = fields.Selection(related="product_id.tracking")
    product_uom_qty = fields.Float(
        string="Quantity", digits="Product Unit of Measure", default=1.0, required=True
    )
    product_uom_id = fields.Many2one(
        "uom.uom",
        string="Unit",
        compute="_compute_product_uom_id",
        store=True,
        readonly=False,
        precompute=True,
        required=True,
    )
    lot_id = fields.Many2one(
        "stock.lot",
        string="Lot/Serial",
        domain="[('product_id', '=', product_id)]",
        check_company=True,
    )
    sale_line_id = fields.Many2one(
        "sale.order.line",
        string="Order Line",
        domain="[('order_id.partner_id', 'child_of', commercial_partner_id), "
        "('product_id', '=', product_id), ('state', '=', 'sale')]",
        index="btree_not_null",
        check_company=True,
    )
    order_id = fields.Many2one(
        related="sale_line_id.order_id", store=True, string="Order", index=True
    )
    invoice_line_id = fields.Many2one(
        "account.move.line",
        domain="[('move_id.move_type', '=', 'out_invoice'), "
        "('parent_state', '=', 'posted'), ('product_id', '=', product_id), "
        "('move_id.commercial_partner_id', '=', commercial_partner_id)]",
        index="btree_not_null",
        check_company=True,
        help="The invoice line the goods were billed on: the refund credits it. "
        "Empty: the order line's latest invoice.",
    )
    invoice_id = fields.Many2one(
        related="invoice_line_id.move_id", store=True, string="Invoice"
    )
    move_id = fields.Many2one(
        "stock.move",
        string="Delivery Move",
        index="btree_not_null",
        help="The delivered move the goods come from, when known.",
    )
    origin_picking_id = fields.Many2one(
        related="move_id.picking_id", store=True, string="Delivery"
    )
    reason_id = fields.Many2one(
        "sale.flow.return.reason", required=True, ondelete="restrict"
    )
    operation = fields.Selection(
        RETURN_OPERATIONS,
        compute="_compute_operation",
        store=True,
        readonly=False,
        precompute=True,
        required=True,
    )
    price_unit = fields.Float(
        string="Unit Price",
        digits="Product Price",
        compute="_compute_price_unit",
        store=True,
        readonly=False,
        precompute=True,
        help="Untaxed value per unit (the order line's net price).",
    )
    price_subtotal = fields.Monetary(
        string="Value", compute="_compute_price_subtotal", store=True
    )
    exchange_product_id = fields.Many2one(
        "product.product",
        string="Replacement Product",
        check_company=True,
        help="Empty: the same product.",
    )
    exchange_price_unit = fields.Float(
        string="Replacement Price",
        digits="Product Price",
        compute="_compute_exchange_price_unit",
        store=True,
        readonly=False,
    )
    return_move_ids = fields.One2many(
        "stock.move", "flow_return_line_id", string="Return Moves", readonly=True
    )
    exchange_move_ids = fields.One2many(
        "stock.move", "flow_exchange_line_id", string="Replacement Moves", readonly=True
    )
    account_line_ids = fields.One2many(
        "account.move.line",
        "flow_return_line_id",
        string="Journal Items",
        readonly=True,
    )
    qty_received = fields.Float(
        digits="Product Unit of Measure", compute="_compute_qty_received", store=True
    )
    received_lot_ids = fields.Many2many(
        "stock.lot", string="Received Lots", compute="_compute_received_lot_ids"
    )
    qty_refunded = fields.Float(
        digits="Product Unit of Measure", compute="_compute_qty_refunded", store=True
    )
    exchange_invoiced = fields.Boolean(compute="_compute_qty_refunded", store=True)
    needs_receipt = fields.Boolean(compute="_compute_needs_receipt")
    receipt_complete = fields.Boolean(compute="_compute_progress")
    qty_to_refund = fields.Float(
        digits="Product Unit of Measure", compute="_compute_progress"
    )
    exchange_difference_due = fields.Boolean(compute="_compute_progress")
    processed = fields.Boolean(compute="_compute_progress")

    @api.depends("return_id.name", "product_id")
    def _compute_display_name(self):
        # "RMA/2026/0001 - [E-COM09] Large Desk" where a line is linked
        # (repair orders, journal items), not "sale.flow.return.line,1"
        for line in self:
            line.display_name = " - ".join(
                name
                for name in (line.return_id.name, line.product_id.display_name)
                if name
            )

    @api.depends("product_id", "sale_line_id", "invoice_line_id")
    def _compute_product_uom_id(self):
        for line in self:
            line.product_uom_id = (
                line.sale_line_id.product_uom
                or line.invoice_line_id.product_uom_id
                or line.product_id.uom_id
            )

    @api.depends("reason_id")
    def _compute_operation(self):
        for line in self:
            line.operation = line.reason_id.default_operation or "refund"

    @api.depends("sale_line_id", "invoice_line_id", "product_id", "product_uom_id")
    def _compute_price_unit(self):
        for line in self:
            sale_line = line.sale_line_id
            item = line.invoice_line_id
            if item and not sale_line:
                price = (
                    item.price_subtotal / item.quantity
                    if item.quantity
                    else item.price_unit
                )
                line.price_unit = item.product_uom_id._compute_price(
                    price, line.product_uom_id or item.product_uom_id
                )
            elif sale_line:
                price = (
                    sale_line.price_subtotal / sale_line.product_uom_qty
                    if (sale_line.product_uom_qty)
                    else sale_line.price_unit
                )
                line.price_unit = sale_line.product_uom._compute_price(
                    price, line.product_uom_id or sale_line.product_uom
                )
            else:
                line.price_unit = line.product_id.lst_price

    @api.depends("price_unit", "product_uom_qty")
    def _compute_price_subtotal(self):
        for line in self:
            # a line being entered may not know its return's company yet
            currency = line.currency_id or self.env.company.currency_id
            line.price_subtotal = currency.round(line.price_unit * line.product_uom_qty)

    @api.depends("exchange_product_id", "price_unit")
    def _compute_exchange_price_unit(self):
        for line in self:
            product = line.exchange_product_id
            if not product or product == line.product_id:
                line.exchange_price_unit = line.price_unit
                continue
            pricelist = line.sale_line_id.order_id.pricelist_id
            line.exchange_price_unit = (
                pricelist._get_product_price(product, line.product_uom_qty or 1.0)
                if pricelist
                else product.lst_price
            )

    @api.depends(
        "return_move_ids.state",
        "return_move_ids.quantity",
        "return_move_ids.location_dest_id",
    )
    def _compute_qty_received(self):
        for line in self:
            moves = line.return_move_ids.filtered(
                lambda m: m.state == "done" and m.location_dest_id.usage != "customer"
            )
            line.qty_received = sum(
                move.product_uom._compute_quantity(move.quantity, line.product_uom_id)
                for move in moves
            )

    @api.depends("return_move_ids.state", "return_move_ids.move_line_ids.lot_id")
    def _compute_received_lot_ids(self):
        for line in self:
            line.received_lot_ids = line.return_move_ids.filtered(
                lambda m: m.state == "done" and m.location_dest_id.usage != "customer"
            ).move_line_ids.lot_id

    @api.depends(
        "account_line_ids.parent_state",
        "account_line_ids.quantity",
        "account_line_ids.flow_return_kind",
    )
    def _compute_qty_refunded(self):
        for line in self:
            items = line.account_line_ids.filtered(
                lambda aml: aml.parent_state != "cancel"
            )
            line.qty_refunded = sum(
                aml.product_uom_id._compute_quantity(aml.quantity, line.product_uom_id)
                for aml in items
                if aml.flow_return_kind == "refund"
            )
            line.exchange_invoiced = any(
                aml.flow_return_kind == "difference" for aml in items
            )

    @api.depends("operation", "reason_id.physical_return")
    def _compute_needs_receipt(self):
        for line in self:
            line.needs_receipt = line.operation != "no_return" and (
                line.reason_id.physical_return or not line.reason_id
            )

    @api.depends(
        "state",
        "operation",
        "product_uom_qty",
        "qty_received",
        "qty_refunded",
        "exchange_invoiced",
        "exchange_move_ids",
        "exchange_product_id",
        "exchange_price_unit",
        "price_unit",
        "needs_receipt",
    )
    def _compute_progress(self):
        for line in self:
            rounding = line.product_uom_id.rounding or 0.01
            complete = not line.needs_receipt or (
                float_compare(
                    line.qty_received, line.product_uom_qty, precision_rounding=rounding
                )
                >= 0
            )
            line.receipt_complete = complete
            to_refund = 0.0
            if line.state in ("approved", "received_partial", "received") and (
                line.operation in ("refund", "no_return")
            ):
                base = line.qty_received if line.needs_receipt else line.product_uom_qty
                to_refund = max(base - line.qty_refunded, 0.0)
                if float_is_zero(to_refund, precision_rounding=rounding):
                    to_refund = 0.0
            line.qty_to_refund = to_refund
            difference = (
                line.operation == "exchange"
                and line.exchange_product_id
                and line.exchange_product_id != line.product_id
                and not (line.currency_id or self.env.company.currency_id).is_zero(
                    line.exchange_price_unit - line.price_unit
                )
            )
            line.exchange_difference_due = bool(
                difference
                and not line.exchange_invoiced
                and line.exchange_move_ids
                and line.state in ("approved", "received_partial", "received")
            )
            if line.operation in ("refund", "no_return"):
                line.processed = (
                    float_compare(
                        line.qty_refunded,
                        line.product_uom_qty,
                        precision_rounding=rounding,
                    )
                    >= 0
                )
            elif line.operation == "exchange":
                line.processed = bool(
                    complete
                    and line.exchange_move_ids
                    and (not difference or line.exchange_invoiced)
                )
            else:
                line.processed = complete

    @api.constrains("product_uom_qty")
    def _check_product_uom_qty(self):
        for line in self:
            if (
                float_compare(
                    line.product_uom_qty,
                    0.0,
                    precision_rounding=line.product_uom_id.rounding or 0.01,
                )
                <= 0
            ):
                raise ValidationError(
                    self.env._(
                        "%(product)s: the quantity to return must be positive "
                        "(%(qty)s).",
                        product=line.product_id.display_name,
                        qty=line.product_uom_qty,
                    )
                )

    # ------------------------------------------------------------------
    # Policy
    # ------------------------------------------------------------------
    def _flow_policy(self):
        """``{window_days, auto_approve_amount}`` of the line: the customer's
        own policy, else the nearest product category with one, else the
        company's."""
        self.ensure_one()
        partner = self.return_id.commercial_partner_id
        if partner.flow_return_policy:
            source = partner
        else:
            source = self.company_id
            category = self.product_id.categ_id
            while category:
                if category.flow_return_policy:
                    source = category
                    break
                category = category.parent_id
        return {
            "window_days": source.flow_return_window_days,
            "auto_approve_amount": source.flow_return_auto_approve_amount,
        }

    def _flow_delivery_dates(self):
        """``{line id: date}``: when the line's goods were delivered (the
        origin move, else the order line's last delivery; for goods of an
        invoice without delivery, the invoice date)."""
        result = {}
        for line in self:
            moves = line.move_id or line.sale_line_id.move_ids.filtered(
                lambda m: m.state == "done" and m.location_dest_id.usage == "customer"
            )
            dates = [date for date in moves.mapped("date") if date]
            if dates:
                result[line.id] = max(dates).date()
            elif line.invoice_line_id:
                # sudo: see _flow_check_invoice_line
                invoice = line.sudo().invoice_line_id.move_id
                if invoice.invoice_date:
                    result[line.id] = invoice.invoice_date
        return result

    def _flow_pending_quantities(self, sale_lines):
        """``{order line id: quantity}`` returned or requested through active
        returns and not yet out of the order line's delivered quantity (the
        receipt of a refund lowers the delivered quantity itself)."""
        # sudo: every return of the order line counts, whoever's it is (the
        # records are only summed here, nothing of them is shown)
        others = self.sudo().search(
            [
                ("sale_line_id", "in", sale_lines.ids),
                ("state", "in", ACTIVE_STATES),
                ("id", "not in", self.ids),
            ]
        )
        pending = defaultdict(float)
        for line in (others | self).filtered("sale_line_id"):
            qty = line.product_uom_qty
            if line._flow_receipt_ends_pending() and line.needs_receipt:
                qty -= line.qty_received
            pending[line.sale_line_id.id] += line.product_uom_id._compute_quantity(
                qty, line.sale_line_id.product_uom
            )
        return pending

    def _flow_receipt_ends_pending(self):
        """Whether the received quantity stops counting as returned: refunded
        (out of the delivered quantity) or replaced (the customer has goods
        again)."""
        self.ensure_one()
        return self.operation in ("refund", "exchange")

    def _flow_check_returnable(self):
        """Per line: a positive quantity of a product of the origin, a lot
        delivered to this customer, within the return window, and no more than
        delivered minus what is already returned or requested."""
        today = fields.Date.context_today(self)
        for line in self:
            rma = line.return_id
            line._flow_check_invoice_line()
            if not line.sale_line_id and rma.sale_order_ids:
                candidates = rma.sale_order_ids.order_line.filtered(
                    lambda sol, line=line: sol.product_id == line.product_id
                )
                if not candidates:
                    raise UserError(
                        self.env._(
                            "%(product)s is on none of the origin orders %(orders)s "
                            "of return %(name)s.",
                            product=line.product_id.display_name,
                            orders=", ".join(rma.sale_order_ids.mapped("name")),
                            name=rma.name,
                        )
                    )
                line.sale_line_id = candidates[0]
            sale_line = line.sale_line_id
            if sale_line and (
                sale_line.product_id != line.product_id
                or sale_line.order_id.partner_id.commercial_partner_id
                != rma.commercial_partner_id
            ):
                raise UserError(
                    self.env._(
                        "%(product)s: the order line %(order)s is of another product "
                        "or customer.",
                        product=line.product_id.display_name,
                        order=sale_line.order_id.name,
                    )
                )
            if sale_line and sale_line.order_id not in rma.sale_order_ids:
                rma.sale_order_ids = [Command.link(sale_line.order_id.id)]
            if line.product_id.tracking != "none" and not line.lot_id:
                raise UserError(
                    self.env._(
                        "%(product)s is tracked: name the lot or serial number "
                        "returned.",
                        product=line.product_id.display_name,
                    )
                )
        self._flow_check_lots()
        self._flow_check_invoiced_quantities()
        dates = self._flow_delivery_dates()
        for line in self:
            if line.id not in dates:
                continue
            window = line._flow_policy()["window_days"]
            age = (today - dates[line.id]).days
            if age > window:
                raise UserError(
                    self.env._(
                        "%(product)s was delivered on %(date)s, %(age)s days ago: "
                        "the return window is %(window)s days.",
                        product=line.product_id.display_name,
                        date=dates[line.id],
                        age=age,
                        window=window,
                    )
                )
        sale_lines = self.sale_line_id
        pending = self._flow_pending_quantities(sale_lines)
        for sale_line in sale_lines:
            delivered = sale_line.qty_delivered
            requested = pending[sale_line.id]
            mine = sum(
                line.product_uom_id._compute_quantity(
                    line.product_uom_qty, sale_line.product_uom
                )
                for line in self
                if line.sale_line_id == sale_line
            )
            if (
                float_compare(
                    requested,
                    delivered,
                    precision_rounding=sale_line.product_uom.rounding,
                )
                > 0
            ):
                raise UserError(
                    self.env._(
                        "%(product)s (order %(order)s): %(requested)s %(uom)s "
                        "requested, but %(delivered)s delivered and %(other)s "
                        "already returned or requested: at most %(max)s can be "
                        "returned.",
                        product=sale_line.product_id.display_name,
                        order=sale_line.order_id.name,
                        requested=mine,
                        uom=sale_line.product_uom.name,
                        delivered=delivered,
                        other=requested - mine,
                        max=max(delivered - (requested - mine), 0.0),
                    )
                )

    def _flow_check_invoice_line(self):
        """The invoice line of the line: found on the return's origin invoices
        when not named, a posted invoice line of this customer and product,
        of the line's order line; it names the order line when the line has
        none."""
        self.ensure_one()
        # sudo: the invoice is checked whoever its salesperson is (a
        # salesperson seeing only their own documents returns goods of a
        # colleague's invoice); nothing of it is shown but its number
        line = self.sudo()
        rma = line.return_id
        if not line.invoice_line_id and rma.invoice_ids:
            self.invoice_line_id = rma.invoice_ids.invoice_line_ids.filtered(
                lambda aml: (
                    aml.product_id == line.product_id
                    and (
                        not line.sale_line_id or line.sale_line_id in aml.sale_line_ids
                    )
                )
            )[:1]
        item = line.invoice_line_id
        if not item:
            return
        if (
            item.product_id != line.product_id
            or item.move_id.move_type != "out_invoice"
            or item.parent_state != "posted"
            or item.move_id.commercial_partner_id != rma.commercial_partner_id
        ):
            raise UserError(
                self.env._(
                    "%(product)s: %(invoice)s is not a posted invoice of this "
                    "product to %(customer)s.",
                    product=line.product_id.display_name,
                    invoice=item.move_id.display_name,
                    customer=rma.commercial_partner_id.display_name,
                )
            )
        if line.sale_line_id and line.sale_line_id not in item.sale_line_ids:
            raise UserError(
                self.env._(
                    "%(product)s: invoice %(invoice)s did not bill order %(order)s.",
                    product=line.product_id.display_name,
                    invoice=item.move_id.name,
                    order=line.sale_line_id.order_id.name,
                )
            )
        if not line.sale_line_id and item.sale_line_ids:
            self.sale_line_id = item.sale_line_ids[:1]
        if item.move_id not in rma.invoice_ids:
            self.return_id.invoice_ids = [Command.link(item.move_id.id)]

    def _flow_check_invoiced_quantities(self):
        """Goods of no order line but of an invoice line: no more than
        invoiced minus what other active returns already take of it."""
        # sudo: the invoice line is read whoever its salesperson is, and every
        # return of it counts, whoever's it is (only summed here)
        lines = self.sudo().filtered(
            lambda line: line.invoice_line_id and not line.sale_line_id
        )
        if not lines:
            return
        others = self.sudo().search(
            [
                ("invoice_line_id", "in", lines.invoice_line_id.ids),
                ("sale_line_id", "=", False),
                ("state", "in", ACTIVE_STATES),
                ("id", "not in", self.ids),
            ]
        )
        for item in lines.invoice_line_id:
            unit = item.product_uom_id
            taken = sum(
                line.product_uom_id._compute_quantity(line.product_uom_qty, unit)
                for line in others
                if line.invoice_line_id == item
            )
            mine = sum(
                line.product_uom_id._compute_quantity(line.product_uom_qty, unit)
                for line in lines
                if line.invoice_line_id == item
            )
            if (
                float_compare(
                    taken + mine, item.quantity, precision_rounding=unit.rounding
                )
                > 0
            ):
                raise UserError(
                    self.env._(
                        "%(product)s (invoice %(invoice)s): %(requested)s %(uom)s "
                        "requested, but %(invoiced)s invoiced and %(other)s "
                        "already returned or requested: at most %(max)s can be "
                        "returned.",
                        product=item.product_id.display_name,
                        invoice=item.move_id.name,
                        requested=mine,
                        uom=unit.name,
                        invoiced=item.quantity,
                        other=taken,
                        max=max(item.quantity - taken, 0.0),
                    )
                )

    def _flow_check_lots(self):
        lines = self.filtered("lot_id")
        if not lines:
            return
        # sudo: where a lot went is checked whoever asks (nothing is shown)
        delivered = (
            self.env["stock.move.line"]
            .sudo()
            .search(
                [
                    ("lot_id", "in", lines.lot_id.ids),
                    ("state", "=", "done"),
                    ("location_dest_id.usage", "=", "customer"),
                ]
            )
        )
        customers = defaultdict(set)
        for move_line in delivered:
            partner = move_line.picking_id.partner_id or move_line.move_id.partner_id
            customers[move_line.lot_id.id].add(partner.commercial_partner_id.id)
        for line in lines:
            if line.commercial_partner_id.id not in customers[line.lot_id.id]:
                raise UserError(
                    self.env._(
                        "Lot %(lot)s of %(product)s was not delivered to %(customer)s.",
                        lot=line.lot_id.name,
                        product=line.product_id.display_name,
                        customer=line.commercial_partner_id.display_name,
                    )
                )

    # ------------------------------------------------------------------
    # Logistics
    # ------------------------------------------------------------------
    def _flow_create_receipts(self):
        """Receipts of the lines, through Odoo's return of each origin
        delivery (so the order's delivered quantities follow); a plain receipt
        for goods without a known delivery. Returns the receipts."""
        pickings = self.env["stock.picking"]
        by_picking = defaultdict(lambda: self.browse())
        for line in self:
            by_picking[line.move_id.picking_id] |= line
        for picking, lines in by_picking.items():
            rma = lines.return_id
            if picking:
                # sudo: the approval (checked by the caller) creates the
                # receipt for logistics, as the stock user would
                wizard = (
                    self.env["stock.return.picking"]
                    .sudo()
                    .with_company(picking.company_id)
                    .create({"picking_id": picking.id, "flow_return_id": rma.id})
                )
                wizard.product_return_moves = [Command.clear()] + [
                    Command.create(
                        {
                            "product_id": line.product_id.id,
                            "move_id": line.move_id.id,
                            "quantity": line.product_uom_id._compute_quantity(
                                line.product_uom_qty, line.product_id.uom_id
                            ),
                            "to_refund": line.operation == "refund",
                            "flow_return_line_id": line.id,
                        }
                    )
                    for line in lines
                ]
                receipt = wizard._create_return()
            else:
                receipt = lines._flow_create_plain_receipt()
            receipt.flow_return_id = rma
            for move in receipt.move_ids:
                lot = move.flow_return_line_id.lot_id
                if lot and len(move.move_line_ids) == 1:
                    move.move_line_ids.lot_id = lot
            pickings |= receipt
        return pickings

    def _flow_create_plain_receipt(self):
        rma = self.return_id
        warehouse = self.env["stock.warehouse"].search(
            [("company_id", "=", rma.company_id.id)], limit=1
        )
        picking_type = warehouse.in_type_id
        source = rma.partner_id.property_stock_customer
        dest = rma.return_location_id or picking_type.default_location_dest_id
        return rma._flow_create_picking(
            picking_type,
            source,
            dest,
            [
                {
                    "product_id": line.product_id.id,
                    "product_uom_qty": line.product_uom_qty,
                    "product_uom": line.product_uom_id.id,
                    "flow_return_line_id": line.id,
                }
                for line in self
            ],
        )

    def _flow_delivery_type(self, origin):
        """Operation type of a delivery to the customer: the origin
        delivery's, else the company's first warehouse's."""
        rma = self.return_id
        return (
            origin.picking_type_id
            or self.env["stock.warehouse"]
            .search([("company_id", "=", rma.company_id.id)], limit=1)
            .out_type_id
        )

    def _flow_create_replacements(self):
        """Replacement deliveries of exchange lines: the same or the chosen
        product, on no order line and in no order's procurement group (Odoo
        would add a delivered extra product to the order), so the order's
        delivered and invoiced quantities and the agreements do not count it a
        second time."""
        pickings = self.env["stock.picking"]
        groups = defaultdict(lambda: self.browse())
        for line in self.filtered(lambda line: not line.exchange_move_ids):
            groups[(line.return_id, line.move_id.picking_id)] |= line
        for (rma, origin), lines in groups.items():
            picking_type = lines._flow_delivery_type(origin)
            picking = rma._flow_create_picking(
                picking_type,
                picking_type.default_location_src_id,
                rma.partner_id.property_stock_customer,
                [
                    {
                        "product_id": (line.exchange_product_id or line.product_id).id,
                        "product_uom_qty": line.product_uom_qty,
                        "product_uom": line.product_uom_id.id
                        if not line.exchange_product_id
                        else line.exchange_product_id.uom_id.id,
                        "partner_id": rma.partner_id.id,
                        "flow_exchange_line_id": line.id,
                    }
                    for line in lines
                ],
            )
            pickings |= picking
            rma.message_post(
                body=self.env._("Replacement %(name)s created.", name=picking.name)
            )
        return pickings

    # ------------------------------------------------------------------
    # Finance
    # ------------------------------------------------------------------
    def _flow_origin_invoice_lines(self):
        """``{return line: invoice line}``: the invoice line the line names,
        else the latest posted customer invoice line of its order line."""
        result = {}
        for line in self.filtered("invoice_line_id"):
            if line.invoice_line_id.parent_state != "posted":
                raise UserError(
                    self.env._(
                        "%(product)s: invoice %(invoice)s is no longer posted: "
                        "there is nothing to credit.",
                        product=line.product_id.display_name,
                        invoice=line.invoice_line_id.move_id.name,
                    )
                )
            result[line] = line.invoice_line_id
        for line in self.filtered(
            lambda line: line.sale_line_id and line not in result
        ):
            items = line.sale_line_id.invoice_lines.filtered(
                lambda aml: (
                    aml.parent_state == "posted"
                    and aml.move_id.move_type == "out_invoice"
                )
            )
            if not items:
                raise UserError(
                    self.env._(
                        "%(product)s (order %(order)s) is not invoiced: there is "
                        "nothing to credit.",
                        product=line.product_id.display_name,
                        order=line.order_id.name,
                    )
                )
            result[line] = items.sorted("id")[-1]
        return result

    def _flow_check_lock_date(self, journals, date):
        company = self.return_id.company_id
        for journal in journals:
            lock = company._get_user_fiscal_lock_date(journal)
            if date <= lock:
                raise UserError(
                    self.env._(
                        "The credit note of %(name)s would be dated %(date)s, in a "
                        "closed period (locked until %(lock)s) of %(journal)s.",
                        name=self.return_id.name,
                        date=date,
                        lock=lock,
                        journal=journal.display_name,
                    )
                )

    def _flow_refund_values(self, line, qty, origin=None):
        """Values of a credit note line refunding ``qty`` of ``line``."""
        values = {
            "product_id": line.product_id.id,
            "quantity": qty,
            "product_uom_id": line.product_uom_id.id,
            "price_unit": line.price_unit,
            "flow_return_line_id": line.id,
            "flow_return_kind": "refund",
        }
        if origin:
            values.update(
                {
                    "name": origin.name,
                    "quantity": line.product_uom_id._compute_quantity(
                        qty, origin.product_uom_id
                    ),
                    "product_uom_id": origin.product_uom_id.id,
                    "price_unit": origin.price_unit,
                    "discount": origin.discount,
                    "tax_ids": [Command.set(origin.tax_ids.ids)],
                    "account_id": origin.account_id.id,
                    "sale_line_ids": [Command.set(origin.sale_line_ids.ids)],
                    "analytic_distribution": origin.analytic_distribution,
                }
            )
        return values

    def _flow_fee_values(self, amounts):
        """Restocking fee line values for ``{line: refunded amount}``."""
        fee = sum(line.reason_id._flow_fee(amount) for line, amount in amounts.items())
        rma = self.return_id
        if rma.currency_id.is_zero(fee):
            return None
        product = rma.company_id._flow_return_fee_product()
        return {
            "product_id": product.id,
            "name": self.env._("Restocking fee (%(name)s)", name=rma.name),
            "quantity": 1.0,
            "price_unit": -fee,
            "tax_ids": [
                Command.set(
                    product.taxes_id.filtered(
                        lambda t: t.company_id == rma.company_id
                    ).ids
                )
            ],
            "flow_return_kind": "fee",
        }

    def _flow_create_credit_notes(self):
        """Credit notes of the lines' quantities to refund (lines of one
        return): one per origin invoice, made by Odoo's reversal of that
        invoice and cut down to the returned lines and quantities; one plain
        credit note for goods of no invoiced order. Not posted."""
        if not self:
            return self.env["account.move"]
        rma = self.return_id
        rma.ensure_one()
        today = fields.Date.context_today(self)
        origins = self._flow_origin_invoice_lines()
        journals = {aml.move_id.journal_id for aml in origins.values()}
        if len(origins) < len(self):
            journals.add(
                self.env["account.journal"].search(
                    [
                        *self.env["account.journal"]._check_company_domain(
                            rma.company_id
                        ),
                        ("type", "=", "sale"),
                    ],
                    limit=1,
                )
            )
        self._flow_check_lock_date(journals, today)
        fees = any(line.reason_id.fee_type != "none" for line in self)
        if fees and not rma.company_id._flow_return_fee_product():
            raise UserError(
                self.env._(
                    "Set the restocking fee product in the settings before "
                    "refunding %(name)s.",
                    name=rma.name,
                )
            )
        credit_notes = self.env["account.move"]
        by_invoice = defaultdict(lambda: self.browse())
        for line in self:
            by_invoice[origins[line].move_id if line in origins else None] |= line
        for invoice, lines in by_invoice.items():
            amounts = {}
            if invoice:
                reversal = (
                    self.env["account.move.reversal"]
                    .with_context(active_model="account.move", active_ids=invoice.ids)
                    .create(
                        {
                            "date": today,
                            "journal_id": invoice.journal_id.id,
                            "reason": rma.name,
                        }
                    )
                )
                keep = ReversalLines(origins[line].id for line in lines)
                reversal.with_context(sale_flow_reversal_lines=keep).refund_moves()
                credit_note = reversal.new_move_ids
                commands, links = lines._flow_cut_reversal(
                    credit_note, origins, amounts
                )
            else:
                credit_note = self.env["account.move"].create(
                    {
                        "move_type": "out_refund",
                        "partner_id": rma.partner_id.id,
                        "invoice_date": today,
                        "invoice_user_id": rma.user_id.id,
                        "ref": rma.name,
                    }
                )
                commands, links = [], {}
                for line in lines:
                    commands.append(
                        Command.create(
                            self._flow_refund_values(line, line.qty_to_refund)
                        )
                    )
                    amounts[line] = line.price_unit * line.qty_to_refund
            fee = lines._flow_fee_values(amounts)
            if fee:
                commands.append(Command.create(fee))
            credit_note.write({"flow_return_id": rma.id, "invoice_line_ids": commands})
            credit_note.line_ids._flow_link_return_lines(links)
            credit_notes |= credit_note
        return credit_notes

    def _flow_cut_reversal(self, credit_note, origins, amounts):
        """Commands turning the reversal of the returned invoice lines (the
        only ones it copies, see ``ReversalLines``) into the lines' refund:
        the returned quantities, lines the reversal should not have kept
        removed, and ``{credit note line id: (return line id, kind)}`` of the kept
        ones (linked in one query). Fills ``amounts`` ({line: refunded
        amount})."""
        wanted = defaultdict(lambda: self.browse())
        for line in self:
            wanted[origins[line]] |= line
        # the reversal copied the returned invoice lines: match them on what
        # it copies
        pool = defaultdict(list)
        for origin in wanted:
            pool[origin._flow_reversal_key()].append(origin)
        commands, links = [], {}
        for copied in credit_note.invoice_line_ids.filtered(
            lambda aml: aml.display_type == "product"
        ):
            key = copied._flow_reversal_key()
            origin = pool[key].pop(0) if pool.get(key) else None
            lines = wanted.get(origin)
            if not lines:
                commands.append(Command.unlink(copied.id))
                continue
            for index, line in enumerate(lines):
                values = self._flow_refund_values(line, line.qty_to_refund, origin)
                amounts[line] = (
                    values["quantity"] * origin.price_unit * (1 - origin.discount / 100)
                )
                if index == 0:
                    links[copied.id] = (line.id, values["flow_return_kind"])
                    # the reversal copied the rest: only the quantity changes
                    if values["quantity"] != copied.quantity:
                        commands.append(
                            Command.update(copied.id, {"quantity": values["quantity"]})
                        )
                else:
                    commands.append(Command.create(values))
        return commands, links

    def _flow_create_difference_moves(self):
        """Exchanges for another product: the price difference invoiced (a
        dearer replacement) or credited (a cheaper one). Not posted."""
        moves = self.env["account.move"]
        if not self:
            return moves
        rma = self.return_id
        today = fields.Date.context_today(self)
        self._flow_check_lock_date(
            self.env["account.journal"].search(
                [
                    *self.env["account.journal"]._check_company_domain(rma.company_id),
                    ("type", "=", "sale"),
                ],
                limit=1,
            ),
            today,
        )
        by_type = defaultdict(list)
        for line in self:
            difference = line.exchange_price_unit - line.price_unit
            move_type = "out_invoice" if difference > 0 else "out_refund"
            by_type[move_type].append(
                Command.create(
                    {
                        "product_id": line.exchange_product_id.id,
                        "name": self.env._(
                            "Price difference: %(old)s exchanged for %(new)s "
                            "(%(name)s)",
                            old=line.product_id.display_name,
                            new=line.exchange_product_id.display_name,
                            name=rma.name,
                        ),
                        "quantity": line.product_uom_qty,
                        "price_unit": abs(difference),
                        "flow_return_line_id": line.id,
                        "flow_return_kind": "difference",
                    }
                )
            )
        for move_type, commands in by_type.items():
            moves |= self.env["account.move"].create(
                {
                    "move_type": move_type,
                    "partner_id": rma.partner_id.id,
                    "invoice_date": today,
                    "invoice_user_id": rma.user_id.id,
                    "ref": rma.name,
                    "flow_return_id": rma.id,
                    "invoice_line_ids": commands,
                }
            )
        return moves
