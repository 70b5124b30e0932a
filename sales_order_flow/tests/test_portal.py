import base64
import json
from unittest.mock import patch

from werkzeug.datastructures import FileStorage

from odoo import Command, http
from odoo.tests import HttpCase, new_test_user, tagged

from ..controllers.portal import PO_DOCUMENT_MAX_BYTES
from .common import SaleFlowCommon

# A 1x1 transparent PNG: what the portal's signature widget sends.
SIGNATURE = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAAS"
    "UVORK5CYII="
)


@tagged("post_install", "-at_install")
class TestPortal(HttpCase, SaleFlowCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.portal_user = new_test_user(
            cls.env,
            login="flow_portal",
            password="flow_portal",
            name="Flow Portal Buyer",
            groups="base.group_portal",
        )
        cls.portal_user.partner_id.write(
            {"parent_id": cls.customer_po.id, "email": "buyer@example.com"}
        )
        cls.other_customer = cls.env["res.partner"].create(
            {"name": "Other Customer", "email": "other@example.com"}
        )

    def _quote(self, partner, **values):
        order = self._create_order(
            partner=partner,
            product=self.service,
            require_signature=True,
            require_payment=False,
            **values,
        )
        order.action_quotation_sent()
        order._portal_ensure_token()
        return order

    def _accept(self, order, token=None):
        return self.make_jsonrpc_request(
            f"/my/orders/{order.id}/accept",
            {
                "access_token": token or order.access_token,
                "name": "Flow Portal Buyer",
                "signature": SIGNATURE,
            },
        )

    def test_accept_refused_without_required_po(self):
        order = self._quote(self.portal_user.partner_id)
        result = self._accept(order)
        self.assertIn("purchase order reference", result["error"])
        self.assertEqual(order.state, "sent")
        self.assertFalse(order.signature, "nothing may be stored on a refusal")

    def test_po_given_on_portal_then_accept(self):
        order = self._quote(self.portal_user.partner_id)
        self.authenticate(None, None)
        response = self.url_open(
            f"/my/orders/{order.id}/purchase_order?access_token={order.access_token}",
            data={
                "client_order_ref": "PO-778",
                "po_date": "2026-11-20",
                "csrf_token": http.Request.csrf_token(self),
            },
            files={"po_document": ("po.pdf", b"%PDF-1.4 po", "application/pdf")},
        )
        self.assertEqual(response.status_code, 200)
        self.assertEqual(order.client_order_ref, "PO-778")
        self.assertEqual(str(order.flow_po_date), "2026-11-20")
        self.assertEqual(base64.b64decode(order.flow_po_document), b"%PDF-1.4 po")
        self.assertTrue(
            any("PO-778" in message.body for message in order.message_ids),
            "the PO given on the portal is in the chatter",
        )
        result = self._accept(order)
        self.assertNotIn("error", result)
        self.assertEqual(order.state, "sale")

    def test_po_document_trace_and_download(self):
        order = self._quote(self.portal_user.partner_id)
        self.authenticate(None, None)
        response = self._upload_po(order, "our-po-778.pdf", b"%PDF-1.4 po")
        self.assertIn("po_ok=1", response.url)
        # after saving, the page names the file and links it
        self.assertIn("our-po-778.pdf", response.text)
        self.assertIn("sale_flow_po_document_current", response.text)
        link = (
            f"/my/orders/{order.id}/purchase_order/document"
            f"?access_token={order.access_token}"
        )
        self.assertIn(link.replace("&", "&amp;"), response.text)
        download = self.url_open(link)
        self.assertEqual(download.status_code, 200)
        self.assertEqual(download.content, b"%PDF-1.4 po")
        self.assertIn("our-po-778.pdf", download.headers["Content-Disposition"])
        # nobody else gets it
        refused = self.url_open(
            f"/my/orders/{order.id}/purchase_order/document?access_token=wrong",
            allow_redirects=False,
        )
        self.assertEqual(refused.status_code, 303)
        refused = self.url_open(
            f"/my/orders/{order.id}/purchase_order/document", allow_redirects=False
        )
        self.assertEqual(refused.status_code, 303)
        # the confirmed order keeps the trace too
        order.with_user(self.salesman).action_confirm()
        self.authenticate(None, None)
        page = self.url_open(order.get_portal_url())
        self.assertIn("sale_flow_po_document", page.text)
        self.assertIn("our-po-778.pdf", page.text)

    def test_po_route_rejects_bad_input_and_wrong_token(self):
        order = self._quote(self.portal_user.partner_id)
        self.authenticate(None, None)
        for data, files in (
            ({"client_order_ref": "  "}, None),
            ({"client_order_ref": "x" * 65}, None),
            (
                {"client_order_ref": "PO-9"},
                {"po_document": ("po.exe", b"MZ", "application/octet-stream")},
            ),
        ):
            response = self.url_open(
                f"/my/orders/{order.id}/purchase_order?access_token={order.access_token}",
                data={**data, "csrf_token": http.Request.csrf_token(self)},
                files=files,
            )
            self.assertIn("po_error=", response.url)
        self.assertFalse(order.client_order_ref, "nothing may be half-written")
        response = self.url_open(
            f"/my/orders/{order.id}/purchase_order?access_token=wrong",
            data={
                "client_order_ref": "PO-EVIL",
                "csrf_token": http.Request.csrf_token(self),
            },
            allow_redirects=False,
        )
        self.assertEqual(response.status_code, 303)
        self.assertTrue(response.headers["Location"].endswith("/my"))
        self.assertFalse(order.client_order_ref)

    def _upload_po(self, order, filename, content, mimetype="application/pdf"):
        return self.url_open(
            f"/my/orders/{order.id}/purchase_order?access_token={order.access_token}",
            data={
                "client_order_ref": "PO-FILE",
                "csrf_token": http.Request.csrf_token(self),
            },
            files={"po_document": (filename, content, mimetype)},
        )

    def test_po_document_judged_by_its_content(self):
        # a web page or an SVG (scripts) renamed .pdf, sent as a PDF
        order = self._quote(self.portal_customer.partner_id)
        self.authenticate("flow_portal_customer", "flow_portal_customer")
        for content in (
            b"<html><body><script>alert(1)</script></body></html>",
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        ):
            response = self._upload_po(order, "po.pdf", content)
            self.assertIn("po_error=po_document", response.url)
            self.assertIn("must be a PDF, PNG or JPEG file", response.text)
        self.assertFalse(order.client_order_ref, "nothing may be half-written")
        self.assertFalse(order.flow_po_document)
        # a real PDF sent with a wrong type by the browser is accepted
        response = self._upload_po(
            order, "po.pdf", b"%PDF-1.4 po", "application/octet-stream"
        )
        self.assertIn("po_ok=1", response.url)
        self.assertEqual(base64.b64decode(order.flow_po_document), b"%PDF-1.4 po")
        attachment = (
            self.env["ir.attachment"]
            .sudo()
            .search(
                [
                    ("res_model", "=", "sale.order"),
                    ("res_field", "=", "flow_po_document"),
                    ("res_id", "=", order.id),
                ]
            )
        )
        self.assertEqual(attachment.mimetype, "application/pdf")

    def test_oversized_po_document_refused_before_reading(self):
        order = self._quote(self.portal_customer.partner_id)
        self.authenticate("flow_portal_customer", "flow_portal_customer")
        reads = []

        def read(storage, *args):
            reads.append(args)
            return storage.stream.read(*args)

        content = b"%PDF-1.4 " + b"0" * PO_DOCUMENT_MAX_BYTES
        with patch.object(FileStorage, "read", read, create=True):
            response = self._upload_po(order, "po.pdf", content)
            self.assertIn("po_error=po_document", response.url)
            self.assertFalse(reads, "an oversized file is refused unread")
            self.assertFalse(order.client_order_ref)
            self.assertFalse(order.flow_po_document)
            response = self._upload_po(order, "po.pdf", b"%PDF-1.4 small")
            self.assertIn("po_ok=1", response.url)
            self.assertTrue(reads, "a file of a fair size is read")

    def test_payment_refused_without_required_po(self):
        order = self._quote(self.portal_user.partner_id)
        response = self.url_open(
            f"/my/orders/{order.id}/transaction",
            data=json.dumps(
                {
                    "jsonrpc": "2.0",
                    "method": "call",
                    "id": 0,
                    "params": {"access_token": order.access_token},
                }
            ),
            headers={"Content-Type": "application/json"},
        )
        error = response.json()["error"]["data"]
        self.assertEqual(error["name"], "odoo.exceptions.ValidationError")
        self.assertIn("purchase order reference", error["message"])
        self.assertFalse(order.transaction_ids)

    def test_accept_refused_with_wrong_token(self):
        order = self._quote(self.customer)
        self.assertEqual(self._accept(order, token="wrong")["error"], "Invalid order.")

    def test_cannot_open_another_customers_quotation(self):
        own = self._quote(self.portal_user.partner_id)
        other = self._quote(self.other_customer)
        self.authenticate("flow_portal", "flow_portal")
        response = self.url_open(f"/my/orders/{own.id}")
        self.assertEqual(response.status_code, 200)
        self.assertIn(own.name, response.text)
        response = self.url_open(f"/my/orders/{other.id}", allow_redirects=False)
        self.assertIn(response.status_code, (303, 403, 404))
        response = self.url_open(f"/my/orders/{other.id}?access_token=wrong")
        self.assertNotIn(other.name, response.text)
        response = self.url_open(
            f"/my/orders/{other.id}?report_type=pdf", allow_redirects=False
        )
        self.assertIn(response.status_code, (303, 403, 404))

    def test_portal_page_shows_po_and_commitment(self):
        order = self._quote(
            self.portal_user.partner_id,
            client_order_ref="PO-SHOWN",
            flow_po_date="2026-11-19",
            commitment_date="2026-12-24 10:00:00",
        )
        response = self.url_open(order.get_portal_url())
        self.assertIn("PO-SHOWN", response.text)
        self.assertIn("Committed Delivery", response.text)
        self.assertIn("12/24/2026", response.text)

    def test_accept_refused_while_waiting_for_approval(self):
        self.env["sale.flow.approval.rule"].create(
            {
                "name": "Large discounts",
                "check_discount": True,
                "min_discount": 10.0,
                "approver_user_ids": [Command.link(self.approver.id)],
            }
        )
        order = self._create_order(
            partner=self.customer,
            product=self.service,
            require_signature=True,
            discount=25.0,
        )
        self.assertIn(order.flow_approval_state, ("to_request", "pending"))
        order._portal_ensure_token()
        result = self._accept(order)
        self.assertIn("reviewed on our side", result["error"])
        self.assertEqual(order.state, "draft")
        self.assertFalse(order.signature)

    def test_portal_po_tour(self):
        order = self._quote(self.portal_user.partner_id)
        order.name = "Flow PO Quote"
        order.message_subscribe(partner_ids=self.portal_user.partner_id.ids)
        self.start_tour("/", "sale_flow_portal_po", login="flow_portal")
        self.assertEqual(order.client_order_ref, "PO-TOUR-42")
        self.assertEqual(order.state, "sale")
