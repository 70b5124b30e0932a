from datetime import timedelta

from odoo import Command, fields, http
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools.misc import format_date

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
        key = f"qty_{line.move_ids.id}"
        response = self.url_open(f"/my/orders/{self.order.id}")
        self.assertIn(f"/my/orders/{self.order.id}/return", response.text)
        response = self.url_open(f"/my/orders/{self.order.id}/return")
        self.assertEqual(response.status_code, 200)
        self.assertIn(f'name="{key}"', response.text)
        self.assertIn(self.reason_defective.name, response.text)
        reason = str(self.reason_defective.id)
        for qty, message in (
            (
                "11",
                "11.00 Units requested, but 10.00 delivered and 0.00 already "
                "returned or requested: at most 10.00 can be returned.",
            ),
            ("nan", "is not a quantity"),
            ("-1", "cannot be negative"),
            ("abc", "is not a quantity"),
            ("0", "Enter the quantity of at least one product"),
        ):
            response = self._post(self.order, **{key: qty}, reason_id=reason)
            self.assertEqual(response.status_code, 200, qty)
            self.assertIn(message, response.text, qty)
            self.assertFalse(self._returns(), qty)
        response = self._post(self.order, **{key: "2"})
        self.assertIn("Choose the reason", response.text)
        self.assertFalse(self._returns())
        response = self._post(
            self.order,
            **{key: "2"},
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
            f"qty_{line.move_ids.id}": "1",
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

    # ---- returns from a delivery ----
    def _sell_in_two(self, qty=10.0, first=6.0, partner=None):
        """A confirmed order delivered in two deliveries: ``first`` units, then
        the rest (a backorder). Returns (order, first delivery, second)."""
        order = self._create_order(partner=partner or self.buyer, qty=qty)
        order.action_confirm()
        delivery = order.picking_ids
        self._validate(delivery, qty=first)
        backorder = order.picking_ids - delivery
        self._validate(backorder)
        return order, delivery, backorder

    def _delivery_url(self, order, picking):
        return f"/my/orders/{order.id}/deliveries/{picking.id}/return"

    def _post_delivery(self, order, picking, **fields):
        data = {"csrf_token": http.Request.csrf_token(self), **fields}
        return self.url_open(self._delivery_url(order, picking), data=data)

    def test_return_from_a_delivery(self):
        """The form of a delivery offers only its move, with what is still
        returnable of it; the request names that delivery's move."""
        order, first, second = self._sell_in_two()
        move_1, move_2 = first.move_ids, second.move_ids
        self.assertEqual((move_1.quantity, move_2.quantity), (6.0, 4.0))
        self.authenticate("flow_return_portal", "flow_return_portal")
        page = self.url_open(f"/my/orders/{order.id}").text
        self.assertIn(self._delivery_url(order, first), page)
        self.assertIn(self._delivery_url(order, second), page)
        # the order's own form has a row per delivery (same order line)
        text = self.url_open(f"/my/orders/{order.id}/return").text
        self.assertIn(f'name="qty_{move_1.id}" max="6.0"', text)
        self.assertIn(f'name="qty_{move_2.id}" max="4.0"', text)
        response = self.url_open(self._delivery_url(order, first))
        self.assertEqual(response.status_code, 200)
        self.assertIn(f"Return products of {first.name}", response.text)
        self.assertIn(f'name="qty_{move_1.id}"', response.text)
        self.assertNotIn(f'name="qty_{move_2.id}"', response.text)
        self.assertRegex(response.text, r'o_flow_return_returnable"[^>]*>6.00<')
        response = self._post_delivery(
            order,
            first,
            **{f"qty_{move_1.id}": "2"},
            reason_id=str(self.reason_defective.id),
            comment="Two scratched",
        )
        rma = self._returns()
        self.assertEqual(len(rma), 1)
        self.assertIn(f"/my/returns/{rma.id}", response.url)
        self.assertRecordValues(
            rma, [{"state": "requested", "sale_order_ids": order.ids}]
        )
        self.assertRecordValues(
            rma.line_ids,
            [
                {
                    "move_id": move_1.id,
                    "origin_picking_id": first.id,
                    "sale_line_id": order.order_line.id,
                    "product_uom_qty": 2.0,
                    "reason_id": self.reason_defective.id,
                }
            ],
        )
        # the order page lists the request with its status
        page = self.url_open(f"/my/orders/{order.id}").text
        self.assertIn(rma.get_portal_url(), page.replace("&amp;", "&"))
        self.assertIn(rma.name, page)
        # what is requested is no longer returnable: 6 - 2 of the first
        # delivery, the 4 of the second untouched
        response = self.url_open(self._delivery_url(order, first))
        self.assertRegex(response.text, r'o_flow_return_returnable"[^>]*>4.00<')
        response = self.url_open(self._delivery_url(order, second))
        self.assertRegex(response.text, r'o_flow_return_returnable"[^>]*>4.00<')
        # a move of the other delivery posted to this one is not taken
        response = self._post_delivery(
            order,
            first,
            **{f"qty_{move_2.id}": "1"},
            reason_id=str(self.reason_defective.id),
        )
        self.assertEqual(response.status_code, 200)
        self.assertIn("Enter the quantity of at least one product", response.text)
        self.assertEqual(len(self._returns()), 1)

    def test_delivery_over_quantity_explained(self):
        order, first, second = self._sell_in_two()
        move_1, move_2 = first.move_ids, second.move_ids
        self._new_return(
            [(order.order_line, 2.0, self.reason_defective, {"move_id": move_1.id})]
        ).action_request()
        before = self._returns()
        self.assertEqual(len(before), 1)
        self.authenticate("flow_return_portal", "flow_return_portal")
        product = self.product.display_name
        reason = str(self.reason_defective.id)
        for picking, move, qty, message in (
            (
                first,
                move_1,
                "5",
                f"{product} (delivery {first.name}): 5.00 Units requested, but "
                "6.00 delivered and 2.00 already returned or requested: at most "
                "4.00 can be returned.",
            ),
            (
                second,
                move_2,
                "4.5",
                f"{product} (delivery {second.name}): 4.50 Units requested, but "
                "4.00 delivered and 0.00 already returned or requested: at most "
                "4.00 can be returned.",
            ),
        ):
            response = self._post_delivery(
                order, picking, **{f"qty_{move.id}": qty}, reason_id=reason
            )
            self.assertEqual(response.status_code, 200)
            self.assertIn(message, response.text)
            self.assertIn(f'value="{qty}"', response.text, "the entry is kept")
            self.assertEqual(self._returns(), before)

    def test_delivery_of_another_customer_or_order_refused(self):
        order, first, _second = self._sell_in_two()
        own_other = self._sell(qty=3.0, partner=self.buyer)
        foreign = self.other_order
        foreign_picking = foreign.picking_ids
        # the database may hold other returns (the repair bridge's demo)
        before = self.env["sale.flow.return"].search([])
        self.authenticate("flow_return_portal", "flow_return_portal")
        for url_order, picking in (
            (foreign, foreign_picking),  # another customer's order
            (order, foreign_picking),  # another customer's delivery
            (order, own_other.picking_ids),  # a delivery of another order
            (own_other, first),
        ):
            response = self.url_open(
                self._delivery_url(url_order, picking), allow_redirects=False
            )
            self.assertEqual(response.status_code, 404, (url_order, picking))
            move = picking.move_ids
            response = self._post_delivery(
                url_order,
                picking,
                **{f"qty_{move.id}": "1"},
                reason_id=str(self.reason_defective.id),
            )
            self.assertEqual(response.status_code, 404, (url_order, picking))
        self.assertEqual(self.env["sale.flow.return"].search([]), before)
        # the order's token opens its deliveries without login, and only them
        self.authenticate(None, None)
        order._portal_ensure_token()
        url = self._delivery_url(order, first)
        self.assertEqual(
            self.url_open(f"{url}?access_token={order.access_token}").status_code, 200
        )
        self.assertEqual(self.url_open(f"{url}?access_token=wrong").status_code, 404)
        foreign._portal_ensure_token()
        url = self._delivery_url(order, foreign_picking)
        self.assertEqual(
            self.url_open(f"{url}?access_token={order.access_token}").status_code, 404
        )

    def test_delivery_window_over_explained(self):
        """A delivery of 40 days ago (window 30): the order page and the form
        say so, a request posted anyway is refused with the figures, nothing
        is created and nothing is logged as an error."""
        order, first, second = self._sell_in_two()
        delivered = fields.Datetime.now() - timedelta(days=40)
        first.move_ids.date = delivered
        first.date_done = delivered
        env = self.env(context={"lang": self.portal_user.lang})
        date = format_date(env, delivered.date())
        closed = (
            f"The return window is over: delivered on {date}, 40 days ago; "
            "returns are accepted within 30 days."
        )
        self.authenticate("flow_return_portal", "flow_return_portal")
        with self.assertNoLogs("odoo", level="ERROR"):
            page = self.url_open(f"/my/orders/{order.id}").text
            self.assertIn(closed, page)
            self.assertNotIn(self._delivery_url(order, first), page)
            self.assertIn(self._delivery_url(order, second), page)
            response = self.url_open(self._delivery_url(order, first))
            self.assertEqual(response.status_code, 200)
            self.assertIn(closed, response.text)
            self.assertNotIn('name="reason_id"', response.text)
            response = self._post_delivery(
                order,
                first,
                **{f"qty_{first.move_ids.id}": "1"},
                reason_id=str(self.reason_defective.id),
            )
            self.assertEqual(response.status_code, 200)
            self.assertIn(
                f"{self.product.display_name} was delivered on {date}, 40 days "
                "ago: the return window is 30 days.",
                response.text,
            )
            # both deliveries past the window: no button on the order at all
            second.move_ids.date = delivered
            page = self.url_open(f"/my/orders/{order.id}").text
            self.assertNotIn(f"/my/orders/{order.id}/return", page)
            self.assertNotIn(self._delivery_url(order, second), page)
            self.assertEqual(page.count(closed), 2)
        self.assertFalse(self._returns())

    def test_delivery_lots_listed(self):
        """A tracked delivery of two lots: one row per lot with its quantity,
        the request names the lot."""
        product, (lot_a, lot_b) = self._lot_product(
            "Flow Lot Widget", ["LOT-PA", "LOT-PB"]
        )
        order = self._create_order(partner=self.buyer, product=product, qty=5.0)
        order.action_confirm()
        picking = order.picking_ids
        move = picking.move_ids
        move.move_line_ids.unlink()
        move.move_line_ids = [
            Command.create(
                {
                    "lot_id": lot.id,
                    "quantity": qty,
                    "location_id": self.warehouse.lot_stock_id.id,
                    "location_dest_id": picking.location_dest_id.id,
                    "product_id": product.id,
                }
            )
            for lot, qty in ((lot_a, 3.0), (lot_b, 2.0))
        ]
        move.picked = True
        picking.button_validate()
        self.authenticate("flow_return_portal", "flow_return_portal")
        text = self.url_open(self._delivery_url(order, picking)).text
        self.assertIn("Lot/Serial: LOT-PA", text)
        self.assertIn("Lot/Serial: LOT-PB", text)
        self.assertIn(f'name="qty_{move.id}_{lot_a.id}" max="3.0"', text)
        self.assertIn(f'name="qty_{move.id}_{lot_b.id}" max="2.0"', text)
        self._post_delivery(
            order,
            picking,
            **{f"qty_{move.id}_{lot_b.id}": "2"},
            reason_id=str(self.reason_defective.id),
        )
        self.assertRecordValues(
            self._returns().line_ids,
            [{"move_id": move.id, "lot_id": lot_b.id, "product_uom_qty": 2.0}],
        )

    def test_delivery_return_tour(self):
        order, first, _second = self._sell_in_two()
        order.name = "FLOW-RET-TOUR"
        first.name = "FLOW/OUT/FIRST"
        self.start_tour(
            "/my/orders", "sale_flow_portal_delivery_return", login="flow_return_portal"
        )
        self.assertRecordValues(
            self._returns().line_ids,
            [{"move_id": first.move_ids.id, "product_uom_qty": 3.0}],
        )

    def test_delivery_return_tour_phone(self):
        order, first, _second = self._sell_in_two()
        order.name = "FLOW-RET-TOUR"
        first.name = "FLOW/OUT/FIRST"
        self.browser_size = "390x844"
        self.start_tour(
            "/my/orders",
            "sale_flow_portal_delivery_return_phone",
            login="flow_return_portal",
        )
        self.assertRecordValues(
            self._returns().line_ids,
            [{"move_id": first.move_ids.id, "product_uom_qty": 3.0}],
        )
