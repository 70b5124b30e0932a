import logging
from datetime import date, timedelta

from freezegun import freeze_time

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, tagged

from .common import SaleFlowCommon

_logger = logging.getLogger(__name__)


@tagged("post_install", "-at_install")
class TestAgreement(SaleFlowCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer_contact = cls.env["res.partner"].create(
            {"name": "Flow Customer Buyer", "parent_id": cls.customer.id}
        )
        cls.product.invoice_policy = "delivery"
        cls.categ = cls.env["product.category"].create({"name": "Agreement Goods"})
        cls.categ_product = cls.env["product.product"].create(
            {
                "name": "Agreement Gadget",
                "type": "service",
                "list_price": 30.0,
                "standard_price": 10.0,
                "categ_id": cls.categ.id,
                "taxes_id": [Command.clear()],
            }
        )
        cls.payment_term = cls.env.ref("account.account_payment_term_30days")
        # the sales manager creates and activates agreements
        cls.agreement = cls._create_agreement()
        cls.agreement.with_user(cls.manager).action_activate()
        cls.qty_line, cls.value_line, cls.categ_line = cls.agreement.line_ids

    @classmethod
    def _create_agreement(cls, **values):
        """A draft agreement, created by the sales manager."""
        Agreement = cls.env["sale.flow.agreement"]
        return (
            Agreement.with_user(cls.manager)
            .create(
                {
                    "partner_id": cls.customer.id,
                    "user_id": cls.salesman.id,
                    "date_start": fields.Date.today() - timedelta(days=10),
                    "date_end": fields.Date.today() + timedelta(days=100),
                    "payment_term_id": cls.payment_term.id,
                    "terms": "<p>Delivery within 5 days.</p>",
                    "line_ids": [
                        Command.create(
                            {
                                "commitment_type": "quantity",
                                "product_id": cls.product.id,
                                "qty_committed": 100.0,
                                "price_unit": 80.0,
                                "discount_1": 10.0,
                                "discount_2": 5.0,
                                "max_enforced": True,
                                "max_qty_calloff": 60.0,
                            }
                        ),
                        Command.create(
                            {
                                "commitment_type": "value",
                                "product_id": cls.service.id,
                                "amount_committed": 1000.0,
                                "price_unit": 40.0,
                            }
                        ),
                        Command.create(
                            {
                                "commitment_type": "category_value",
                                "categ_id": cls.categ.id,
                                "amount_committed": 500.0,
                                "discount_1": 20.0,
                            }
                        ),
                    ],
                    **values,
                }
            )
            .with_env(cls.env)
        )

    def _deliver(self, order, qty):
        # the warehouse delivers
        picking = order.with_user(self.stock_user).picking_ids.filtered(
            lambda p: p.state != "done"
        )
        picking.move_ids.quantity = qty
        picking.move_ids.picked = True
        picking.with_context(
            skip_backorder=True, picking_ids_not_to_backorder=picking.ids
        ).button_validate()
        return picking

    def _return(self, picking, qty):
        wizard = Form(
            self.env["stock.return.picking"]
            .with_user(self.stock_user)
            .with_context(active_id=picking.id, active_model="stock.picking")
        ).save()
        wizard.product_return_moves.quantity = qty
        action = wizard.action_create_returns()
        returned = (
            self.env["stock.picking"]
            .with_user(self.stock_user)
            .browse(action["res_id"])
        )
        returned.move_ids.quantity = qty
        returned.move_ids.picked = True
        returned.button_validate()
        return returned

    def _invoice(self, order):
        # the salesperson invoices the order, the accountant posts it
        invoice = order.with_user(self.salesman)._create_invoices()
        invoice.with_user(self.accountant).action_post()
        return invoice.with_env(self.env)

    # ------------------------------------------------------------------
    # Agreement
    # ------------------------------------------------------------------
    def test_sequence_states_and_commitments(self):
        self.assertTrue(self.agreement.name.startswith("AGR/"))
        self.assertEqual(self.agreement.state, "active")
        self.assertRecordValues(
            self.agreement.line_ids,
            [
                {"committed": 100.0, "remaining": 100.0, "consumption_percent": 0},
                {"committed": 1000.0, "remaining": 1000.0, "consumption_percent": 0},
                {"committed": 500.0, "remaining": 500.0, "consumption_percent": 0},
            ],
        )
        # 100 x 80 x 0.9 x 0.95 + 1000 + 500
        self.assertAlmostEqual(self.agreement.amount_total_committed, 8340.0)
        self.agreement.action_close()
        self.assertEqual(self.agreement.state, "closed")

    def test_bad_input(self):
        Agreement = self.env["sale.flow.agreement"]
        count = Agreement.search_count([])
        with self.assertRaises(ValidationError):
            self._create_agreement(
                date_start=date(2030, 1, 10), date_end=date(2030, 1, 1)
            )
        with self.assertRaises(ValidationError):
            Agreement.create(
                {
                    "partner_id": self.customer.id,
                    "date_end": fields.Date.today(),
                    "line_ids": [
                        Command.create(
                            {"product_id": self.product.id, "qty_committed": -5}
                        )
                    ],
                }
            )
        with self.assertRaises(ValidationError):
            Agreement.create(
                {
                    "partner_id": self.customer.id,
                    "date_end": fields.Date.today(),
                    "amount_committed": -1.0,
                }
            )
        self.assertEqual(Agreement.search_count([]), count, "nothing half-written")

    def test_exclusive_overlap_refused(self):
        self.agreement.action_close()
        first = self._create_agreement(exclusive=True)
        first.with_user(self.manager).action_activate()
        with self.assertRaisesRegex(ValidationError, "both exclusive"):
            self._create_agreement(exclusive=True)
        # a category line covering a product of another exclusive agreement
        with self.assertRaisesRegex(ValidationError, "both exclusive"):
            self.env["sale.flow.agreement"].create(
                {
                    "partner_id": self.customer_contact.id,
                    "exclusive": True,
                    "date_start": fields.Date.today(),
                    "date_end": fields.Date.today() + timedelta(days=5),
                    "line_ids": [
                        Command.create(
                            {
                                "commitment_type": "category_value",
                                "categ_id": self.product.categ_id.id,
                                "amount_committed": 10,
                            }
                        )
                    ],
                }
            )
        # after the first one ends: fine
        later = self._create_agreement(
            exclusive=True,
            date_start=first.date_end + timedelta(days=1),
            date_end=first.date_end + timedelta(days=30),
        )
        self.assertTrue(later)

    # ------------------------------------------------------------------
    # Ordering against it
    # ------------------------------------------------------------------
    def test_order_finds_agreement_and_applies_prices(self):
        order = self._create_order(partner=self.customer_contact, qty=10)
        line = order.order_line
        self.assertEqual(line.flow_agreement_line_id, self.qty_line)
        self.assertRecordValues(
            line,
            [
                {
                    "price_unit": 80.0,
                    "flow_discount_1": 10.0,
                    "flow_discount_2": 5.0,
                    "discount": 14.5,
                    "price_subtotal": 684.0,
                }
            ],
        )
        steps = line._flow_get_price_explanation()
        self.assertIn("agreement", [step["kind"] for step in steps])
        # category line: the pricelist price, the agreed discount
        order_2 = self._create_order(product=self.categ_product, qty=2)
        self.assertEqual(order_2.order_line.flow_agreement_line_id, self.categ_line)
        self.assertRecordValues(
            order_2.order_line, [{"price_unit": 30.0, "flow_discount_1": 20.0}]
        )

    def test_other_salesperson_gets_agreed_prices(self):
        # salesman_2 cannot open the agreement but sells under it
        order = (
            self.env["sale.order"]
            .with_user(self.salesman_2)
            .create(
                {
                    "partner_id": self.customer.id,
                    "user_id": self.salesman_2.id,
                    "order_line": [
                        Command.create(
                            {"product_id": self.product.id, "product_uom_qty": 70}
                        )
                    ],
                }
            )
        )
        self.assertEqual(order.order_line.price_unit, 80.0)
        with self.assertRaisesRegex(UserError, "at most 60"):
            order.action_confirm()
        order.order_line.product_uom_qty = 60
        order.action_confirm()
        self.assertEqual(self.qty_line.remaining, 40.0)

    def test_order_form_applies_terms(self):
        form = Form(self.env["sale.order"].with_user(self.salesman))
        form.partner_id = self.customer_contact
        form.flow_agreement_id = self.agreement
        self.assertEqual(form.payment_term_id, self.payment_term)
        with form.order_line.new() as line:
            line.product_id = self.service
            line.product_uom_qty = 3
        with form.order_line.new() as line:
            line.product_id = self.product
            line.product_uom_qty = 2
        order = form.save()
        self.assertRecordValues(
            order.order_line,
            [
                {
                    "flow_agreement_line_id": self.value_line.id,
                    "price_unit": 40.0,
                    "flow_discount_1": 0.0,
                    "flow_discount_2": 0.0,
                },
                {
                    "flow_agreement_line_id": self.qty_line.id,
                    "price_unit": 80.0,
                    "flow_discount_1": 10.0,
                    "flow_discount_2": 5.0,
                },
            ],
        )

    def test_enforced_maximum(self):
        order = self._create_order(qty=60)
        order.with_user(self.salesman).action_confirm()
        self.assertEqual(self.qty_line.remaining, 40.0)
        too_much = self._create_order(qty=50)
        with self.assertRaisesRegex(UserError, "only 40.0 remains"):
            too_much.with_user(self.salesman).action_confirm()
        self.assertEqual(too_much.state, "draft")
        # above the maximum per call-off
        self.qty_line.max_enforced = False
        big = self._create_order(qty=61)
        with self.assertRaisesRegex(UserError, "at most 60"):
            big.action_confirm()

    def test_unenforced_overrun_warns(self):
        order = self._create_order(product=self.service, qty=30)  # 1200 > 1000
        warning = order.order_line._onchange_flow_agreement_remaining()
        self.assertIn("goes beyond", warning["warning"]["message"])
        order.with_user(self.salesman).action_confirm()
        self.assertEqual(order.state, "sale")
        self.assertIn(
            "Beyond the agreement", " ".join(order.message_ids.mapped("body"))
        )
        self.assertAlmostEqual(self.value_line.remaining, -200.0)

    def test_two_orders_confirmed_together_cannot_overrun(self):
        orders = self._create_order(qty=50) | self._create_order(qty=50)
        orders |= self._create_order(qty=10)
        with self.assertRaises(UserError):
            orders.with_user(self.salesman).action_confirm()

    # ------------------------------------------------------------------
    # Consumption
    # ------------------------------------------------------------------
    def test_consumption_delivery_invoice_return_credit_note(self):
        order = self._create_order(qty=50)
        order.with_user(self.salesman).action_confirm()
        picking = self._deliver(order, 30)
        invoice = self._invoice(order)
        self.assertRecordValues(
            self.qty_line,
            [
                {
                    "ordered": 50.0,
                    "delivered": 30.0,
                    "invoiced": 30.0,
                    "consumed": 50.0,
                    "remaining": 50.0,
                    "consumption_percent": 50.0,
                }
            ],
        )
        self.assertEqual(self.agreement.order_count, 1)
        self.assertEqual(self.agreement.invoice_count, 1)
        # a return of 10 gives them back
        self._return(picking, 10)
        self.qty_line.invalidate_recordset()
        self.assertRecordValues(
            self.qty_line,
            [{"delivered": 20.0, "consumed": 40.0, "remaining": 60.0}],
        )
        # a credit note of the 30 invoiced gives back 30 (not 30 + 10)
        refund = invoice.with_user(self.accountant)._reverse_moves()
        refund.action_post()
        self.qty_line.invalidate_recordset()
        self.assertRecordValues(
            self.qty_line,
            [{"invoiced": 0.0, "consumed": 20.0, "remaining": 80.0}],
        )
        self.agreement.invalidate_recordset()
        self.assertEqual(self.agreement.invoice_count, 2)

    def _reversal(self, invoice):
        return (
            self.env["account.move.reversal"]
            .with_user(self.accountant)
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"journal_id": invoice.journal_id.id, "reason": "Wrong price"})
        )

    def test_consumption_credit_notes_given_back(self):
        order = self._create_order(product=self.service, qty=5)
        order.with_user(self.salesman).action_confirm()
        invoice = self._invoice(order)
        self.assertRecordValues(
            self.value_line, [{"invoiced": 200.0, "consumed": 200.0}]
        )
        # "Reverse and create a new invoice": the credit note's quantity is
        # invoiced again, nothing is given back
        action = self._reversal(invoice).modify_moves()
        new_invoice = self.env["account.move"].browse(action["res_id"])
        self.assertEqual(new_invoice.move_type, "out_invoice")
        new_invoice.with_user(self.accountant).action_post()
        self.value_line.invalidate_recordset()
        self.assertRecordValues(
            self.value_line,
            [{"invoiced": 200.0, "consumed": 200.0, "remaining": 800.0}],
        )
        # a plain credit note of the invoice gives the consumption back
        self._reversal(new_invoice).refund_moves()
        refund = new_invoice.reversal_move_ids
        refund.with_user(self.accountant).action_post()
        self.value_line.invalidate_recordset()
        self.assertRecordValues(
            self.value_line,
            [{"invoiced": 0.0, "consumed": 0.0, "remaining": 1000.0}],
        )

    def test_consumption_value_and_category(self):
        order = self._create_order(product=self.service, qty=5)
        order.order_line.qty_delivered = 2
        order.with_user(self.salesman).action_confirm()
        order_2 = self._create_order(product=self.categ_product, qty=10)
        order_2.with_user(self.salesman).action_confirm()
        self.assertRecordValues(
            self.value_line | self.categ_line,
            [
                {"ordered": 200.0, "remaining": 800.0, "consumption_percent": 20.0},
                {"ordered": 240.0, "remaining": 260.0, "consumption_percent": 48.0},
            ],
        )
        invoice = self._invoice(order)
        self.value_line.invalidate_recordset()
        self.assertEqual(self.value_line.invoiced, 200.0)
        self.agreement.invalidate_recordset()
        self.assertAlmostEqual(self.agreement.amount_consumed, 440.0)
        self.assertTrue(invoice)

    def test_consumption_query_count_does_not_grow(self):
        def build(count):
            agreement = self.env["sale.flow.agreement"].create(
                {
                    "partner_id": self.customer_po.id,
                    "date_end": fields.Date.today() + timedelta(days=5),
                    "line_ids": [
                        Command.create(
                            {
                                "product_id": self.service.id,
                                "qty_committed": 10,
                                "price_unit": 5,
                            }
                        )
                        for _i in range(count)
                    ],
                }
            )
            agreement.action_activate()
            order = self._create_order(
                partner=self.customer_po, client_order_ref="PO", lines=0
            )
            order.order_line = [
                Command.create(
                    {
                        "product_id": self.service.id,
                        "product_uom_qty": 1,
                        "flow_agreement_line_id": line.id,
                    }
                )
                for line in agreement.line_ids
            ]
            order.with_user(self.salesman).action_confirm()
            return agreement

        def read(agreement):
            self.env.invalidate_all()
            agreement = agreement.browse(agreement.id)
            agreement.line_ids.mapped("remaining")
            return agreement.consumption_percent

        small, large = build(20), build(200)
        self.env.flush_all()
        self.env.invalidate_all()
        queries = self.cr.sql_log_count
        self.assertAlmostEqual(read(small), 10.0)
        queries = self.cr.sql_log_count - queries
        _logger.info("Agreement consumption: %s queries (20 and 200 lines)", queries)
        with self.assertQueryCount(queries):
            self.assertAlmostEqual(read(large), 10.0)

    # ------------------------------------------------------------------
    # Call-offs
    # ------------------------------------------------------------------
    def test_calloff_wizard(self):
        # the salesperson of the agreement calls off
        action = self.agreement.with_user(self.salesman).action_open_calloff()
        form = Form(
            self.env["sale.flow.agreement.calloff"]
            .with_user(self.salesman)
            .with_context(**action["context"])
        )
        form.date = fields.Date.today() + timedelta(days=7)
        with form.line_ids.edit(0) as line:
            self.assertEqual(line.remaining, 100.0)
            line.quantity = 20
        wizard = form.save()
        order = self.env["sale.order"].browse(wizard.action_create()["res_id"])
        self.assertRecordValues(
            order,
            [
                {
                    "state": "draft",
                    "flow_agreement_id": self.agreement.id,
                    "payment_term_id": self.payment_term.id,
                }
            ],
        )
        self.assertRecordValues(
            order.order_line,
            [
                {
                    "product_uom_qty": 20,
                    "price_unit": 80.0,
                    "flow_discount_2": 5.0,
                    "flow_agreement_line_id": self.qty_line.id,
                }
            ],
        )
        # confirmed call-off
        wizard = (
            self.env["sale.flow.agreement.calloff"]
            .with_user(self.salesman)
            .create({"agreement_id": self.agreement.id, "confirm": True})
        )
        wizard.line_ids.filtered(
            lambda line: line.agreement_line_id == self.value_line
        ).quantity = 2
        order = self.env["sale.order"].browse(wizard.action_create()["res_id"])
        self.assertEqual(order.state, "sale")
        # beyond an enforced maximum, or not a positive number: refused,
        # nothing created
        count = self.env["sale.order"].search_count(
            [("flow_agreement_id", "=", self.agreement.id)]
        )
        for qty in (61, -5):
            wizard = (
                self.env["sale.flow.agreement.calloff"]
                .with_user(self.salesman)
                .create({"agreement_id": self.agreement.id})
            )
            wizard.line_ids[0].quantity = qty
            with self.assertRaises(UserError):
                wizard.action_create()
        self.assertEqual(
            self.env["sale.order"].search_count(
                [("flow_agreement_id", "=", self.agreement.id)]
            ),
            count,
        )

    def test_schedule_cron(self):
        self.qty_line.schedule_ids = [
            Command.create({"date": fields.Date.today(), "quantity": 5}),
            Command.create(
                {"date": fields.Date.today() + timedelta(days=30), "quantity": 5}
            ),
        ]
        Agreement = self.env["sale.flow.agreement"]
        Agreement._cron_flow_schedule_calloffs()
        due, later = self.qty_line.schedule_ids
        self.assertTrue(due.order_id)
        self.assertFalse(later.order_id)
        self.assertRecordValues(
            due.order_id.order_line,
            [{"product_uom_qty": 5, "flow_agreement_line_id": self.qty_line.id}],
        )
        Agreement._cron_flow_schedule_calloffs()
        self.assertEqual(
            self.env["sale.order"].search_count(
                [("flow_agreement_id", "=", self.agreement.id)]
            ),
            1,
        )

    # ------------------------------------------------------------------
    # Crons, activities, revisions, access
    # ------------------------------------------------------------------
    def test_expiry_cron_and_activities(self):
        Agreement = self.env["sale.flow.agreement"]
        with freeze_time(self.agreement.date_end - timedelta(days=10)):
            Agreement._cron_flow_expire_agreements()
        self.assertEqual(self.agreement.state, "active")
        self.assertTrue(self.agreement.flow_expiry_notified)
        self.assertEqual(len(self.agreement.activity_ids), 1)
        with freeze_time(self.agreement.date_end + timedelta(days=1)):
            Agreement._cron_flow_expire_agreements()
        self.assertEqual(self.agreement.state, "expired")
        order = self._create_order(qty=1)
        self.assertFalse(order.order_line.flow_agreement_line_id)

    def test_threshold_activity(self):
        self.agreement.expiry_notice_days = 0
        order = self._create_order(qty=50)
        order.with_user(self.salesman).action_confirm()
        self.assertFalse(self.agreement.activity_ids)
        order = self._create_order(qty=30)
        order.with_user(self.salesman).action_confirm()
        self.assertTrue(self.agreement.flow_threshold_notified)
        self.assertEqual(len(self.agreement.activity_ids), 1)
        self.assertEqual(self.agreement.activity_ids.user_id, self.salesman)

    def test_amend_keeps_history(self):
        self._create_order(qty=10).with_user(self.salesman).action_confirm()
        # the sales manager amends and activates
        action = self.agreement.with_user(self.manager).action_amend()
        new = (
            self.env["sale.flow.agreement"]
            .with_user(self.manager)
            .browse(action["res_id"])
        )
        self.assertRecordValues(
            new,
            [
                {
                    "state": "draft",
                    "version": 2,
                    "previous_version_id": self.agreement.id,
                }
            ],
        )
        new.line_ids[0].qty_committed = 150
        new.line_ids[1].unlink()
        new.terms = "<p>Delivery within 3 days.</p>"
        new.action_activate()
        self.assertEqual(self.agreement.state, "closed")
        self.assertEqual(self.agreement.next_version_id, new)
        self.assertRecordValues(
            new.line_ids[0], [{"consumed": 10.0, "remaining": 140.0}]
        )
        note = new.amendment_note
        self.assertIn("150", note)
        self.assertIn("Line removed", note)
        self.assertIn("Terms", note)

    def test_access_rights(self):
        with self.assertRaises(AccessError):
            self.agreement.with_user(self.salesman_2).read(["name"])
        self.agreement.with_user(self.salesman).read(["name", "amount_remaining"])
        self.agreement.with_user(self.manager).write({"title": "Managed"})
        self.agreement.with_user(self.accountant).read(["amount_consumed"])
        with self.assertRaises(AccessError):
            self.agreement.with_user(self.accountant).write({"title": "No"})

    def test_reports_render(self):
        order = self._create_order(qty=5)
        order.with_user(self.salesman).action_confirm()
        Report = self.env["ir.actions.report"]
        for ref in (
            "sales_order_flow.action_report_sale_flow_agreement",
            "sales_order_flow.action_report_sale_flow_agreement_consumption",
        ):
            html = Report._render_qweb_html(ref, self.agreement.ids)[0].decode()
            self.assertIn(self.agreement.name, html)
            self.assertIn("Remaining", html)
        self.assertIn(order.name, html)

    # ------------------------------------------------------------------
    # Issue 9: amendments, currencies and units, several salespeople
    # ------------------------------------------------------------------
    def _other_currency(self):
        """A currency other than the company's, at 2 per company unit."""
        currency = self.env.ref("base.EUR")
        if currency == self.currency:
            currency = self.env.ref("base.CHF")
        currency.active = True
        self.env["res.currency.rate"].search(
            [
                ("currency_id", "=", currency.id),
                ("company_id", "in", [self.company.id, False]),
            ]
        ).unlink()
        self.env["res.currency.rate"].create(
            {
                "currency_id": currency.id,
                "company_id": self.company.id,
                "name": fields.Date.today() - timedelta(days=30),
                "rate": 2.0,
            }
        )
        pricelist = self.env["product.pricelist"].create(
            {"name": "Other Currency", "currency_id": currency.id}
        )
        return currency, pricelist

    def test_amend_never_reprices_confirmed_orders(self):
        # the manager agrees 700 with 5 + 2 %
        self.qty_line.with_user(self.manager).write(
            {"price_unit": 700.0, "discount_1": 5.0, "discount_2": 2.0}
        )
        confirmed = self._create_order(qty=10).with_user(self.salesman)
        confirmed.action_confirm()
        quotation = self._create_order(qty=5).with_user(self.salesman)
        line = confirmed.order_line
        self.assertRecordValues(
            line,
            [{"price_unit": 700.0, "flow_discount_1": 5.0, "flow_discount_2": 2.0}],
        )
        subtotal = line.price_subtotal
        # the manager amends the agreement to 650 and activates the new version
        action = self.agreement.with_user(self.manager).action_amend()
        new = (
            self.env["sale.flow.agreement"]
            .with_user(self.manager)
            .browse(action["res_id"])
        )
        new_qty_line = new.line_ids.filtered(lambda a: a.product_id == self.product)
        new_qty_line.write({"price_unit": 650.0, "discount_2": 3.0})
        new.action_activate()
        self.assertEqual(self.agreement.state, "closed")
        self.assertRecordValues(
            line,
            [
                {
                    "flow_agreement_line_id": new_qty_line.id,
                    "price_unit": 700.0,
                    "flow_discount_1": 5.0,
                    "flow_discount_2": 2.0,
                    "price_subtotal": subtotal,
                }
            ],
        )
        # its consumption counts under the new version
        self.assertRecordValues(new_qty_line, [{"consumed": 10.0, "remaining": 90.0}])
        # a quotation follows the new version
        self.assertRecordValues(
            quotation.order_line,
            [
                {
                    "flow_agreement_line_id": new_qty_line.id,
                    "price_unit": 650.0,
                    "flow_discount_1": 5.0,
                    "flow_discount_2": 3.0,
                }
            ],
        )

    def test_agreed_price_in_the_line_unit(self):
        dozen = self.env.ref("uom.product_uom_dozen")
        order = (
            self.env["sale.order"]
            .with_user(self.salesman)
            .create(
                {
                    "partner_id": self.customer.id,
                    "order_line": [
                        Command.create(
                            {
                                "product_id": self.product.id,
                                "product_uom": dozen.id,
                                "product_uom_qty": 2,
                            }
                        )
                    ],
                }
            )
        )
        line = order.order_line
        self.assertEqual(line.flow_agreement_line_id, self.qty_line)
        self.assertRecordValues(
            line,
            [{"price_unit": 960.0, "flow_discount_1": 10.0, "flow_discount_2": 5.0}],
        )
        # the onchange path gives the same price
        line.price_unit = 1.0
        line._onchange_flow_agreement_line_id()
        self.assertEqual(line.price_unit, 960.0)
        self.assertEqual(
            self.qty_line._flow_get_order_line_pricing(line)["price_unit"], 960.0
        )
        # 2 dozen use 24 units of the commitment
        self.assertEqual(order._flow_agreement_requests()[self.qty_line], 24.0)
        order.with_user(self.salesman).action_confirm()
        self.assertRecordValues(self.qty_line, [{"consumed": 24.0, "remaining": 76.0}])

    def test_agreed_price_and_value_consumption_in_other_currency(self):
        currency, pricelist = self._other_currency()
        order = (
            self.env["sale.order"]
            .with_user(self.salesman)
            .create(
                {
                    "partner_id": self.customer.id,
                    "pricelist_id": pricelist.id,
                    "order_line": [
                        Command.create(
                            {"product_id": self.product.id, "product_uom_qty": 1}
                        ),
                        Command.create(
                            {"product_id": self.service.id, "product_uom_qty": 5}
                        ),
                    ],
                }
            )
        )
        self.assertEqual(order.currency_id, currency)
        goods, service = order.order_line
        self.assertEqual(goods.price_unit, 160.0)  # 80 at 2 per unit
        self.assertEqual(service.price_unit, 80.0)  # 40 at 2 per unit
        self.assertEqual(service.price_subtotal, 400.0)
        # the value commitment counts in the agreement's currency
        self.assertAlmostEqual(order._flow_agreement_requests()[self.value_line], 200.0)
        order.with_user(self.salesman).action_confirm()
        self.assertRecordValues(
            self.value_line,
            [{"ordered": 200.0, "consumed": 200.0, "remaining": 800.0}],
        )
        self.agreement.invalidate_recordset()
        self.assertAlmostEqual(self.agreement.amount_ordered, 200.0 + 160.0 * 0.855 / 2)
        # a call-off under a pricelist in that currency gets the converted price
        self.agreement.pricelist_id = pricelist
        wizard = (
            self.env["sale.flow.agreement.calloff"]
            .with_user(self.salesman)
            .create({"agreement_id": self.agreement.id})
        )
        wizard.line_ids.filtered(
            lambda line: line.agreement_line_id == self.qty_line
        ).quantity = 2
        calloff = self.env["sale.order"].browse(wizard.action_create()["res_id"])
        self.assertEqual(calloff.currency_id, currency)
        self.assertRecordValues(
            calloff.order_line,
            [{"price_unit": 160.0, "flow_discount_1": 10.0, "flow_discount_2": 5.0}],
        )

    def test_salesperson_confirms_orders_under_anothers_agreement(self):
        other_customer = self.env["res.partner"].create({"name": "Sue's Customer"})
        other_agreement = self._create_agreement(
            partner_id=other_customer.id, user_id=self.salesman_2.id
        )
        other_agreement.with_user(self.manager).action_activate()
        # orders placed against the agreements, with tracking (as in production)
        own = self._create_order(qty=10, flow_agreement_id=self.agreement.id)
        other = self._create_order(
            partner=other_customer, qty=20, flow_agreement_id=other_agreement.id
        )
        self.assertEqual(
            other.order_line.flow_agreement_line_id, other_agreement.line_ids[0]
        )
        orders = (
            (own | other).with_user(self.salesman).with_context(tracking_disable=False)
        )
        self.env.invalidate_all()  # what the salesperson reads, from the database
        orders.with_user(self.salesman).action_confirm()
        self.assertEqual(orders.mapped("state"), ["sale", "sale"])
        self.assertEqual(other_agreement.line_ids[0].consumed, 20.0)
        # the agreement itself stays hidden from the salesperson
        with self.assertRaises(AccessError):
            other_agreement.with_user(self.salesman).read(["name"])
        # and its enforced maximum holds for orders confirmed together
        too_much = self._create_order(partner=other_customer, qty=50) | (
            self._create_order(partner=other_customer, qty=50)
        )
        self.env.invalidate_all()
        with self.assertRaisesRegex(UserError, "together"):
            too_much.with_user(self.salesman).action_confirm()

    def test_calloff_as_an_integrator_would(self):
        # what docs/API.md shows: one create with the lines, then action_create
        wizard = (
            self.env["sale.flow.agreement.calloff"]
            .with_user(self.salesman)
            .create(
                {
                    "agreement_id": self.agreement.id,
                    "date": fields.Date.today() + timedelta(days=3),
                    "line_ids": [
                        Command.create(
                            {"agreement_line_id": self.qty_line.id, "quantity": 5}
                        )
                    ],
                }
            )
        )
        action = wizard.action_create()
        self.assertEqual(action["res_model"], "sale.order")
        order = self.env["sale.order"].browse(action["res_id"])
        self.assertRecordValues(
            order.order_line,
            [
                {
                    "product_id": self.product.id,
                    "product_uom_qty": 5,
                    "price_unit": 80.0,
                    "flow_agreement_line_id": self.qty_line.id,
                }
            ],
        )
        self.assertEqual(order.user_id, self.salesman)
