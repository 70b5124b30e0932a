from odoo import http
from odoo.tests import HttpCase, new_test_user, tagged

from .return_common import SaleFlowReturnCommon


@tagged("post_install", "-at_install")
class TestReturnPortal(HttpCase, SaleFlowReturnCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.buyer = cls.env["res.partner"].create(
            {"name": "Portal Return Customer", "is_company": True}
        )
        cls.portal_user = new_test_user(
            cls.env,
            login="flow_return_portal",
            password="flow_return_portal",
            name="Return Portal Buyer",
            groups="base.group_portal",
        )
        cls.portal_user.partner_id.write(
            {"parent_id": cls.buyer.id, "email": "ret.buyer@example.com"}
        )
        cls.order = cls._sell(qty=10.0, partner=cls.buyer)
        cls.other_order = cls._sell(qty=5.0)

    def _post(self, order, **fields):
        data = {"csrf_token": http.Request.csrf_token(self), **fields}
        return self.url_open(f"/my/orders/{order.id}/return", data=data)

    def _returns(self):
        return self.env["sale.flow.return"].search(
            [("commercial_partner_id", "=", self.buyer.id)]
        )

    def test_own_return_visible_another_refused(self):
        own = self._new_return([(self.order.order_line, 1.0, self.reason_defective)])
        other = self._new_return(
            [(self.other_order.order_line, 1.0, self.reason_defective)]
        )
        self.authenticate("flow_return_portal", "flow_return_portal")
        response = self.url_open("/my/returns")
        self.assertEqual(response.status_code, 200)
        self.assertIn(own.name, response.text)
        self.assertNotIn(other.name, response.text)
        response = self.url_open(f"/my/returns/{own.id}")
        self.assertEqual(response.status_code, 200)
        self.assertIn("Flow Widget", response.text)
        response = self.url_open(f"/my/returns/{other.id}", allow_redirects=False)
        self.assertIn(response.status_code, (303, 403, 404))
        response = self.url_open(
            f"/my/returns/{other.id}?access_token=wrong", allow_redirects=False
        )
        self.assertIn(response.status_code, (303, 403, 404))
        response = self.url_open(
            f"/my/returns/{other.id}?report_type=pdf", allow_redirects=False
        )
        self.assertIn(response.status_code, (303, 403, 404))
        # nor can it request a return of another customer's order
        response = self.url_open(
            f"/my/orders/{self.other_order.id}/return", allow_redirects=False
        )
        self.assertIn(response.status_code, (303, 403, 404))
        # a token opens one return without login, as Odoo's documents
        self.authenticate(None, None)
        own._portal_ensure_token()
        response = self.url_open(
            f"/my/returns/{own.id}?access_token={own.access_token}"
        )
        self.assertEqual(response.status_code, 200)
        self.assertIn(own.name, response.text)

    def test_request_form_refuses_bad_quantities(self):
        self.authenticate("flow_return_portal", "flow_return_portal")
        line = self.order.order_line
        response = self.url_open(f"/my/orders/{self.order.id}")
        self.assertIn(f"/my/orders/{self.order.id}/return", response.text)
        response = self.url_open(f"/my/orders/{self.order.id}/return")
        self.assertEqual(response.status_code, 200)
        self.assertIn(f'name="qty_{line.id}"', response.text)
        self.assertIn(self.reason_defective.name, response.text)
        reason = str(self.reason_defective.id)
        for qty, message in (
            ("11", "at most 10.0 can be returned"),
            ("-1", "cannot be negative"),
            ("abc", "is not a quantity"),
            ("0", "Enter the quantity of at least one product"),
        ):
            response = self._post(
                self.order, **{f"qty_{line.id}": qty}, reason_id=reason
            )
            self.assertEqual(response.status_code, 200, qty)
            self.assertIn(message, response.text, qty)
            self.assertFalse(self._returns(), qty)
        response = self._post(self.order, **{f"qty_{line.id}": "2"})
        self.assertIn("Choose the reason", response.text)
        self.assertFalse(self._returns())
        response = self._post(
            self.order,
            **{f"qty_{line.id}": "2"},
            reason_id=reason,
            comment="Scratched",
        )
        rma = self._returns()
        self.assertEqual(len(rma), 1)
        self.assertIn(f"/my/returns/{rma.id}", response.url)
        self.assertRecordValues(
            rma,
            [
                {
                    "state": "requested",
                    "partner_id": self.portal_user.partner_id.id,
                    "user_id": self.salesman.id,
                    "comment": "Scratched",
                }
            ],
        )
        self.assertRecordValues(
            rma.line_ids,
            [
                {
                    "sale_line_id": line.id,
                    "product_uom_qty": 2.0,
                    "reason_id": self.reason_defective.id,
                }
            ],
        )

    def test_photos_judged_by_their_content(self):
        """A page renamed photo.png is refused whatever the browser claims; a
        real PNG is attached with the type its content has."""
        self.authenticate("flow_return_portal", "flow_return_portal")
        line = self.order.order_line
        fields = {
            "csrf_token": http.Request.csrf_token(self),
            f"qty_{line.id}": "1",
            "reason_id": str(self.reason_defective.id),
        }
        page = b"<html><script>alert(1)</script></html>"
        response = self.url_open(
            f"/my/orders/{self.order.id}/return",
            data=fields,
            files={"attachments": ("photo.png", page, "image/png")},
        )
        self.assertIn("attach PDF, PNG or JPEG files", response.text)
        self.assertFalse(self._returns())
        png = (
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01"
            b"\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f"
            b"\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
        )
        self.url_open(
            f"/my/orders/{self.order.id}/return",
            data=fields,
            files={"attachments": ("photo.bin", png, "application/octet-stream")},
        )
        rma = self._returns()
        self.assertEqual(len(rma), 1)
        photo = self.env["ir.attachment"].search(
            [("res_model", "=", rma._name), ("res_id", "=", rma.id)]
        )
        self.assertEqual(photo.mimetype, "image/png")
