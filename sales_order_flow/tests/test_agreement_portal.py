from datetime import timedelta

from odoo import Command, fields, http
from odoo.exceptions import UserError
from odoo.tests import HttpCase, new_test_user, tagged

from .common import SaleFlowCommon


@tagged("post_install", "-at_install")
class TestAgreementPortal(HttpCase, SaleFlowCommon):
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

    def _calloff_orders(self, agreement):
        return self.env["sale.order"].search([("flow_agreement_id", "=", agreement.id)])

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
            self.assertIn("calloff_error=confirm", response.url)
            self.assertIn("cannot be confirmed online", response.text)
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
