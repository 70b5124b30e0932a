from odoo import http
from odoo.tests import HttpCase, tagged

from .recurring_common import RecurringCommon


@tagged("post_install", "-at_install")
class TestRecurringPortal(HttpCase, RecurringCommon):
    def setUp(self):
        super().setUp()
        self.order = self._recurring_order(
            "2026-01-01", partner=self.customer_po_contact, client_order_ref="PO-R1"
        )
        self._run(self.d("2026-01-01"))
        self.order._portal_ensure_token()

    def _post(self, action):
        return self.url_open(
            f"/my/orders/{self.order.id}/recurring/{action}",
            data={"csrf_token": http.Request.csrf_token(self)},
            allow_redirects=False,
        )

    def test_customer_sees_plan_next_invoice_and_invoices(self):
        self.authenticate("flow_portal_customer", "flow_portal_customer")
        response = self.url_open(f"/my/orders/{self.order.id}")
        self.assertEqual(response.status_code, 200)
        page = response.text
        self.assertIn("Recurring invoices", page)
        self.assertIn("Monthly", page)
        self.assertIn("sale_flow_recurring_next_date", page)
        self.assertIn(self.order.invoice_ids.name, page)
        # managing is off by default: no buttons, and the route refuses
        self.assertNotIn("/recurring/pause", page)
        response = self._post("pause")
        self.assertIn("recurring_error=not_allowed", response.headers["Location"])
        self.assertEqual(self.order.flow_recurring_state, "active")

    def test_customer_pauses_and_closes_when_allowed(self):
        self.order.company_id.flow_recurring_portal_manage = True
        self.authenticate("flow_portal_customer", "flow_portal_customer")
        self.assertIn(
            "/recurring/pause", self.url_open(f"/my/orders/{self.order.id}").text
        )
        response = self._post("pause")
        self.assertIn("recurring_ok=pause", response.headers["Location"])
        self.assertEqual(self.order.flow_recurring_state, "paused")
        self._post("resume")
        self.assertEqual(self.order.flow_recurring_state, "active")
        self._post("close")
        self.assertTrue(self.order.flow_recurrence_date_end)
        # another customer's order: sent back to /my
        self.authenticate("flow_portal_agent", "flow_portal_agent")
        response = self._post("pause")
        self.assertEqual(response.status_code, 303)
        self.assertNotIn("recurring_ok", response.headers["Location"])
