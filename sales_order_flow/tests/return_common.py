from datetime import timedelta

from odoo import Command, fields
from odoo.tests import Form, new_test_user, tagged

from .commission_common import SaleFlowCommissionCommon


@tagged("post_install", "-at_install")
class SaleFlowReturnCommon(SaleFlowCommissionCommon):
    """Reasons, a returns approver, a quarantine location and factories for
    sold (delivered and invoiced) orders and receipts. The customer has the
    10% commission agent of the commission fixtures."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the returns approver is a role of this feature only
        cls.return_approver = new_test_user(
            cls.env,
            login="flow_return_approver",
            name="Rita Returns",
            groups="sales_order_flow.group_sale_flow_return_approver",
        )
        cls.env["sale.flow.return.reason"].search([]).active = False
        Reason = cls.env["sale.flow.return.reason"]
        cls.reason_defective = Reason.create(
            {"name": "Defective", "default_operation": "refund"}
        )
        cls.reason_no_return = Reason.create(
            {
                "name": "Damaged, keep it",
                "default_operation": "refund",
                "physical_return": False,
            }
        )
        cls.reason_overstock = Reason.create(
            {
                "name": "Overstock",
                "default_operation": "refund",
                "fee_type": "percent",
                "fee_value": 10.0,
            }
        )
        cls.reason_wrong = Reason.create(
            {"name": "Wrong item", "default_operation": "exchange"}
        )
        cls.warehouse = cls.env["stock.warehouse"].search(
            [("company_id", "=", cls.company.id)], limit=1
        )
        cls.quarantine = cls.env["stock.location"].create(
            {
                "name": "Quarantine",
                "usage": "internal",
                "location_id": cls.warehouse.view_location_id.id,
            }
        )
        cls.company.write(
            {
                "flow_return_window_days": 30,
                "flow_return_auto_approve_amount": 0.0,
                "flow_return_location_id": cls.quarantine.id,
            }
        )
        cls.env.ref("sales_order_flow.product_sale_flow_restocking_fee").taxes_id = [
            Command.clear()
        ]
        cls.product.invoice_policy = "delivery"
        cls.product_dear = cls.env["product.product"].create(
            {
                "name": "Flow Widget Pro",
                "type": "consu",
                "list_price": 150.0,
                "standard_price": 90.0,
                "invoice_policy": "delivery",
                "taxes_id": [Command.clear()],
            }
        )

    @classmethod
    def _sell(cls, qty=10.0, product=None, partner=None, lines=1, invoice=True):
        """A confirmed order of ``lines`` lines, delivered and invoiced."""
        order = cls._create_order(
            partner=partner or cls.customer, product=product, qty=qty, lines=lines
        )
        order.action_confirm()
        picking = order.picking_ids
        for move in picking.move_ids:
            move.quantity = move.product_uom_qty
        picking.move_ids.picked = True
        picking.button_validate()
        if invoice:
            order._create_invoices().action_post()
        return order

    @classmethod
    def _lot_product(cls, name, lot_names, qty_per_lot=10.0, tracking="lot"):
        """A lot-tracked product with ``qty_per_lot`` in stock of each lot;
        returns the product and its lots."""
        product = cls.env["product.product"].create(
            {
                "name": name,
                "type": "consu",
                "is_storable": True,
                "tracking": tracking,
                "list_price": 100.0,
                "invoice_policy": "delivery",
                "taxes_id": [Command.clear()],
            }
        )
        lots = cls.env["stock.lot"].create(
            [{"name": lot_name, "product_id": product.id} for lot_name in lot_names]
        )
        for lot in lots:
            cls.env["stock.quant"]._update_available_quantity(
                product, cls.warehouse.lot_stock_id, qty_per_lot, lot_id=lot
            )
        return product, lots

    def _agreement(self):
        """An active agreement of 100 Flow Widgets at 100 for the customer;
        returns its line."""
        agreement = self.env["sale.flow.agreement"].create(
            {
                "partner_id": self.customer.id,
                "user_id": self.salesman.id,
                "date_start": fields.Date.today() - timedelta(days=10),
                "date_end": fields.Date.today() + timedelta(days=100),
                "line_ids": [
                    Command.create(
                        {
                            "commitment_type": "quantity",
                            "product_id": self.product.id,
                            "qty_committed": 100.0,
                            "price_unit": 100.0,
                        }
                    )
                ],
            }
        )
        agreement.action_activate()
        return agreement.line_ids

    def _consumed(self, line):
        """(delivered, invoiced, consumed, remaining) of an agreement line."""
        line.invalidate_recordset()
        return (line.delivered, line.invoiced, line.consumed, line.remaining)

    def _new_return(self, lines, user=None, **values):
        """A draft return as the salesperson; ``lines``: (order line, qty,
        reason[, extra values]) tuples."""
        first = lines[0][0]
        return (
            self.env["sale.flow.return"]
            .with_user(user or self.salesman)
            .create(
                {
                    "partner_id": first.order_id.partner_id.id,
                    "sale_order_ids": [Command.set(first.order_id.ids)],
                    "line_ids": [
                        Command.create(
                            {
                                "product_id": line[0].product_id.id,
                                "sale_line_id": line[0].id,
                                "move_id": line[0]
                                .move_ids.filtered(
                                    lambda m: m.location_dest_id.usage == "customer"
                                )[:1]
                                .id,
                                "product_uom_qty": line[1],
                                "reason_id": line[2].id,
                                **(line[3] if len(line) > 3 else {}),
                            }
                        )
                        for line in lines
                    ],
                    **values,
                }
            )
        )

    def _approved(self, lines, **values):
        rma = self._new_return(lines, **values)
        rma.action_request()
        rma.with_user(self.return_approver).action_approve()
        return rma

    def _validate(self, picking, qty=None, backorder=True):
        """Validate ``picking`` as the stock user, ``qty`` per move (all by
        default); the rest in a backorder."""
        picking = picking.with_user(self.stock_user)
        for move in picking.move_ids:
            move.quantity = move.product_uom_qty if qty is None else qty
        picking.move_ids.picked = True
        action = picking.button_validate()
        if (
            action is not True
            and action.get("res_model") == "stock.backorder.confirmation"
        ):
            wizard = Form(
                self.env["stock.backorder.confirmation"]
                .with_user(self.stock_user)
                .with_context(**action["context"])
            ).save()
            if backorder:
                wizard.process()
            else:
                wizard.process_cancel_backorder()
        return picking

    def _receipt(self, rma):
        return rma.picking_ids.filtered(
            lambda p: p.picking_type_code == "incoming" and p.state != "done"
        )

    def _refund(self, rma):
        rma.with_user(self.accountant).action_refund()
        return rma.move_ids.filtered(lambda m: m.move_type == "out_refund").sorted("id")
