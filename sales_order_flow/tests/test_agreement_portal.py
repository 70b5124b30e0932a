import re
from datetime import timedelta

from odoo import Command, fields, http
from odoo.exceptions import UserError
from odoo.tests import HttpCase, new_test_user, tagged

from .common import SaleFlowCommon


class AgreementPortalCommon(HttpCase, SaleFlowCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.portal_user = new_test_user(
            cls.env,
            login="flow_agreement_portal",
            password="flow_agreement_portal",
            name="Agreement Portal Buyer",
            groups="base.group_portal",
        )
        cls.portal_company = cls.env["res.partner"].create(
            {"name": "Portal Agreement Customer", "is_company": True}
        )
        cls.portal_user.partner_id.write(
            {"parent_id": cls.portal_company.id, "email": "agr.buyer@example.com"}
        )
        cls.other_customer = cls.env["res.partner"].create(
            {"name": "Other Agreement Customer", "is_company": True}
        )
        cls.agreement = cls._agreement(cls.portal_company, "<p>Own terms</p>")
        cls.other_agreement = cls._agreement(cls.other_customer, "<p>Secret</p>")
        cls.line = cls.agreement.line_ids

    @classmethod
    def _agreement(cls, partner, terms):
        # the sales manager creates and activates agreements
        agreement = (
            cls.env["sale.flow.agreement"]
            .with_user(cls.manager)
            .create(
                {
                    "partner_id": partner.id,
                    "user_id": cls.salesman.id,
                    "title": f"Supply of {partner.name}",
                    "date_end": fields.Date.today() + timedelta(days=60),
                    "terms": terms,
                    "line_ids": [
                        Command.create(
                            {
                                "product_id": cls.service.id,
                                "qty_committed": 100.0,
                                "price_unit": 45.0,
                                "max_enforced": True,
                                "max_qty_calloff": 60.0,
                            }
                        )
                    ],
                }
            )
        )
        agreement.action_activate()
        return agreement.with_env(cls.env)

    def _calloff(self, agreement, qty, token=None):
        data = {
            "csrf_token": http.Request.csrf_token(self),
            f"qty_{agreement.line_ids.id}": str(qty),
        }
        if token:
            data["access_token"] = token
        return self.url_open(f"/my/agreements/{agreement.id}/calloff", data=data)

    def _calloff_orders(self, agreement):
        return self.env["sale.order"].search([("flow_agreement_id", "=", agreement.id)])


@tagged("post_install", "-at_install")
class TestAgreementPortal(AgreementPortalCommon):
    def test_list_detail_and_counter(self):
        self.authenticate("flow_agreement_portal", "flow_agreement_portal")
        response = self.url_open("/my/agreements")
        self.assertEqual(response.status_code, 200)
        self.assertIn(self.agreement.name, response.text)
        self.assertNotIn(self.other_agreement.name, response.text)
        response = self.url_open(f"/my/agreements/{self.agreement.id}")
        self.assertEqual(response.status_code, 200)
        self.assertIn("Own terms", response.text)
        self.assertIn("Request a call-off", response.text)
        counters = self.make_jsonrpc_request(
            "/my/counters", {"counters": ["agreement_count"]}
        )
        self.assertEqual(counters["agreement_count"], 1)
        response = self.url_open(f"/my/agreements/{self.agreement.id}?report_type=html")
        self.assertEqual(response.status_code, 200)
        self.assertIn(self.agreement.name, response.text)

    def test_another_customers_agreement_refused(self):
        self.authenticate("flow_agreement_portal", "flow_agreement_portal")
        other = self.other_agreement
        response = self.url_open(f"/my/agreements/{other.id}", allow_redirects=False)
        self.assertIn(response.status_code, (303, 403, 404))
        response = self.url_open(f"/my/agreements/{other.id}?access_token=wrong")
        self.assertNotIn("Secret", response.text)
        response = self.url_open(
            f"/my/agreements/{other.id}?report_type=html", allow_redirects=False
        )
        self.assertIn(response.status_code, (303, 403, 404))
        self._calloff(other, 5)
        self.assertFalse(
            self.env["sale.order"].search([("flow_agreement_id", "=", other.id)])
        )

    def test_access_token_without_login(self):
        self.authenticate(None, None)
        token = self.agreement._portal_ensure_token()
        response = self.url_open(
            f"/my/agreements/{self.agreement.id}?access_token={token}"
        )
        self.assertEqual(response.status_code, 200)
        self.assertIn("Own terms", response.text)
        response = self.url_open(
            f"/my/agreements/{self.agreement.id}", allow_redirects=False
        )
        self.assertIn(response.status_code, (303, 403, 404))

    def test_request_calloff(self):
        self.authenticate("flow_agreement_portal", "flow_agreement_portal")
        response = self._calloff(self.agreement, 20)
        self.assertIn("calloff_order", response.url)
        order = self.env["sale.order"].search(
            [("flow_agreement_id", "=", self.agreement.id)]
        )
        self.assertRecordValues(
            order,
            [
                {
                    "state": "draft",
                    "partner_id": self.portal_user.partner_id.id,
                    "user_id": self.salesman.id,
                }
            ],
        )
        self.assertEqual(order.order_line.price_unit, 45.0)
        # beyond the maximum per call-off: refused, nothing created
        response = self._calloff(self.agreement, 61)
        self.assertIn("calloff_error=limit", response.url)
        self.assertEqual(
            self.env["sale.order"].search_count(
                [("flow_agreement_id", "=", self.agreement.id)]
            ),
            1,
        )
        # confirmed call-offs when the agreement allows it
        self.agreement.allow_confirmed_calloff = True
        self._calloff(self.agreement, 10)
        confirmed = self.env["sale.order"].search(
            [("flow_agreement_id", "=", self.agreement.id), ("state", "=", "sale")]
        )
        self.assertEqual(len(confirmed), 1)

    def test_calloff_refuses_non_numbers_and_non_positive_quantities(self):
        self.authenticate("flow_agreement_portal", "flow_agreement_portal")
        for qty in ("nan", "inf", "-inf", "NaN", "1e400", "1e308", "0", "-1", "abc"):
            response = self._calloff(self.agreement, qty)
            self.assertEqual(response.status_code, 200, qty)
            self.assertIn("calloff_error=quantity", response.url, qty)
            self.assertIn("as a positive number", response.text, qty)
        self.assertFalse(self._calloff_orders(self.agreement))
        # the model refuses them too, whoever calls it
        for qty in (float("nan"), float("inf"), -1.0, 0.0):
            with self.assertRaisesRegex(UserError, "positive numbers"):
                self.agreement.with_user(self.salesman)._flow_create_calloff(
                    [(self.line, qty)]
                )
        self.assertFalse(self._calloff_orders(self.agreement))

    def test_refused_calloff_leaves_no_order(self):
        # confirmed call-offs, but the customer requires a PO: the
        # confirmation is refused, twice, and no draft order stays behind
        self.agreement.allow_confirmed_calloff = True
        self.portal_company.flow_po_required = True
        self.authenticate("flow_agreement_portal", "flow_agreement_portal")
        for _attempt in range(2):
            response = self._calloff(self.agreement, 10)
            # the portal form asks for the PO first (issue 11)
            self.assertIn("calloff_error=po_reference", response.url)
            self.assertIn("nothing was ordered", response.text)
        self.assertFalse(self._calloff_orders(self.agreement))
        self.assertFalse(
            self.env["sale.order"].search(
                [("partner_id", "child_of", self.portal_company.id)]
            )
        )
        # the same in the back office: nothing left by a refused confirmation
        wizard = (
            self.env["sale.flow.agreement.calloff"]
            .with_user(self.salesman)
            .create({"agreement_id": self.agreement.id, "confirm": True})
        )
        wizard.line_ids.quantity = 10
        with self.assertRaisesRegex(UserError, "requires a purchase order"):
            wizard.action_create()
        self.assertFalse(self._calloff_orders(self.agreement))
        # once the PO requirement is lifted, the call-off goes through
        self.portal_company.flow_po_required = False
        response = self._calloff(self.agreement, 10)
        self.assertIn("calloff_order=", response.url)
        self.assertEqual(self._calloff_orders(self.agreement).state, "sale")

    def test_calloff_price_in_the_pricelist_currency(self):
        currency = self.env.ref("base.EUR")
        if currency == self.currency:
            currency = self.env.ref("base.CHF")
        currency.active = True
        self.env["res.currency.rate"].search(
            [("currency_id", "=", currency.id)]
        ).unlink()
        self.env["res.currency.rate"].create(
            {
                "currency_id": currency.id,
                "company_id": self.company.id,
                "name": fields.Date.today() - timedelta(days=30),
                "rate": 2.0,
            }
        )
        self.agreement.pricelist_id = self.env["product.pricelist"].create(
            {"name": "Portal Other Currency", "currency_id": currency.id}
        )
        self.authenticate("flow_agreement_portal", "flow_agreement_portal")
        response = self._calloff(self.agreement, 20)
        self.assertIn("calloff_order", response.url)
        order = self._calloff_orders(self.agreement)
        self.assertEqual(order.currency_id, currency)
        self.assertEqual(order.order_line.price_unit, 90.0)  # 45 at 2 per unit
        # 20 units of the commitment once confirmed, whatever the currency
        order.with_user(self.salesman).action_confirm()
        self.assertEqual(self.line.consumed, 20.0)


def _text(html):
    """The visible text of rendered HTML, spaces normalised."""
    text = re.sub(r"<[^>]+>", " ", html).replace("\xa0", " ").replace("&nbsp;", " ")
    return re.sub(r"\s+", " ", text)


@tagged("post_install", "-at_install")
class TestAgreementPortalCalloff(AgreementPortalCommon):
    """The portal call-off becomes a document of the customer (issue 11)."""

    def _calloff_form(self, agreement, qty, **fields_values):
        data = {
            "csrf_token": http.Request.csrf_token(self),
            f"qty_{agreement.line_ids[:1].id}": str(qty),
            **fields_values,
        }
        return self.url_open(f"/my/agreements/{agreement.id}/calloff", data=data)

    def _money(self, amount):
        currency = self.agreement.currency_id
        value = f"{amount:,.2f}"
        if currency.position == "after":
            return f"{value} {currency.symbol}"
        return f"{currency.symbol} {value}"

    def test_calloff_is_a_document_of_the_customer(self):
        self.authenticate("flow_agreement_portal", "flow_agreement_portal")
        wanted = fields.Date.today() + timedelta(days=10)
        response = self._calloff_form(
            self.agreement,
            20,
            client_order_ref="PO-771",
            commitment_date=wanted.isoformat(),
            note="Deliver to gate 3",
        )
        order = self._calloff_orders(self.agreement)
        self.assertEqual(len(order), 1)
        self.assertIn(f"calloff_order={order.id}", response.url)
        self.assertRecordValues(
            order,
            [
                {
                    "state": "draft",
                    "client_order_ref": "PO-771",
                    "partner_id": self.portal_user.partner_id.id,
                    "require_signature": False,
                    "require_payment": False,
                }
            ],
        )
        self.assertEqual(order.commitment_date.date(), wanted)
        self.assertIn(self.portal_user.partner_id, order.message_partner_ids)
        # the note is a message of the customer, in the order's history
        note = order.message_ids.filtered(lambda m: "Deliver to gate 3" in m.body)
        self.assertRecordValues(
            note,
            [
                {
                    "author_id": self.portal_user.partner_id.id,
                    "subtype_id": self.env.ref("mail.mt_comment").id,
                }
            ],
        )
        # the confirmation links the quotation, which counts as pending
        text = _text(response.text)
        self.assertIn(f"Your call-off {order.name} has been sent to us", text)
        self.assertIn(f"/my/orders/{order.id}", response.text)
        self.assertIn("20.00 Units", text)
        pending = self.line._flow_get_pending()
        self.assertEqual(pending[self.line.id], 20.0)
        # the customer opens it, and finds it among its quotations
        page = self.url_open(f"/my/orders/{order.id}")
        self.assertEqual(page.status_code, 200)
        self.assertNotEqual(page.url.rstrip("/").split("/")[-1], "my")
        self.assertIn("being reviewed on our side", page.text)
        self.assertIn('href="/my/quotes', page.text)  # breadcrumb: a quotation
        self.assertIn("PO-771", page.text)
        quotes = self.url_open("/my/quotes")
        self.assertIn(order.name, quotes.text)
        counters = self.make_jsonrpc_request(
            "/my/counters", {"counters": ["quotation_count"]}
        )
        self.assertEqual(counters["quotation_count"], 1)
        # once the salesperson confirms it, it is an order and no longer
        # pending: it is used
        order.with_user(self.salesman).action_confirm()
        self.assertEqual(self.line._flow_get_pending()[self.line.id], 0.0)
        self.assertEqual(self.line.consumed, 20.0)
        self.assertIn(order.name, self.url_open("/my/orders").text)

    def test_calloff_of_another_agreement_not_shown(self):
        other_order = self.other_agreement.with_user(
            self.salesman
        )._flow_create_calloff([(self.other_agreement.line_ids, 5)])
        self.authenticate("flow_agreement_portal", "flow_agreement_portal")
        response = self.url_open(
            f"/my/agreements/{self.agreement.id}?calloff_order={other_order.id}"
        )
        self.assertNotIn(other_order.name, response.text)
        self.assertNotIn(f"/my/orders/{other_order.id}", response.text)
        # nor are the salesperson's own drafts of this agreement listed
        draft = self.agreement.with_user(self.salesman)._flow_create_calloff(
            [(self.line, 5)]
        )
        response = self.url_open(f"/my/agreements/{self.agreement.id}")
        self.assertNotIn(draft.name, response.text)
        self.assertNotIn(draft.name, self.url_open("/my/quotes").text)
        response = self.url_open(
            f"/my/agreements/{self.agreement.id}?calloff_order={draft.id}"
        )
        self.assertNotIn(draft.name, response.text)
        self.assertNotIn(f"/my/orders/{draft.id}", response.text)
        for junk in ("S00043", "99999999999", "-1"):
            response = self.url_open(
                f"/my/agreements/{self.agreement.id}?calloff_order={junk}"
            )
            self.assertEqual(response.status_code, 200, junk)
            self.assertNotIn("has been sent to us", response.text, junk)

    def test_calloff_po_reference_required_when_the_customer_requires_it(self):
        self.portal_company.flow_po_required = True
        self.agreement.allow_confirmed_calloff = True
        self.authenticate("flow_agreement_portal", "flow_agreement_portal")
        page = self.url_open(f"/my/agreements/{self.agreement.id}")
        self.assertRegex(
            page.text,
            r'name="client_order_ref"[^>]*required|required[^>]*'
            r'name="client_order_ref"',
        )
        response = self._calloff_form(self.agreement, 10, client_order_ref="  ")
        self.assertIn("calloff_error=po_reference", response.url)
        self.assertIn("Please enter your purchase order reference", response.text)
        self.assertFalse(self._calloff_orders(self.agreement))
        # with the PO the call-off is confirmed online: one of its orders
        response = self._calloff_form(self.agreement, 10, client_order_ref="PO-9")
        order = self._calloff_orders(self.agreement)
        self.assertRecordValues(order, [{"state": "sale", "client_order_ref": "PO-9"}])
        self.assertIn(order.name, self.url_open("/my/orders").text)
        self.assertIn("It is confirmed", _text(response.text))

    def test_calloff_refuses_bad_dates_and_long_notes(self):
        self.authenticate("flow_agreement_portal", "flow_agreement_portal")
        yesterday = fields.Date.today() - timedelta(days=1)
        for date in (yesterday.isoformat(), "2026-13-45", "soon"):
            response = self._calloff_form(self.agreement, 10, commitment_date=date)
            self.assertIn("calloff_error=date", response.url, date)
        response = self._calloff_form(self.agreement, 10, note="x" * 2001)
        self.assertIn("calloff_error=note", response.url)
        self.assertFalse(self._calloff_orders(self.agreement))

    def test_numbers_formatted_on_portal_and_pdf(self):
        chair = self.env["product.product"].create(
            {"name": "Flow Chair", "list_price": 100.0}
        )
        value_line = self.env["sale.flow.agreement.line"].create(
            {
                "agreement_id": self.agreement.id,
                "commitment_type": "value",
                "product_id": chair.id,
                "amount_committed": 5000.0,
            }
        )
        self.line.qty_committed = 50.0
        self.authenticate("flow_agreement_portal", "flow_agreement_portal")
        response = self.url_open(f"/my/agreements/{self.agreement.id}")
        text = _text(response.text)
        # quantities with their unit, values with their currency
        self.assertIn("50.00 Units", text)
        self.assertIn(self._money(5000.0), text)
        self.assertIn(self._money(45.0), text)  # the agreed price
        self.assertNotIn("5000.0", text)
        self.assertNotIn("50.0 ", text)
        # a value line offers no quantity box
        self.assertIn(f'name="qty_{self.line.id}"', response.text)
        self.assertNotIn(f'name="qty_{value_line.id}"', response.text)
        response = self._calloff_form(
            self.agreement, 1, **{f"qty_{value_line.id}": "3"}
        )
        self.assertEqual(
            self._calloff_orders(self.agreement).order_line.product_id,
            self.service,
        )
        # the agreement PDF and the consumption statement alike
        for report in (
            "sales_order_flow.action_report_sale_flow_agreement",
            "sales_order_flow.action_report_sale_flow_agreement_consumption",
        ):
            html = (
                self.env["ir.actions.report"]
                ._render_qweb_html(report, self.agreement.ids)[0]
                .decode()
            )
            html_text = _text(html)
            self.assertIn("50.00 Units", html_text, report)
            self.assertIn(self._money(5000.0), html_text, report)
            self.assertNotIn("5000.0", html_text, report)

    def test_numbers_localised_in_the_customers_language(self):
        self.env["res.lang"]._activate_lang("es_ES")
        self.portal_user.lang = "es_ES"
        self.line.qty_committed = 1500.0
        self.authenticate("flow_agreement_portal", "flow_agreement_portal")
        text = _text(self.url_open(f"/my/agreements/{self.agreement.id}").text)
        self.assertIn("1.500,00", text)
        self.assertIn("45,00", text)
        self.assertNotIn("1500.0", text)

    def test_agreement_page_sidebar_and_history(self):
        self.agreement.message_post(body="Renewal talk next month")
        self.authenticate("flow_agreement_portal", "flow_agreement_portal")
        response = self.url_open(f"/my/agreements/{self.agreement.id}")
        self.assertIn("o_portal_contact_details", response.text)
        self.assertIn(self.salesman.name, response.text)
        self.assertIn("Communication history", response.text)
        self.assertIn(
            "/sales_order_flow/static/src/img/agreement.svg", self.url_open("/my").text
        )

    def test_portal_calloff_tour(self):
        self.agreement.name = "AGR-TOUR"
        self.start_tour("/", "sale_flow_portal_calloff", login="flow_agreement_portal")
        order = self._calloff_orders(self.agreement)
        self.assertRecordValues(
            order, [{"state": "draft", "client_order_ref": "PO-CALLOFF-7"}]
        )
        self.assertTrue(order.commitment_date)

    def test_portal_calloff_tour_phone(self):
        self.agreement.name = "AGR-TOUR"
        self.browser_size = "390x844"
        self.start_tour(
            "/", "sale_flow_portal_calloff_phone", login="flow_agreement_portal"
        )
        self.assertEqual(
            self._calloff_orders(self.agreement).order_line.product_uom_qty, 20.0
        )
