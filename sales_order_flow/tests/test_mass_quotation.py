from unittest.mock import patch

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form

from .common import SaleFlowCommon


class TestMassQuotation(SaleFlowCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Run = cls.env["sale.flow.mass.quotation"]
        cls.SaleOrder = cls.env["sale.order"]
        cls.pricelist_a, cls.pricelist_b = cls.env["product.pricelist"].create(
            [
                {
                    "name": f"Flow Pricelist {code}",
                    "company_id": cls.company.id,
                    "currency_id": cls.currency.id,
                    "item_ids": [
                        Command.create(
                            {
                                "applied_on": "0_product_variant",
                                "product_id": cls.product.id,
                                "compute_price": "fixed",
                                "fixed_price": price,
                            }
                        )
                    ],
                }
                for code, price in (("A", 80.0), ("B", 90.0))
            ]
        )
        cls.term_30 = cls.env.ref("account.account_payment_term_30days")
        cls.term_eom = cls.env.ref("account.account_payment_term_end_following_month")
        cls.customer_a, cls.customer_b = cls.env["res.partner"].create(
            [
                {
                    "name": "Mass Customer A",
                    "is_company": True,
                    "email": "a@example.com",
                    "property_product_pricelist": cls.pricelist_a.id,
                    "property_payment_term_id": cls.term_30.id,
                },
                {
                    "name": "Mass Customer B",
                    "is_company": True,
                    "email": "b@example.com",
                    "property_product_pricelist": cls.pricelist_b.id,
                    "property_payment_term_id": cls.term_eom.id,
                },
            ]
        )
        cls.customer_a_invoice, cls.customer_a_delivery = cls.env["res.partner"].create(
            [
                {
                    "name": "A Accounting",
                    "type": "invoice",
                    "parent_id": cls.customer_a.id,
                },
                {
                    "name": "A Warehouse",
                    "type": "delivery",
                    "parent_id": cls.customer_a.id,
                },
            ]
        )
        cls.source = cls.SaleOrder.create(
            {
                "partner_id": cls.customer.id,
                "user_id": cls.salesman.id,
                "order_line": [
                    Command.create(
                        {"display_type": "line_section", "name": "Offer", "sequence": 1}
                    ),
                    Command.create(
                        {
                            "product_id": cls.product.id,
                            "name": "Widget, spring offer",
                            "product_uom_qty": 2.0,
                            "discount": 5.0,
                            "price_unit": 999.0,
                            "sequence": 2,
                        }
                    ),
                    Command.create(
                        {
                            "product_id": cls.service.id,
                            "product_uom_qty": 3.0,
                            "sequence": 3,
                        }
                    ),
                    Command.create(
                        {"display_type": "line_note", "name": "Thanks!", "sequence": 4}
                    ),
                ],
            }
        )

    def _run(self, partners=None, user=None, **values):
        """A draft run of the manager (sales managers run mass quotations)."""
        values.setdefault("source_order_id", self.source.id)
        if partners is not None:
            values["partner_ids"] = [Command.set(partners.ids)]
        return self.Run.with_user(user or self.manager).create(values)

    def _line(self, run, partner):
        return run.line_ids.filtered(lambda line: line.partner_id == partner)

    # ------------------------------------------------------------------
    # Per-customer quotations
    # ------------------------------------------------------------------
    def test_per_customer_pricelist_terms_and_addresses(self):
        run = self._run(self.customer_a | self.customer_b, name="Spring offer")
        run.action_generate()

        self.assertRecordValues(
            run,
            [
                {
                    "state": "done",
                    "created_count": 2,
                    "sent_count": 0,
                    "failed_count": 0,
                    "progress": 100.0,
                }
            ],
        )
        order_a = self._line(run, self.customer_a).order_id
        order_b = self._line(run, self.customer_b).order_id
        self.assertRecordValues(
            order_a | order_b,
            [
                {
                    "partner_id": self.customer_a.id,
                    "pricelist_id": self.pricelist_a.id,
                    "payment_term_id": self.term_30.id,
                    "partner_invoice_id": self.customer_a_invoice.id,
                    "partner_shipping_id": self.customer_a_delivery.id,
                    "origin": "Spring offer",
                    "user_id": self.manager.id,
                    "state": "draft",
                },
                {
                    "partner_id": self.customer_b.id,
                    "pricelist_id": self.pricelist_b.id,
                    "payment_term_id": self.term_eom.id,
                    "partner_invoice_id": self.customer_b.id,
                    "partner_shipping_id": self.customer_b.id,
                    "origin": "Spring offer",
                    "user_id": self.manager.id,
                    "state": "draft",
                },
            ],
        )
        # lines copied (sections, notes, descriptions, discounts), prices from
        # each customer's pricelist, not from the source quotation
        fields = ["display_type", "name", "product_id", "product_uom_qty", "discount"]
        expected = [
            ["line_section", "Offer", False, 0.0, 0.0],
            [False, "Widget, spring offer", self.product.id, 2.0, 5.0],
            [False, self.service.display_name, self.service.id, 3.0, 0.0],
            ["line_note", "Thanks!", False, 0.0, 0.0],
        ]
        expected = [dict(zip(fields, values, strict=True)) for values in expected]
        self.assertRecordValues(order_a.order_line, expected)
        self.assertRecordValues(order_b.order_line, expected)
        self.assertEqual(order_a.order_line[1].price_unit, 80.0)
        self.assertEqual(order_b.order_line[1].price_unit, 90.0)
        self.assertEqual(order_a.order_line[2].price_unit, 50.0)
        self.assertEqual(self._line(run, self.customer_a).state, "created")
        # the run keeps an audit trail
        self.assertIn("2 quotations created", run.message_ids[0].body)
        action = run.action_view_orders()
        self.assertEqual(
            self.SaleOrder.search(action["domain"]), order_a | order_b, action
        )

    def test_from_template(self):
        template = self.env["sale.order.template"].create(
            {
                "name": "Flow Template",
                "sale_order_template_line_ids": [
                    Command.create(
                        {"display_type": "line_section", "name": "Starter kit"}
                    ),
                    Command.create(
                        {"product_id": self.product.id, "product_uom_qty": 4}
                    ),
                ],
                "sale_order_template_option_ids": [
                    Command.create({"product_id": self.service.id, "quantity": 2})
                ],
            }
        )
        run = self._run(
            self.customer_a, source_order_id=False, sale_order_template_id=template.id
        )
        run.action_generate()
        order = run.line_ids.order_id
        self.assertEqual(len(order), 1)
        self.assertRecordValues(
            order,
            [
                {
                    "sale_order_template_id": template.id,
                    "pricelist_id": self.pricelist_a.id,
                    "amount_untaxed": 320.0,
                }
            ],
        )
        self.assertRecordValues(
            order.order_line,
            [
                {
                    "display_type": "line_section",
                    "product_id": False,
                    "product_uom_qty": 0,
                    "price_unit": 0,
                },
                {
                    "display_type": False,
                    "product_id": self.product.id,
                    "product_uom_qty": 4,
                    "price_unit": 80,
                },
            ],
        )
        self.assertRecordValues(
            order.sale_order_option_ids,
            [{"product_id": self.service.id, "quantity": 2, "price_unit": 50}],
        )

    def test_form_and_deduplicated_targets(self):
        """The form switches sources; list and filter together count each
        customer once."""
        with Form(self.Run.with_user(self.manager)) as form:
            form.sale_order_template_id = self.env["sale.order.template"].create(
                {"name": "Unused"}
            )
            form.source_order_id = self.source
            self.assertFalse(form.sale_order_template_id)
            form.partner_ids.add(self.customer_a)
            form.use_partner_domain = True
            self.assertEqual(form.partner_domain, "[('customer_rank', '>', 0)]")
            form.partner_domain = (
                f"[('id', 'in', {[self.customer_a.id, self.customer_b.id]})]"
            )
            self.assertEqual(form.customer_count, 2)
        run = form.record
        run.action_generate()
        self.assertEqual(run.line_ids.partner_id, self.customer_a | self.customer_b)
        self.assertEqual(run.created_count, 2)
        with self.assertRaises(UserError):
            run.action_generate()  # only once

    def test_filter_and_count_agree(self):
        """What the filter widget counts is what the run targets: an empty
        filter matches every contact once it is switched on, and a new run
        without a filter targets nobody (and is not saved by the form)."""
        with Form(self.Run.with_user(self.manager)) as form:
            form.source_order_id = self.source
            self.assertEqual(form.customer_count, 0)
            form.use_partner_domain = True
            partners = self.env["res.partner"].with_user(self.manager)
            customers = partners.search_count([("customer_rank", ">", 0)])
            self.assertEqual(form.customer_count, customers)
            form.partner_domain = "[]"
            self.assertEqual(form.customer_count, partners.search_count([]))
            form.use_partner_domain = False
            self.assertEqual(form.customer_count, 0)
        self.assertFalse(form.record._get_target_partners())

    # ------------------------------------------------------------------
    # Bad input and failures
    # ------------------------------------------------------------------
    def test_no_customers_or_no_source(self):
        orders_before = self.SaleOrder.search_count([])
        run = self._run()
        with self.assertRaisesRegex(UserError, "Select at least one customer"):
            run.action_generate()
        run.partner_domain = "[]"
        with self.assertRaisesRegex(UserError, "Select at least one customer"):
            run.action_generate()
        run.partner_domain = "[('id', '=', 0)]"
        with self.assertRaisesRegex(UserError, "Select at least one customer"):
            run.action_generate()
        self.assertFalse(run.line_ids)
        self.assertEqual(run.state, "draft")

        no_source = self._run(self.customer_a, source_order_id=False)
        with self.assertRaisesRegex(UserError, "source quotation or a quotation"):
            no_source.action_generate()
        self.assertFalse(no_source.line_ids)
        self.assertEqual(self.SaleOrder.search_count([]), orders_before)

        with self.assertRaises(ValidationError):
            run.partner_domain = "[('no_such_field', '=', 1)]"
        with self.assertRaises(ValidationError):
            run.partner_domain = "not a domain"

    def test_failed_customers_reported_others_created(self):
        other_company = self.env["res.company"].create({"name": "Other Flow Co"})
        foreign = self.env["res.partner"].create(
            {"name": "Foreign Customer", "company_id": other_company.id}
        )
        archived = self.env["res.partner"].create(
            {"name": "Archived Customer", "active": False}
        )
        # a pricelist of another company: creating its quotation breaks the
        # company consistency check, inside the batch
        foreign_pricelist = self.env["product.pricelist"].create(
            {"name": "Other Co Prices", "company_id": other_company.id}
        )
        broken = self.env["res.partner"].create({"name": "Broken Customer"})
        broken.property_product_pricelist = foreign_pricelist
        run = self._run(self.customer_a | foreign | archived | broken | self.customer_b)
        run.action_generate()

        self.assertRecordValues(
            run, [{"state": "done", "created_count": 2, "failed_count": 3}]
        )
        self.assertRecordValues(
            self._line(run, foreign) | self._line(run, archived),
            [
                {"state": "failed", "order_id": False},
                {"state": "failed", "order_id": False},
            ],
        )
        self.assertIn("Other Flow Co", self._line(run, foreign).message)
        self.assertIn("archived", self._line(run, archived).message)
        broken_line = self._line(run, broken)
        self.assertEqual(broken_line.state, "failed")
        self.assertFalse(broken_line.order_id)
        self.assertTrue(broken_line.message)
        self.assertNotIn("Traceback", broken_line.message)
        # nothing half-created for the failed customers, the others are whole
        self.assertFalse(
            self.SaleOrder.search([("partner_id", "in", (foreign | broken).ids)])
        )
        self.assertFalse(
            self.env["sale.order.line"].search(
                [("order_partner_id", "in", (foreign | broken).ids)]
            )
        )
        for customer in self.customer_a | self.customer_b:
            line = self._line(run, customer)
            self.assertEqual(line.state, "created")
            self.assertEqual(len(line.order_id.order_line), 4)
        action = run.action_view_failed()
        failed = self.env["sale.flow.mass.quotation.line"].search(
            action["domain"] + [("state", "=", "failed")]
        )
        self.assertEqual(failed.partner_id, foreign | archived | broken)

    def test_all_failed_run_is_failed(self):
        archived = self.env["res.partner"].create(
            {"name": "Archived Customer", "active": False}
        )
        run = self._run(archived)
        run.action_generate()
        self.assertRecordValues(
            run, [{"state": "failed", "failed_count": 1, "progress": 100.0}]
        )

    # ------------------------------------------------------------------
    # Sending
    # ------------------------------------------------------------------
    def test_send_marks_sent_and_posts_email(self):
        no_email = self.env["res.partner"].create({"name": "No Email Customer"})
        run = self._run(
            self.customer_a | self.customer_b | no_email, send_quotations=True
        )
        run.action_generate()

        self.assertRecordValues(
            run, [{"created_count": 3, "sent_count": 2, "failed_count": 0}]
        )
        for customer in self.customer_a | self.customer_b:
            line = self._line(run, customer)
            self.assertEqual(line.state, "sent")
            self.assertEqual(line.order_id.state, "sent")
            message = line.order_id.message_ids.filtered(
                lambda m, order=line.order_id: order.name in (m.subject or "")
            )
            self.assertEqual(len(message), 1)
            self.assertEqual(message.message_type, "comment")
            self.assertIn(customer, message.partner_ids)
            # the customer is notified by email
            notifications = message.sudo().notification_ids
            self.assertIn(customer, notifications.res_partner_id)
            self.assertEqual(set(notifications.mapped("notification_type")), {"email"})
        line = self._line(run, no_email)
        self.assertEqual(line.state, "created")
        self.assertEqual(line.order_id.state, "draft")
        self.assertIn("no email address", line.message)

    def test_sending_runs_go_to_cron_sooner(self):
        """Sending renders a PDF per quotation: beyond a few customers it is
        left to the cron, in small batches."""
        Run = type(self.Run)
        with (
            patch.object(Run, "_flow_send_immediate_limit", 1),
            patch.object(Run, "_flow_send_batch_size", 1),
        ):
            run = self._run(self.customer_a | self.customer_b, send_quotations=True)
            run.action_generate()
            self.assertEqual(run.state, "running")
            self.assertEqual(run._flow_get_batch_size(), 1)
            self.Run._cron_process_mass_quotations()
        self.assertRecordValues(
            run, [{"state": "done", "sent_count": 2, "progress": 100.0}]
        )

    def test_approval_blocked_not_sent(self):
        """Whatever approval blocks is created but neither sent nor marked."""
        reason = "Waiting for approval by Alice Approver."
        original = type(self.SaleOrder)._flow_approval_blockers

        def blockers(order):
            if order.partner_id == self.customer_b:
                return [reason]
            return original(order)

        with patch.object(type(self.SaleOrder), "_flow_approval_blockers", blockers):
            run = self._run(self.customer_a | self.customer_b, send_quotations=True)
            run.action_generate()
        blocked = self._line(run, self.customer_b)
        self.assertEqual(blocked.state, "created")
        self.assertEqual(blocked.order_id.state, "draft")
        self.assertIn(reason, blocked.message)
        self.assertEqual(self._line(run, self.customer_a).state, "sent")
        self.assertEqual(run.sent_count, 1)

    def test_approval_rule_blocks_sending(self):
        if "sale.flow.approval.rule" not in self.env:
            self.skipTest("approval rules are not available")
        self.env["sale.flow.approval.rule"].create(
            {
                "name": "Discount above 3 %",
                "company_id": self.company.id,
                "check_discount": True,
                "min_discount": 3.0,
                "approver_user_ids": [Command.set(self.approver.ids)],
            }
        )
        run = self._run(self.customer_a, send_quotations=True)
        run.action_generate()
        line = self._line(run, self.customer_a)
        self.assertTrue(line.order_id)
        self.assertEqual(line.state, "created")
        self.assertEqual(line.order_id.state, "draft")
        self.assertIn("not sent", line.message)

    # ------------------------------------------------------------------
    # Large runs: cron, progress, batches
    # ------------------------------------------------------------------
    def test_large_run_goes_through_cron(self):
        partners = self.env["res.partner"].create(
            [{"name": f"Bulk Customer {i}"} for i in range(250)]
        )
        run = self._run(partners)
        cron = self.env.ref("sales_order_flow.ir_cron_sale_flow_mass_quotation")
        triggers = self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)])
        run.action_generate()

        self.assertRecordValues(
            run, [{"state": "running", "created_count": 0, "progress": 0.0}]
        )
        self.assertEqual(len(run.line_ids), 250)
        self.assertTrue(
            self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]) - triggers
        )

        # two batches per call: the first call leaves work and says so
        progress = self.env["ir.cron.progress"].create(
            {"cron_id": cron.id, "remaining": 0, "done": 0}
        )
        Run = self.Run.with_context(ir_cron_progress_id=progress.id)
        with patch.object(type(self.Run), "_flow_cron_batches", 2):
            Run._cron_process_mass_quotations()
        run.invalidate_recordset()
        self.assertRecordValues(
            run, [{"state": "running", "created_count": 200, "progress": 80.0}]
        )
        self.assertRecordValues(progress, [{"done": 200, "remaining": 50}])

        Run._cron_process_mass_quotations()
        run.invalidate_recordset()
        self.assertRecordValues(
            run,
            [
                {
                    "state": "done",
                    "created_count": 250,
                    "failed_count": 0,
                    "progress": 100.0,
                }
            ],
        )
        self.assertRecordValues(progress, [{"done": 50, "remaining": 0}])
        self.assertEqual(self.SaleOrder.search_count([("origin", "=", run.name)]), 250)
        # the orders are the salesperson's, as if they had made them
        self.assertEqual(run.line_ids.order_id.user_id, self.manager)

    def test_batch_queries_do_not_grow_badly(self):
        """Creating a batch costs a bounded number of queries per customer (the
        order numbers and mail followers), never one per line or per field."""
        counts = {}
        for size in (10, 30):
            partners = self.env["res.partner"].create(
                [{"name": f"Query Customer {size}-{i}"} for i in range(size)]
            )
            run = self._run(partners)
            self.env.flush_all()
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            run.action_generate()
            self.env.flush_all()
            counts[size] = self.env.cr.sql_log_count - before
            self.assertEqual(run.created_count, size)
        per_customer = (counts[30] - counts[10]) / 20
        self.assertLess(per_customer, 12, counts)

    # ------------------------------------------------------------------
    # Access rights
    # ------------------------------------------------------------------
    def test_access_rights(self):
        run = self._run(self.customer_a)
        for user in (self.salesman, self.approver, self.accountant):
            with self.assertRaises(AccessError):
                self.Run.with_user(user).create({"source_order_id": self.source.id})
            with self.assertRaises(AccessError):
                run.with_user(user).read(["name"])
        run.with_user(self.manager).action_generate()
        self.assertEqual(run.created_count, 1)

    def test_multi_company_rule(self):
        other_company = self.env["res.company"].create({"name": "Other Flow Co"})
        self.manager.company_ids = [Command.link(other_company.id)]
        run = self.Run.with_user(self.manager).with_company(other_company).create({})
        self.assertEqual(run.company_id, other_company)
        self.assertFalse(
            self.Run.with_user(self.manager)
            .with_context(allowed_company_ids=[self.company.id])
            .search([("id", "=", run.id)])
        )
