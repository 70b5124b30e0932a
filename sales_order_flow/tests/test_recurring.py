from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .recurring_common import RecurringCommon


@tagged("post_install", "-at_install")
class TestRecurring(RecurringCommon):
    def assertInvoice(self, moves, total, periods, move_type="out_invoice"):
        """One posted move of ``total`` whose recurring lines cover
        ``periods`` ((first, last) per line)."""
        self.assertEqual(len(moves), 1, moves)
        self.assertEqual(moves.move_type, move_type)
        self.assertEqual(moves.state, "posted")
        self.assertAlmostEqual(moves.amount_untaxed, total, places=2)
        lines = moves.invoice_line_ids.filtered("flow_period_start").sorted("sequence")
        self.assertEqual(
            [(line.flow_period_start, line.flow_period_end) for line in lines],
            [(self.d(first), self.d(last)) for first, last in periods],
        )

    def test_monthly_in_advance_three_periods(self):
        self.monthly.period_count = 3
        order = self._recurring_order("2026-01-01")
        self.assertRecordValues(
            order,
            [
                {
                    "flow_recurring_order": True,
                    "flow_recurring_state": "active",
                    "flow_recurring_next_date": self.d("2026-01-01"),
                    "flow_recurring_next_amount": 100.0,
                }
            ],
        )
        january = self._run(self.d("2026-01-01"))
        self.assertInvoice(january, 100.0, [("2026-01-01", "2026-01-31")])
        self.assertIn("Period", january.invoice_line_ids.name)
        self.assertEqual(january.invoice_line_ids.sale_line_ids, order.order_line)
        self.assertEqual(order.flow_recurring_next_date, self.d("2026-02-01"))
        self.assertFalse(self._run(self.d("2026-01-20")))
        self.assertInvoice(
            self._run(self.d("2026-02-01")), 100.0, [("2026-02-01", "2026-02-28")]
        )
        self.assertInvoice(
            self._run(self.d("2026-03-05")), 100.0, [("2026-03-01", "2026-03-31")]
        )
        self.assertFalse(self._run(self.d("2026-04-01")))
        self.assertRecordValues(
            order,
            [
                {
                    "flow_recurring_state": "closed",
                    "flow_recurring_next_date": False,
                    "flow_recurring_period_count": 3,
                }
            ],
        )
        self.assertEqual(len(order.invoice_ids), 3)
        self.assertEqual(sum(order.flow_recurring_period_ids.mapped("amount")), 300.0)
        # Odoo's "Create Invoice" has nothing left to invoice on the line
        self.assertEqual(order.order_line.qty_to_invoice, 0.0)

    def test_quarterly_in_arrears(self):
        order = self._recurring_order(
            "2026-01-01", lines=((300.0, self.quarterly_arrears),)
        )
        self.assertEqual(order.flow_recurring_next_date, self.d("2026-04-01"))
        self.assertFalse(self._run(self.d("2026-03-31")))
        self.assertInvoice(
            self._run(self.d("2026-04-01")), 300.0, [("2026-01-01", "2026-03-31")]
        )
        self.assertEqual(order.flow_recurring_next_date, self.d("2026-07-01"))
        self.assertInvoice(
            self._run(self.d("2026-07-01")), 300.0, [("2026-04-01", "2026-06-30")]
        )

    def test_mid_period_start_and_end(self):
        # 310 a month: 10 a day in January and March (31 days)
        order = self._recurring_order(
            "2026-01-11",
            lines=((310.0, None),),
            flow_recurrence_date_end="2026-03-20",
        )
        self.assertEqual(order.flow_recurring_next_date, self.d("2026-01-11"))
        january = self._run(self.d("2026-01-11"))
        self.assertInvoice(january, 210.0, [("2026-01-11", "2026-01-31")])
        self.assertIn("21 of 31 days", january.invoice_line_ids.name)
        self.assertInvoice(
            self._run(self.d("2026-02-01")), 310.0, [("2026-02-01", "2026-02-28")]
        )
        self.assertInvoice(
            self._run(self.d("2026-03-01")), 200.0, [("2026-03-01", "2026-03-20")]
        )
        # invoiced to the end, closed once the end is past
        self.assertRecordValues(
            order,
            [{"flow_recurring_state": "active", "flow_recurring_next_date": False}],
        )
        self.assertFalse(self._run(self.d("2026-03-21")))
        self.assertEqual(order.flow_recurring_state, "closed")

    def test_upsell_and_downsell_mid_period(self):
        order = self._recurring_order("2026-01-01")
        self._run(self.d("2026-01-01"))
        # upsell on 16 January: 62 a month, 16 of 31 days
        order.with_user(self.salesman).write(
            {
                "order_line": [
                    Command.create(
                        {
                            "product_id": self.subscription.id,
                            "price_unit": 62.0,
                            "flow_recurrence_date_start": "2026-01-16",
                        }
                    )
                ]
            }
        )
        self.assertEqual(order.flow_recurring_next_date, self.d("2026-01-16"))
        self.assertInvoice(
            self._run(self.d("2026-01-16")), 32.0, [("2026-01-16", "2026-01-31")]
        )
        self.assertInvoice(
            self._run(self.d("2026-02-01")),
            162.0,
            [("2026-02-01", "2026-02-28"), ("2026-02-01", "2026-02-28")],
        )
        # downsell: the upsell line ends on 14 February, invoiced to the 28th
        # in advance: 14 of 28 days of 62 are credited
        order.order_line[1].with_user(
            self.salesman
        ).flow_recurrence_date_end = "2026-02-14"
        self.assertInvoice(
            self._run(self.d("2026-02-15")),
            31.0,
            [("2026-02-15", "2026-02-28")],
            move_type="out_refund",
        )
        self.assertFalse(self._run(self.d("2026-02-16")))
        self.assertInvoice(
            self._run(self.d("2026-03-01")), 100.0, [("2026-03-01", "2026-03-31")]
        )

    def test_pause_and_resume(self):
        # 280 a month: 10 a day in February
        order = self._recurring_order("2026-01-01", lines=((280.0, None),))
        self._run(self.d("2026-01-01"))
        order.with_user(self.salesman).action_flow_recurring_pause(
            date=self.d("2026-01-20")
        )
        self.assertEqual(order.flow_recurring_state, "paused")
        self.assertFalse(self._run(self.d("2026-02-01")))
        self.assertFalse(self._run(self.d("2026-02-10")))
        with self.assertRaises(UserError):
            order.with_user(self.salesman).action_flow_recurring_pause()
        order.with_user(self.salesman).action_flow_recurring_resume(
            date=self.d("2026-02-15")
        )
        self.assertRecordValues(
            order,
            [
                {
                    "flow_recurring_state": "active",
                    "flow_recurring_next_date": self.d("2026-02-15"),
                }
            ],
        )
        self.assertInvoice(
            self._run(self.d("2026-02-15")), 140.0, [("2026-02-15", "2026-02-28")]
        )
        self.assertInvoice(
            self._run(self.d("2026-03-01")), 280.0, [("2026-03-01", "2026-03-31")]
        )

    def test_pause_in_arrears(self):
        # 280 a quarter in arrears, paused 1 to 28 February: 62 of 90 days
        order = self._recurring_order(
            "2026-01-01", lines=((270.0, self.quarterly_arrears),)
        )
        order.with_user(self.salesman).action_flow_recurring_pause(
            date=self.d("2026-02-01")
        )
        order.with_user(self.salesman).action_flow_recurring_resume(
            date=self.d("2026-03-01")
        )
        moves = self._run(self.d("2026-04-01"))
        self.assertInvoice(moves, 186.0, [("2026-01-01", "2026-03-31")])
        self.assertIn("62 of 90 days", moves.invoice_line_ids.name)

    def test_price_from_agreement_each_period(self):
        self.monthly.price_policy = "pricelist"
        Agreement = self.env["sale.flow.agreement"]
        for start, end, price in (
            ("2026-01-01", "2026-01-31", 80.0),
            ("2026-02-01", "2026-12-31", 90.0),
        ):
            Agreement.create(
                {
                    "partner_id": self.customer.id,
                    "user_id": self.salesman.id,
                    "date_start": start,
                    "date_end": end,
                    "line_ids": [
                        Command.create(
                            {
                                "commitment_type": "quantity",
                                "product_id": self.subscription.id,
                                "qty_committed": 12.0,
                                "price_unit": price,
                                "price_fixed": True,
                            }
                        )
                    ],
                }
            ).action_activate()
        self._recurring_order("2026-01-01")
        self.assertInvoice(
            self._run(self.d("2026-01-01")), 80.0, [("2026-01-01", "2026-01-31")]
        )
        self.assertInvoice(
            self._run(self.d("2026-02-01")), 90.0, [("2026-02-01", "2026-02-28")]
        )

    def test_close_now_credits_unused_days(self):
        order = self._recurring_order("2026-01-01", lines=((280.0, None),))
        self._run(self.d("2026-02-01"))  # January and February
        self.assertEqual(len(order.invoice_ids), 2)
        credit = order.with_user(self.salesman).action_flow_recurring_close_now(
            date=self.d("2026-02-14")
        )
        self.assertInvoice(
            credit, 140.0, [("2026-02-15", "2026-02-28")], move_type="out_refund"
        )
        self.assertRecordValues(
            order,
            [{"flow_recurring_state": "closed", "flow_recurring_next_date": False}],
        )
        self.assertFalse(self._run(self.d("2026-03-01")))

    def test_close_now_in_arrears_invoices_used_days(self):
        order = self._recurring_order(
            "2026-01-01", lines=((270.0, self.quarterly_arrears),)
        )
        # 31 + 14 of 90 days
        moves = order.with_user(self.salesman).action_flow_recurring_close_now(
            date=self.d("2026-02-14")
        )
        self.assertInvoice(moves, 135.0, [("2026-01-01", "2026-02-14")])
        self.assertEqual(order.flow_recurring_state, "closed")

    def test_close_at_period_end(self):
        order = self._recurring_order("2026-01-01")
        self._run(self.d("2026-02-01"))
        order.with_user(self.salesman).action_flow_recurring_close_period_end(
            date=self.d("2026-02-10")
        )
        self.assertRecordValues(
            order,
            [
                {
                    "flow_recurrence_date_end": self.d("2026-02-28"),
                    "flow_recurring_next_date": False,
                }
            ],
        )
        self.assertFalse(self._run(self.d("2026-03-01")))
        self.assertEqual(order.flow_recurring_state, "closed")

    def test_renewal_reminder(self):
        self.monthly.write({"period_count": 3, "reminder_days": 10})
        order = self._recurring_order("2026-01-01")
        activity_type = self.env.ref("mail.mail_activity_data_todo")
        self._run(self.d("2026-03-01"))
        self.assertFalse(
            order.activity_ids.filtered(lambda a: a.activity_type_id == activity_type)
        )
        self._run(self.d("2026-03-22"))
        reminder = order.activity_ids.filtered(
            lambda a: a.activity_type_id == activity_type
        )
        self.assertEqual(reminder.user_id, self.salesman)
        self._run(self.d("2026-03-23"))
        self.assertEqual(len(order.activity_ids), 1)

    def test_cron_twice_and_button(self):
        order = self._recurring_order("2026-01-01")
        self.assertEqual(len(self._run(self.d("2026-01-01"))), 1)
        self.assertEqual(order.flow_recurring_next_date, self.d("2026-02-01"))
        self.assertFalse(self._run(self.d("2026-01-01")))
        self.assertEqual(len(order.flow_recurring_period_ids), 1)
        # a salesperson cannot invoice from the button, an accountant can
        with self.assertRaises(AccessError):
            order.with_user(self.salesman).action_flow_recurring_invoice_next()
        order.with_user(self.accountant).action_flow_recurring_invoice_next()
        self.assertEqual(len(order.invoice_ids), 2)
        self.assertEqual(
            order.flow_recurring_period_ids.sorted("period_start").mapped(
                "period_start"
            ),
            [self.d("2026-01-01"), self.d("2026-02-01")],
        )
        # the periods' unique key: the same period cannot be recorded twice
        period = order.flow_recurring_period_ids[0]
        with mute_logger("odoo.sql_db"), self.assertRaises(Exception):  # noqa: B017
            with self.env.cr.savepoint():
                period.copy({"move_line_id": False})

    def test_one_off_lines_invoiced_once(self):
        order = self._recurring_order("2026-01-01")
        order.with_user(self.salesman).write(
            {
                "order_line": [
                    Command.create(
                        {
                            "product_id": self.service.id,
                            "price_unit": 500.0,
                            "flow_recurrence_id": False,
                        }
                    )
                ]
            }
        )
        first = self._run(self.d("2026-01-01"))
        self.assertAlmostEqual(first.amount_untaxed, 600.0)
        second = self._run(self.d("2026-02-01"))
        self.assertAlmostEqual(second.amount_untaxed, 100.0)

    def test_bad_input(self):
        Plan = self.env["sale.flow.recurrence"]
        for number in (0, -1):
            with self.assertRaises(ValidationError) as caught:
                Plan.create({"name": "Broken", "interval_number": number})
            self.assertIn("interval of 1 or more", str(caught.exception))
        self.assertFalse(Plan.search([("name", "=", "Broken")]))  # rolled back
        with self.assertRaises(ValidationError) as caught:
            self._recurring_order("2026-03-01", flow_recurrence_date_end="2026-02-01")
        self.assertIn("before they start", str(caught.exception))
        goods = self.env["product.product"].create(
            {"name": "Delivered Goods", "type": "consu", "invoice_policy": "delivery"}
        )
        count = self.env["sale.order"].search_count([])
        with self.assertRaises(ValidationError) as caught:
            self.env["sale.order"].with_user(self.salesman).create(
                {
                    "partner_id": self.customer.id,
                    "order_line": [
                        Command.create(
                            {
                                "product_id": goods.id,
                                "flow_recurrence_id": self.monthly.id,
                            }
                        )
                    ],
                }
            )
        self.assertIn("cannot be invoiced every period", str(caught.exception))
        self.assertEqual(self.env["sale.order"].search_count([]), count)

    def test_one_bad_order_among_ten(self):
        broken_account = self.env["account.account"].create(
            {"name": "Old Income", "code": "FLOW799", "account_type": "income"}
        )
        broken = self.env["product.product"].create(
            {
                "name": "Hosting on an old account",
                "type": "service",
                "invoice_policy": "order",
                "list_price": 100.0,
                "taxes_id": [Command.clear()],
                "flow_recurrence_id": self.monthly.id,
                "property_account_income_id": broken_account.id,
            }
        )
        orders = self.env["sale.order"]
        for _index in range(10):
            orders |= self._recurring_order("2026-01-01")
        bad = orders[4]
        bad.order_line.product_id = broken
        broken_account.deprecated = True
        self._run(self.d("2026-01-01"))
        good = orders - bad
        self.assertEqual(len(good.invoice_ids), 9)
        self.assertTrue(all(len(order.invoice_ids) == 1 for order in good))
        self.assertFalse(bad.invoice_ids)
        self.assertFalse(bad.flow_recurring_period_ids)
        self.assertIn("deprecated", bad.flow_recurring_exception)
        activity = bad.activity_ids
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, self.salesman)
        self.assertIn("deprecated", bad.message_ids[0].body)
        # a second failure updates the same activity
        self._run(self.d("2026-01-02"))
        self.assertEqual(len(bad.activity_ids), 1)
        # fixed, the next run retries it
        broken_account.deprecated = False
        moves = self._run(self.d("2026-01-03"))
        self.assertEqual(moves.line_ids.sale_line_ids.order_id, bad)
        self.assertFalse(bad.flow_recurring_exception)

    def test_reports(self):
        quarterly = self._recurring_order(
            "2026-01-01", lines=((300.0, self.quarterly_arrears),)
        )
        monthly = self._recurring_order("2026-01-01", lines=((100.0, None),))
        self._run(self.d("2026-04-01"))
        # monthly recurring revenue: 300 a quarter is 100 a month
        self.assertEqual(
            (quarterly + monthly).order_line.mapped("flow_recurring_monthly_amount"),
            [100.0, 100.0],
        )
        groups = self.env["sale.flow.recurrence.period"]._read_group(
            [("order_id", "in", (quarterly + monthly).ids)],
            ["recurrence_id"],
            ["amount:sum"],
        )
        self.assertEqual(
            dict(groups), {self.quarterly_arrears: 300.0, self.monthly: 400.0}
        )
        html = self.env["ir.actions.report"]._render_qweb_html(
            "sale.action_report_saleorder", monthly.ids
        )[0]
        self.assertIn("Recurring:", html.decode())
        self.assertIn("Monthly", html.decode())

    def test_invoices_follow_the_workflow_profile(self):
        Workflow = self.env["sale.flow.workflow"]
        draft_only = Workflow.create({"name": "Draft", "post_invoice": False})
        sending = Workflow.create(
            {"name": "Send", "post_invoice": True, "send_invoice": True}
        )
        self.customer.flow_workflow_id = draft_only
        kept = self._recurring_order("2026-01-01")
        self.assertEqual(kept.flow_workflow_id, draft_only)
        self.customer.flow_workflow_id = sending
        sent = self._recurring_order("2026-01-01")
        moves = self._run(self.d("2026-01-01"))
        self.assertEqual(len(moves), 2)
        self.assertEqual(kept.invoice_ids.state, "draft")
        self.assertEqual(sent.invoice_ids.state, "posted")
        self.assertTrue(sent.invoice_ids.flow_workflow_send_pending)
        self.env["sale.order"]._cron_flow_workflow()
        self.assertTrue(sent.invoice_ids.is_move_sent)
        self.assertFalse(sent.invoice_ids.flow_workflow_send_pending)

    def test_invoiced_periods_are_not_moved(self):
        order = self._recurring_order("2026-01-01")
        self._run(self.d("2026-01-01"))
        with self.assertRaisesRegex(UserError, "start date cannot change"):
            order.with_user(self.salesman).flow_recurrence_date_start = "2026-01-05"
        with self.assertRaisesRegex(UserError, "plan cannot change"):
            order.order_line.with_user(
                self.salesman
            ).flow_recurrence_id = self.quarterly_arrears
        with self.assertRaisesRegex(UserError, "periods cannot change"):
            self.monthly.interval_number = 2
        self.monthly.reminder_days = 5  # other settings may change
        # an end set on the form is taken into account at once
        order.with_user(self.salesman).flow_recurrence_date_end = "2026-01-31"
        self.assertFalse(order.flow_recurring_next_date)
        self.assertFalse(self._run(self.d("2026-02-01")))
        self.assertEqual(order.flow_recurring_state, "closed")
