import base64

from odoo.exceptions import UserError
from odoo.tests import Form, tagged

from .common import SaleFlowCommon


@tagged("post_install", "-at_install")
class TestPurchaseOrder(SaleFlowCommon):
    def test_po_required_is_a_commercial_field(self):
        self.assertTrue(self.customer_po_contact.flow_po_required)
        self.customer_po.flow_po_required = False
        self.assertFalse(self.customer_po_contact.flow_po_required)

    def test_confirm_without_po_refused(self):
        order = self._create_order(partner=self.customer_po_contact, user_id=False)
        with self.assertRaisesRegex(UserError, "requires a purchase order"):
            order.with_user(self.salesman).action_confirm()
        self.assertEqual(order.state, "draft")
        self.assertFalse(order.picking_ids, "nothing may be half-done")

    def test_confirm_with_po(self):
        order = self._create_order(partner=self.customer_po)
        order = order.with_user(self.salesman)
        order.client_order_ref = "PO-4711"
        order.action_confirm()
        self.assertEqual(order.state, "sale")

    def test_customer_without_requirement_confirms(self):
        order = self._create_order().with_user(self.salesman)
        order.action_confirm()
        self.assertEqual(order.state, "sale")

    def test_po_blocks_portal_signature_and_payment(self):
        order = self._create_order(partner=self.customer_po, require_signature=True)
        order = order.with_user(self.salesman)
        order.action_quotation_sent()
        self.assertFalse(order._has_to_be_signed())
        order.client_order_ref = "PO-1"
        self.assertTrue(order._has_to_be_signed())

    def test_po_carried_to_invoice(self):
        document = base64.b64encode(b"%PDF-1.4 customer purchase order")
        order = self._create_order(partner=self.customer_po, product=self.service)
        order = order.with_user(self.salesman)
        with Form(order) as form:
            form.client_order_ref = "PO-2024-17"
            form.flow_po_date = "2026-11-02"
            form.flow_po_document = document
        order.flow_po_document_name = "po.pdf"
        order.action_confirm()
        order.order_line.qty_delivered = 1
        invoice = order._create_invoices()
        invoice.with_user(self.accountant).action_post()
        self.assertRecordValues(
            invoice,
            [
                {
                    "ref": "PO-2024-17",
                    "flow_po_date": order.flow_po_date,
                    "flow_po_document_name": "po.pdf",
                }
            ],
        )
        self.assertEqual(invoice.flow_po_document, document)
