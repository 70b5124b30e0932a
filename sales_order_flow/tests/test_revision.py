from datetime import date

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import Form, tagged
from odoo.tools.misc import formatLang

from .common import SaleFlowCommon

REPORT = "sales_order_flow.action_report_sale_flow_revision_comparison"


@tagged("post_install", "-at_install")
class TestRevision(SaleFlowCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.quotation_validity_days = 30
        cls.payment_term_30 = cls.env["account.payment.term"].create(
            {"name": "Flow 30 Days"}
        )
        cls.payment_term_60 = cls.env["account.payment.term"].create(
            {"name": "Flow 60 Days"}
        )

    def _revise(self, order):
        action = order.action_flow_new_revision()
        self.assertEqual(action["res_model"], "sale.order")
        return self.env["sale.order"].browse(action["res_id"])

    def _price(self, amount):
        return formatLang(
            self.env, amount, dp="Product Price", currency_obj=self.currency
        )

    # ------------------------------------------------------------------
    # New revision
    # ------------------------------------------------------------------
    def test_revision_naming_links_and_history(self):
        order = self._create_order(lines=2, qty=3.0)
        order.action_quotation_sent()
        rev1 = self._revise(order)

        self.assertRecordValues(
            rev1,
            [
                {
                    "name": f"{order.name}-R1",
                    "flow_base_name": order.name,
                    "flow_revision_number": 1,
                    "flow_previous_revision_id": order.id,
                    "flow_next_revision_id": False,
                    "state": "draft",
                    "partner_id": self.customer.id,
                }
            ],
        )
        self.assertRecordValues(
            order,
            [
                {
                    "state": "cancel",
                    "flow_revision_number": 0,
                    "flow_base_name": order.name,
                    "flow_next_revision_id": rev1.id,
                }
            ],
        )
        self.assertRecordValues(
            rev1.order_line,
            [
                {"product_id": self.product.id, "product_uom_qty": 3.0},
                {"product_id": self.product.id, "product_uom_qty": 3.0},
            ],
        )
        # both documents say what happened in their chatter
        self.assertIn(rev1.name, order.message_ids[0].body)
        self.assertIn(order.name, rev1.message_ids[0].body)

        rev1.action_quotation_sent()
        rev2 = self._revise(rev1)
        self.assertEqual(rev2.name, f"{order.name}-R2")
        self.assertEqual(rev2.flow_revision_number, 2)
        self.assertEqual(rev2.flow_base_name, order.name)
        self.assertEqual(rev1.state, "cancel")
        self.assertEqual(rev1.flow_next_revision_id, rev2)

        history = order | rev1 | rev2
        for revision in history:
            self.assertEqual(revision.flow_revision_history_ids.ids, history.ids)
            self.assertEqual(revision.flow_revision_count, 3)
        action = rev2.action_flow_view_revisions()
        self.assertEqual(self.env["sale.order"].search(action["domain"]), history)
        # a cancelled (replaced) quotation cannot be revised again
        with self.assertRaisesRegex(UserError, "Only an open quotation"):
            rev1.action_flow_new_revision()

    def test_revision_gets_fresh_validity_when_expired(self):
        with freeze_time("2026-01-01"):
            order = self._create_order()
            self.assertEqual(order.validity_date, date(2026, 1, 31))
            # neither sent, approved nor expired: edit it instead
            with self.assertRaisesRegex(UserError, "cannot be revised"):
                order.action_flow_new_revision()
            self.assertEqual(order.state, "draft")
            self.assertFalse(order.flow_next_revision_id)
        with freeze_time("2026-02-15"):
            rev1 = self._revise(order)
        self.assertEqual(rev1.validity_date, date(2026, 3, 17))
        self.assertFalse(rev1.flow_expired)
        self.assertEqual(order.state, "cancel")

    def test_revision_of_expired_flag_and_approved(self):
        expired = self._create_order()
        expired.flow_expired = True
        self.assertEqual(self._revise(expired).flow_revision_number, 1)

        approved = self._create_order()
        approved.flow_approval_state = "approved"
        self.assertEqual(self._revise(approved).name, f"{approved.name}-R1")

    def test_revision_refused_on_confirmed_and_plain_draft(self):
        draft = self._create_order()
        with self.assertRaisesRegex(UserError, "cannot be revised"):
            draft.action_flow_new_revision()
        confirmed = self._create_order()
        confirmed.action_confirm()
        with self.assertRaisesRegex(UserError, "Only an open quotation"):
            confirmed.action_flow_new_revision()
        self.assertEqual(confirmed.state, "sale")
        self.assertFalse(
            self.env["sale.order"].search([("flow_previous_revision_id", "!=", False)])
            & (draft | confirmed).flow_next_revision_id
        )

    def test_revision_by_salesman(self):
        order = self._create_order()
        order.action_quotation_sent()
        rev1 = self._revise(order.with_user(self.salesman))
        self.assertEqual(rev1.flow_previous_revision_id, order)
        self.assertEqual(order.state, "cancel")

    def test_duplicate_does_not_carry_revision_links(self):
        order = self._create_order()
        order.action_quotation_sent()
        rev1 = self._revise(order)
        duplicate = rev1.copy()
        self.assertRecordValues(
            duplicate,
            [
                {
                    "flow_revision_number": 0,
                    "flow_previous_revision_id": False,
                    "flow_next_revision_id": False,
                    "flow_base_name": duplicate.name,
                }
            ],
        )
        self.assertNotIn("-R", duplicate.name)
        self.assertEqual(duplicate.flow_revision_history_ids, duplicate)
        self.assertEqual(rev1.flow_revision_count, 2)

    # ------------------------------------------------------------------
    # What changed
    # ------------------------------------------------------------------
    def _create_compared_revision(self):
        order = self._create_order(
            payment_term_id=self.payment_term_30.id,
            client_order_ref="PO-1",
            order_line=[
                Command.create({"product_id": self.product.id, "product_uom_qty": 2.0}),
                Command.create({"product_id": self.service.id, "product_uom_qty": 1.0}),
                Command.create({"product_id": self.product.id, "product_uom_qty": 1.0}),
            ],
            lines=0,
        )
        order.action_quotation_sent()
        revision = self._revise(order)
        product_line, service_line, second_product_line = revision.order_line
        product_line.write({"product_uom_qty": 3.0, "price_unit": 95.0})
        service_line.discount = 10.0
        second_product_line.unlink()
        revision.write(
            {
                "payment_term_id": self.payment_term_60.id,
                "client_order_ref": "PO-2",
                "order_line": [
                    Command.create(
                        {"product_id": self.service.id, "product_uom_qty": 5.0}
                    )
                ],
            }
        )
        return order, revision

    def test_revision_changes(self):
        _order, revision = self._create_compared_revision()
        changes = revision._flow_get_revision_changes()
        units = self.product.uom_id.name
        self.assertEqual(
            [(c["kind"], c["label"], c["old"], c["new"]) for c in changes],
            [
                (
                    "changed",
                    "Flow Widget: quantity",
                    f"2.00 {units}",
                    f"3.00 {units}",
                ),
                (
                    "changed",
                    "Flow Widget: unit price",
                    self._price(100.0),
                    self._price(95.0),
                ),
                ("removed", "Flow Widget", f"1.00 {units} × {self._price(100.0)}", ""),
                ("changed", "Flow Service: discount", "0.00 %", "10.00 %"),
                ("added", "Flow Service", "", f"5.00 {units} × {self._price(50.0)}"),
                ("term", "Payment Terms", "Flow 30 Days", "Flow 60 Days"),
                ("term", "Customer Reference", "PO-1", "PO-2"),
            ],
        )
        html = revision.flow_revision_changes_html
        self.assertIn("Flow 60 Days", html)
        self.assertIn("10.00 %", html)

    def test_revision_changes_of_terms_and_dates(self):
        with freeze_time("2026-01-01"):
            order = self._create_order()
            order.action_quotation_sent()
        with freeze_time("2026-01-10"):
            revision = self._revise(order)
        fiscal_position = self.env["account.fiscal.position"].create(
            {"name": "Flow Export"}
        )
        delivery = self.env["res.partner"].create(
            {
                "name": "Flow Warehouse",
                "type": "delivery",
                "parent_id": self.customer.id,
            }
        )
        revision.write(
            {
                "fiscal_position_id": fiscal_position.id,
                "partner_shipping_id": delivery.id,
                "commitment_date": "2026-02-01 10:00:00",
            }
        )
        changes = {
            change["label"]: change for change in revision._flow_get_revision_changes()
        }
        self.assertEqual(
            set(changes),
            {"Expiration", "Delivery Date", "Fiscal Position", "Delivery Address"},
        )
        self.assertEqual(changes["Fiscal Position"]["new"], "Flow Export")
        self.assertEqual(changes["Fiscal Position"]["old"], "")
        self.assertIn("Flow Warehouse", changes["Delivery Address"]["new"])
        self.assertEqual(changes["Expiration"]["old"], "01/31/2026")
        self.assertEqual(changes["Expiration"]["new"], "02/09/2026")
        self.assertTrue(changes["Delivery Date"]["new"].startswith("Feb 1, 2026"))

    def test_revision_changes_escaped_in_html(self):
        self.product.name = "Widget <b>bold</b> & co"
        order = self._create_order()
        order.action_quotation_sent()
        revision = self._revise(order)
        revision.order_line.product_uom_qty = 4.0
        html = str(revision.flow_revision_changes_html)
        self.assertIn("Widget &lt;b&gt;bold&lt;/b&gt; &amp; co: quantity", html)
        self.assertNotIn("<b>bold</b>", html)
        # edited in the form, the comparison follows before saving
        with Form(revision) as form:
            with form.order_line.edit(0) as line:
                line.product_uom_qty = 7.0
            self.assertIn("7.00", str(form.flow_revision_changes_html))
        # the original has no predecessor: nothing to show
        self.assertFalse(order.flow_revision_changes_html)
        self.assertEqual(order._flow_get_revision_changes(), [])

    def test_revision_changes_queries_do_not_grow_with_lines(self):
        def query_count(lines):
            order = self._create_order(lines=lines)
            order.action_quotation_sent()
            revision = self._revise(order)
            revision.order_line[0].product_uom_qty = 2.0
            revision.order_line[-1].unlink()
            self.env.flush_all()
            self.env.invalidate_all()
            start = self.cr.sql_log_count
            changes = revision._flow_get_revision_changes()
            self.assertEqual(len(changes), 2)
            return self.cr.sql_log_count - start

        self.assertEqual(query_count(10), query_count(100))

    # ------------------------------------------------------------------
    # Printable comparison
    # ------------------------------------------------------------------
    def test_revision_comparison_report(self):
        order, revision = self._create_compared_revision()
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html(REPORT, revision.ids)[0]
            .decode()
        )
        self.assertIn("Revision Comparison", html)
        self.assertIn(revision.name, html)
        self.assertIn(order.name, html)
        self.assertIn("Flow Widget: quantity", html)
        self.assertIn("Flow Service: discount", html)
        self.assertIn("Removed", html)
        self.assertIn("Added", html)
        self.assertIn("Flow 60 Days", html)
        self.assertIn("PO-2", html)

        original = (
            self.env["ir.actions.report"]
            ._render_qweb_html(REPORT, order.ids)[0]
            .decode()
        )
        self.assertIn("is the original quotation", original)
