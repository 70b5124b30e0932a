from odoo import Command
from odoo.exceptions import UserError, ValidationError
from odoo.tests import new_test_user, tagged

from odoo.addons.sales_order_flow.models.sale_flow_return_reason import (
    RETURN_OPERATIONS,
)
from odoo.addons.sales_order_flow.tests.return_common import SaleFlowReturnCommon

REPAIR_ACTIVITY = "sales_order_flow_repair.mail_activity_type_sale_flow_return_repair"
CANCELLED_ACTIVITY = (
    "sales_order_flow_repair.mail_activity_type_sale_flow_return_repair_cancelled"
)


@tagged("post_install", "-at_install")
class TestReturnRepair(SaleFlowReturnCommon):
    """Return lines repaired: the salesperson requests, the returns approver
    approves, the stock user receives, repairs and sends the goods back;
    nothing is refunded and the order's figures stay."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Reason = cls.env["sale.flow.return.reason"]
        cls.reason_repair = Reason.create(
            {"name": "Defective, repair", "default_operation": "repair"}
        )
        cls.reason_repair_paid = Reason.create(
            {
                "name": "Broken by the customer",
                "default_operation": "repair",
                "repair_under_warranty": False,
            }
        )
        cls.customer_location = cls.customer.property_stock_customer
        # charges repairs out of warranty through a quotation: also sells
        cls.repair_seller = new_test_user(
            cls.env,
            login="flow_repair_seller",
            name="Rex Repairs",
            groups="stock.group_stock_user,sales_team.group_sale_salesman",
        )

    def _repair_of(self, rma):
        """The repair orders of ``rma``, read as superuser (the salesperson
        who made the return has no repair rights)."""
        return rma.with_env(self.env).line_ids.repair_id

    def _send_back(self, rma):
        return rma.picking_ids.filtered(lambda p: p.picking_type_code == "outgoing")

    def _repair(self, repair):
        """The stock user starts and ends the repair."""
        repair = repair.with_user(self.stock_user)
        repair.action_repair_start()
        repair.action_repair_end()
        return repair

    def test_operation_exists_only_in_the_bridge(self):
        self.assertNotIn("repair", dict(RETURN_OPERATIONS))
        for model in ("sale.flow.return.line", "sale.flow.return.reason"):
            field = "operation" if model.endswith("line") else "default_operation"
            values = self.env[model]._fields[field].get_values(self.env)
            self.assertEqual(
                values,
                ["refund", "exchange", "return_no_refund", "no_return", "repair"],
            )
            selection = self.env["ir.model.fields.selection"].search(
                [
                    ("field_id.model", "=", model),
                    ("field_id.name", "=", field),
                    ("value", "=", "repair"),
                ]
            )
            # owned by the bridge: uninstalling it removes the value
            xmlid = selection.get_external_id()[selection.id]
            self.assertEqual(xmlid.split(".")[0], "sales_order_flow_repair")

    def test_repair_under_warranty_sent_back(self):
        agreement_line = self._agreement()
        order = self._sell(qty=10.0)
        sale_line = order.order_line
        self.assertEqual(self._consumed(agreement_line), (10.0, 10.0, 10.0, 90.0))
        rma = self._approved([(sale_line, 2.0, self.reason_repair)])
        line = rma.line_ids
        self.assertEqual(line.operation, "repair")
        receipt = self._receipt(rma)
        self.assertRecordValues(
            receipt.move_ids,
            [
                {
                    "product_uom_qty": 2.0,
                    "location_dest_id": self.quarantine.id,
                    "to_refund": False,
                }
            ],
        )
        self.assertFalse(line.repair_id)
        self._validate(receipt)
        repair = self._repair_of(rma)
        self.assertRecordValues(
            repair,
            [
                {
                    "state": "confirmed",
                    "product_id": self.product.id,
                    "product_qty": 2.0,
                    "product_uom": self.product.uom_id.id,
                    "partner_id": self.customer.id,
                    "picking_id": receipt.id,
                    "product_location_src_id": self.quarantine.id,
                    "product_location_dest_id": self.quarantine.id,
                    "under_warranty": True,
                    "flow_return_id": rma.id,
                    "flow_return_line_id": line.id,
                    "flow_return_reason_id": self.reason_repair.id,
                    "create_uid": self.stock_user.id,
                }
            ],
        )
        self.assertEqual(rma.with_env(self.env).repair_ids, repair)
        self.assertEqual(rma.repair_count, 1)
        self.assertEqual(
            repair.activity_ids.activity_type_id, self.env.ref(REPAIR_ACTIVITY)
        )
        self.assertIn(
            f"<p>Repair order {repair.name} created for Flow Widget, under "
            "warranty.</p>",
            [str(body) for body in rma.message_ids.mapped("body")],
        )
        self.assertEqual(rma.state, "received")
        self.assertFalse(line.processed)
        self.assertEqual(line.qty_to_refund, 0.0)
        self.assertEqual(
            self.env["sale.flow.return"].search(
                [("id", "=", rma.id), ("line_ids.repair_id", "!=", False)]
            ),
            rma,
        )
        # the goods came back, but are not taken back: still 10 delivered
        self.assertEqual((sale_line.qty_delivered, sale_line.qty_invoiced), (10, 10))
        self.assertEqual(self._consumed(agreement_line), (10.0, 10.0, 10.0, 90.0))

        self._repair(repair)
        self.assertEqual(repair.state, "done")
        self.assertFalse(repair.activity_ids)
        send_back = self._send_back(rma)
        self.assertRecordValues(
            send_back,
            [
                {
                    "location_id": self.quarantine.id,
                    "location_dest_id": self.customer_location.id,
                    "partner_id": self.customer.id,
                    "sale_id": False,
                    "flow_return_id": rma.id,
                }
            ],
        )
        self.assertRecordValues(
            send_back.move_ids,
            [
                {
                    "product_id": self.product.id,
                    "product_uom_qty": 2.0,
                    "sale_line_id": False,
                    "flow_repair_line_id": line.id,
                }
            ],
        )
        self.assertEqual(line.repair_move_ids, send_back.move_ids)
        # sent back, not a replacement
        self.assertEqual((rma.repair_delivery_count, rma.exchange_count), (1, 0))
        self.assertTrue(line.processed)
        self.assertEqual(rma.state, "processed")
        self._validate(send_back)
        self.assertEqual(send_back.state, "done")
        # sent back on no order line: the order and the agreement count 10
        self.assertEqual((sale_line.qty_delivered, sale_line.qty_invoiced), (10, 10))
        self.assertEqual(self._consumed(agreement_line), (10.0, 10.0, 10.0, 90.0))
        self.assertFalse(rma.move_ids)  # no credit note
        with self.assertRaisesRegex(UserError, "Processed: it cannot be refunded"):
            self._refund(rma)
        # the repaired goods are the customer's again: returnable again
        again = self._new_return([(sale_line, 10.0, self.reason_defective)])
        again.action_request()
        self.assertEqual(again.state, "requested")

    def test_repair_not_under_warranty_charged_by_odoo(self):
        order = self._sell(qty=5.0)
        rma = self._approved([(order.order_line, 1.0, self.reason_repair_paid)])
        self._validate(self._receipt(rma))
        repair = self._repair_of(rma)
        self.assertFalse(repair.under_warranty)
        self.assertIn(
            f"<p>Repair order {repair.name} created for Flow Widget, not under "
            "warranty: the repair team charges it.</p>",
            [str(body) for body in rma.message_ids.mapped("body")],
        )
        # Odoo's repair quotation charges it; the return does not stand in
        # the way
        repair.with_user(self.repair_seller).action_create_sale_order()
        self.assertEqual(repair.sale_order_id.partner_id, self.customer)
        self._repair(repair)
        self.assertEqual(rma.state, "processed")
        self.assertFalse(rma.move_ids)
        self.assertEqual(order.order_line.qty_delivered, 5.0)

    def test_serial_number_repaired_and_sent_back(self):
        serial_product = self.env["product.product"].create(
            {
                "name": "Flow Serial Machine",
                "type": "consu",
                "is_storable": True,
                "tracking": "serial",
                "list_price": 500.0,
                "invoice_policy": "delivery",
                "taxes_id": [Command.clear()],
            }
        )
        serial, other = self.env["stock.lot"].create(
            [
                {"name": "SN-001", "product_id": serial_product.id},
                {"name": "SN-002", "product_id": serial_product.id},
            ]
        )
        stock = self.warehouse.lot_stock_id
        for lot in (serial, other):
            self.env["stock.quant"]._update_available_quantity(
                serial_product, stock, 1, lot_id=lot
            )
        order = self._create_order(product=serial_product, qty=1.0)
        order.action_confirm()
        picking = order.picking_ids
        picking.move_ids.move_line_ids.unlink()
        picking.move_ids.move_line_ids = [
            Command.create(
                {
                    "lot_id": serial.id,
                    "quantity": 1.0,
                    "location_id": stock.id,
                    "location_dest_id": picking.location_dest_id.id,
                    "product_id": serial_product.id,
                }
            )
        ]
        picking.move_ids.picked = True
        picking.button_validate()
        order._create_invoices().action_post()
        # one serial number per repaired line
        with self.assertRaisesRegex(ValidationError, "repair one unit"):
            self._new_return(
                [(order.order_line, 2.0, self.reason_repair, {"lot_id": serial.id})]
            )
        rma = self._approved(
            [(order.order_line, 1.0, self.reason_repair, {"lot_id": serial.id})]
        )
        receipt = self._receipt(rma)
        self.assertEqual(receipt.move_ids.move_line_ids.lot_id, serial)
        self._validate(receipt)
        repair = self._repair_of(rma)
        self.assertRecordValues(
            repair,
            [
                {
                    "state": "confirmed",
                    "lot_id": serial.id,
                    "product_qty": 1.0,
                    "product_location_src_id": self.quarantine.id,
                }
            ],
        )
        # another unit of the same product waits in quarantine: the customer
        # still gets their own back
        self.env["stock.quant"]._update_available_quantity(
            serial_product, stock, -1, lot_id=other
        )
        self.env["stock.quant"]._update_available_quantity(
            serial_product, self.quarantine, 1, lot_id=other
        )
        self._repair(repair)
        send_back = self._send_back(rma)
        self.assertEqual(send_back.move_ids.move_line_ids.lot_id, serial)
        self._validate(send_back)
        Quant = self.env["stock.quant"]
        self.assertEqual(
            Quant._get_available_quantity(
                serial_product, self.quarantine, lot_id=serial
            ),
            0.0,
        )
        self.assertEqual(
            Quant._get_available_quantity(
                serial_product, self.quarantine, lot_id=other
            ),
            1.0,
        )
        self.assertEqual(
            serial.quant_ids.filtered(lambda q: q.quantity > 0).location_id,
            self.customer_location,
        )
        self.assertEqual(rma.state, "processed")
        self.assertEqual(order.order_line.qty_delivered, 1.0)

    def test_partial_receipt_waits_for_the_whole_quantity(self):
        order = self._sell(qty=10.0)
        rma = self._approved([(order.order_line, 4.0, self.reason_repair)])
        self._validate(self._receipt(rma), qty=3.0)
        self.assertEqual(rma.state, "received_partial")
        self.assertEqual(rma.line_ids.qty_received, 3.0)
        # one repair order for the line's goods, once they are all in
        self.assertFalse(rma.line_ids.repair_id)
        self._validate(self._receipt(rma))
        self.assertEqual(rma.state, "received")
        self.assertRecordValues(
            self._repair_of(rma), [{"state": "confirmed", "product_qty": 4.0}]
        )

    def test_goods_come_back_even_when_the_reason_says_not(self):
        self.reason_repair.physical_return = False
        order = self._sell(qty=10.0)
        rma = self._approved([(order.order_line, 1.0, self.reason_repair)])
        self.assertTrue(rma.line_ids.needs_receipt)
        self.assertEqual(self._receipt(rma).move_ids.product_uom_qty, 1.0)
        self.assertEqual(rma.line_ids.qty_to_refund, 0.0)

    def test_cancel_cancels_the_repair_not_started(self):
        order = self._sell(qty=10.0)
        rma = self._approved([(order.order_line, 2.0, self.reason_repair)])
        self._validate(self._receipt(rma))
        repair = self._repair_of(rma)
        self.assertEqual(repair.state, "confirmed")
        rma = rma.with_user(self.salesman)
        rma.state_reason = "The customer fixed it themselves."
        rma.action_cancel()
        self.assertEqual(rma.state, "cancelled")
        self.assertEqual(repair.state, "cancel")
        self.assertFalse(repair.activity_ids)
        # the goods go back unrepaired, from where they were received
        send_back = self._send_back(rma)
        self.assertRecordValues(
            send_back,
            [
                {
                    "location_id": self.quarantine.id,
                    "location_dest_id": self.customer_location.id,
                    "state": "assigned",
                }
            ],
        )
        self.assertEqual(send_back.move_ids.product_uom_qty, 2.0)
        self.assertEqual(order.order_line.qty_delivered, 10.0)
        with self.assertRaisesRegex(UserError, "already moved goods"):
            rma.action_draft()

    def test_repair_cancelled_by_the_repair_team_tells_the_return(self):
        order = self._sell(qty=10.0)
        rma = self._approved([(order.order_line, 2.0, self.reason_repair)])
        self._validate(self._receipt(rma))
        repair = self._repair_of(rma)
        repair.with_user(self.stock_user).action_repair_cancel()
        self.assertEqual(rma.state, "received")
        self.assertIn(
            f"Repair order {repair.name} was cancelled",
            rma.message_ids[0].body,
        )
        self.assertRecordValues(
            self._decision(rma),
            [
                {
                    "summary": "Decide on the goods of a cancelled repair",
                    "user_id": self.salesman.id,
                }
            ],
        )
        # the salesperson cancels the return: the goods go back, no new
        # notice, and the decision is recorded as done
        rma = rma.with_user(self.salesman)
        rma.state_reason = "Not repairable."
        rma.action_cancel()
        self.assertEqual(rma.state, "cancelled")
        self.assertEqual(self._send_back(rma).move_ids.product_uom_qty, 2.0)
        self.assertFalse(self._decision(rma))
        self.assertIn(
            "The return was cancelled: goods sent back.",
            rma.with_env(self.env).message_ids[0].body,
        )

    def _decision(self, rma):
        """The salesperson's open "Repair Cancelled" activity on ``rma``."""
        return rma.with_env(self.env).activity_ids.filtered(
            lambda a: a.activity_type_id == self.env.ref(CANCELLED_ACTIVITY)
        )

    def test_repair_reopened_after_its_cancellation(self):
        """The repair team cancels a repair, then sets it back to draft and
        repairs after all: the goods go back as for any repair, and the
        salesperson has nothing left to decide."""
        order = self._sell(qty=10.0)
        rma = self._approved([(order.order_line, 2.0, self.reason_repair)])
        self._validate(self._receipt(rma))
        repair = self._repair_of(rma).with_user(self.stock_user)
        repair.action_repair_cancel()
        self.assertTrue(self._decision(rma))
        repair.action_repair_cancel_draft()
        repair.action_validate()
        self.assertEqual(repair.state, "confirmed")
        self._repair(repair)
        self.assertEqual(repair.state, "done")
        self.assertEqual(rma.state, "processed")
        self.assertEqual(self._send_back(rma).move_ids.product_uom_qty, 2.0)
        self.assertFalse(self._decision(rma))
        self.assertEqual(
            order.order_line.read(["qty_delivered", "qty_invoiced"]),
            [{"id": order.order_line.id, "qty_delivered": 10.0, "qty_invoiced": 10.0}],
        )

    def test_started_repair_blocks_the_cancellation(self):
        order = self._sell(qty=10.0)
        rma = self._approved([(order.order_line, 2.0, self.reason_repair)])
        self._validate(self._receipt(rma))
        repair = self._repair_of(rma)
        repair.with_user(self.stock_user).action_repair_start()
        rma = rma.with_user(self.salesman)
        rma.state_reason = "Too late."
        with self.assertRaisesRegex(UserError, "cannot be cancelled"):
            rma.action_cancel()
        self.assertEqual(rma.state, "received")
        self.assertEqual(repair.state, "under_repair")
        self.assertFalse(self._send_back(rma))

    def test_refund_line_received_blocks_the_cancellation(self):
        order_1 = self._sell(qty=10.0)
        order_2 = self._sell(qty=10.0)
        rma = self._approved(
            [
                (order_1.order_line, 2.0, self.reason_repair),
                (order_2.order_line, 1.0, self.reason_defective),
            ]
        )
        for receipt in self._receipt(rma):
            self._validate(receipt)
        self.assertEqual(rma.state, "received")
        rma = rma.with_user(self.salesman)
        rma.state_reason = "Changed our mind."
        with self.assertRaisesRegex(UserError, "cannot be cancelled"):
            rma.action_cancel()
        self.assertEqual(self._repair_of(rma).state, "confirmed")

    def test_repair_and_refund_of_one_delivery(self):
        order = self._sell(qty=10.0)
        sale_line = order.order_line
        rma = self._approved(
            [
                (sale_line, 2.0, self.reason_repair),
                (sale_line, 1.0, self.reason_defective),
            ]
        )
        # one move per line (Odoo would merge them): only the refund's goods
        # are taken back from the order
        self.assertRecordValues(
            self._receipt(rma).move_ids.sorted("product_uom_qty"),
            [
                {"product_uom_qty": 1.0, "to_refund": True},
                {"product_uom_qty": 2.0, "to_refund": False},
            ],
        )
        self._validate(self._receipt(rma))
        self.assertEqual(rma.line_ids.mapped("qty_received"), [2.0, 1.0])
        self.assertEqual(rma.state, "received")
        self.assertEqual(sale_line.qty_delivered, 9.0)
        self.assertEqual(self._repair_of(rma).product_qty, 2.0)
        self.assertEqual(self._refund(rma).amount_untaxed, 100.0)
        self._repair(self._repair_of(rma))
        self.assertEqual(rma.state, "processed")
        self.assertEqual((sale_line.qty_delivered, sale_line.qty_invoiced), (9, 9))

    def test_screens_of_each_role(self):
        def arch(model, user):
            views = self.env[model].with_user(user).get_views([(False, "form")])
            return views["views"]["form"]["arch"]

        # the repair order column and smart button are for the stock users
        # (Odoo's repair rights); the salesperson's form loads without them
        self.assertNotIn('name="repair_id"', arch("sale.flow.return", self.salesman))
        self.assertNotIn("action_view_repairs", arch("sale.flow.return", self.salesman))
        stock_form = arch("sale.flow.return", self.stock_user)
        self.assertIn('name="repair_id"', stock_form)
        self.assertIn("action_view_repairs", stock_form)
        self.assertIn("action_view_repair_deliveries", stock_form)
        repair_form = arch("repair.order", self.stock_user)
        self.assertIn('name="flow_return_id"', repair_form)
        self.assertIn('name="flow_return_reason_id"', repair_form)
