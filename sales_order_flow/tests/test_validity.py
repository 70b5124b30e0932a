from datetime import date

from freezegun import freeze_time
from psycopg2.errors import CheckViolation

from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import SaleFlowCommon


@tagged("post_install", "-at_install")
class TestValidity(SaleFlowCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.quotation_validity_days = 30

    @freeze_time("2026-11-01")
    def test_customer_validity_overrides_company(self):
        self.assertEqual(self._create_order().validity_date, date(2026, 12, 1))
        self.customer.flow_quotation_validity_days = 10
        self.assertEqual(self._create_order().validity_date, date(2026, 11, 11))

    def test_negative_validity_refused(self):
        with (
            self.assertRaises(CheckViolation),
            mute_logger("odoo.sql_db"),
            self.cr.savepoint(),
        ):
            self.customer.flow_quotation_validity_days = -1
            self.customer.flush_recordset()

    def test_cron_marks_expired_and_refuses_confirmation(self):
        with freeze_time("2026-11-01"):
            order = self._create_order()
            order.action_quotation_sent()
            draft = self._create_order()
        with freeze_time("2026-12-05"):
            self.env["sale.order"]._cron_flow_expire_quotations()
            self.assertTrue(order.flow_expired)
            self.assertTrue(draft.flow_expired)
            self.assertIn("expired on", order.message_ids[0].body)
            with self.assertRaisesRegex(UserError, "new expiration date"):
                order.action_confirm()
            # a new validity date makes it confirmable again
            order.validity_date = date(2026, 12, 31)
            self.assertFalse(order.flow_expired)
            order.action_confirm()
            self.assertEqual(order.state, "sale")

    def test_past_validity_refused_before_cron(self):
        with freeze_time("2026-11-01"):
            order = self._create_order()
        with freeze_time("2026-12-05"), self.assertRaisesRegex(UserError, "expired"):
            order.action_confirm()

    def test_cron_cancels_after_grace_days(self):
        self.company.write(
            {"flow_cancel_expired_quotations": True, "flow_expiry_grace_days": 5}
        )
        with freeze_time("2026-11-01"):
            order = self._create_order()
        with freeze_time("2026-12-03"):
            self.env["sale.order"]._cron_flow_expire_quotations()
            self.assertEqual(order.state, "draft", "still within the grace days")
        with freeze_time("2026-12-07"):
            self.env["sale.order"]._cron_flow_expire_quotations()
            self.assertEqual(order.state, "cancel")
            self.assertIn("Cancelled automatically", order.message_ids[0].body)

    def test_no_cancel_when_not_configured(self):
        with freeze_time("2026-11-01"):
            order = self._create_order()
        with freeze_time("2027-02-01"):
            self.env["sale.order"]._cron_flow_expire_quotations()
        self.assertTrue(order.flow_expired)
        self.assertEqual(order.state, "draft")
