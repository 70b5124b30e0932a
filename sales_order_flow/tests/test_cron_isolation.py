"""Issue 9: a bad record never blocks a scheduled action. Each cron runs with
one broken record among good ones: the good ones are processed, the broken one
is left whole with an activity for its responsible, and the set-ups that break
a cron are refused where they are made."""

from datetime import date, timedelta
from unittest.mock import patch

from freezegun import freeze_time

from odoo import Command, fields
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from .common import SaleFlowCommon
from .test_rebate import RebateCommon

CRON_LOGGER = "odoo.addons.sales_order_flow.utils.cron"


def _failure_activities(record):
    return record.activity_ids.filtered(
        lambda activity: (
            activity.summary
            in ("Scheduled rebate run failed", "Scheduled action failed")
        )
    )


@tagged("post_install", "-at_install")
class TestRebateCronIsolation(RebateCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.expense_account_2 = cls.env["account.account"].create(
            {"name": "Rebate Expense 2", "code": "RBT601", "account_type": "expense"}
        )

    def _program(self, partner, **values):
        return self._create_program(
            [(1000, 2)],
            name=f"Rebate {partner.name}",
            partner_ids=[Command.set(partner.ids)],
            category_ids=[Command.clear()],
            user_id=self.manager.id,
            **values,
        )

    def _break_product(self, program):
        """What the form allowed before: an active program without product or
        account (written below the ORM, as old data would be)."""
        program.flush_recordset()
        self.env.cr.execute(
            "UPDATE sale_flow_rebate_program SET product_id = NULL, account_id = NULL"
            " WHERE id = %s",
            [program.id],
        )
        program.invalidate_recordset()

    @freeze_time("2024-05-01")
    def test_settle_cron_skips_broken_program(self):
        good, broken, good_2 = (
            self._program(partner, auto_settle=True)
            for partner in (self.buyer, self.buyer_2, self.tagged_buyer)
        )
        self._break_product(broken)
        for partner in (self.buyer, self.buyer_2, self.tagged_buyer):
            self._invoice(partner, 2000.0)
        with self.assertLogs(CRON_LOGGER, "WARNING") as logs:
            self.Program._cron_settle_rebates()
        self.assertIn("credit notes need one", logs.output[0])
        self.assertEqual(good.settlement_ids.amount_total, 40.0)
        self.assertEqual(good_2.settlement_ids.amount_total, 40.0)
        # nothing half-written for the broken one, an activity for its manager
        self.assertFalse(broken.settlement_ids)
        self.assertFalse(self._credit_notes(broken))
        activity = _failure_activities(broken)
        self.assertEqual(activity.user_id, self.manager)
        self.assertIn("credit notes need one", str(activity.note))
        # the next run fails again: still one activity; fixed, it catches up
        with self.assertLogs(CRON_LOGGER, "WARNING"):
            self.Program._cron_settle_rebates()
        self.assertEqual(len(_failure_activities(broken)), 1)
        # fixed by its manager, it catches up; the progress is reported
        broken.with_user(self.manager).product_id = self.rebate_product
        progress = self.env["ir.cron.progress"].create(
            {
                "cron_id": self.env.ref(
                    "sales_order_flow.ir_cron_sale_flow_rebate_settlement"
                ).id
            }
        )
        self.Program.with_context(
            ir_cron_progress_id=progress.id
        )._cron_settle_rebates()
        # one unit per program and period (the good ones re-check Q1)
        self.assertRecordValues(progress, [{"done": 3, "remaining": 0}])
        self.assertEqual(broken.settlement_ids.amount_total, 40.0)
        self.assertEqual(len(good.settlement_ids), 1)

    def test_accrual_cron_catches_up_and_skips_deprecated_account(self):
        accrual = {
            "accrual": True,
            "accrual_liability_account_id": self.liability_account.id,
        }
        good = self._program(
            self.buyer, accrual_expense_account_id=self.expense_account.id, **accrual
        )
        broken = self._program(
            self.buyer_2,
            accrual_expense_account_id=self.expense_account_2.id,
            **accrual,
        )
        self._invoice(self.buyer, 2000.0, day="2024-01-10")
        self._invoice(self.buyer, 1000.0, day="2024-02-10")
        self._invoice(self.buyer_2, 2000.0, day="2024-01-10")
        # deprecating it is refused now...
        # (accounting administrators manage accounts: no test role for them;
        # assertRaises rolls the write back)
        with self.assertRaises(ValidationError) as error:
            self.expense_account_2.deprecated = True
        self.assertIn("used by the active rebate program", str(error.exception))
        self.assertFalse(self.expense_account_2.deprecated)
        # ...but old data has it: deprecated after the set-up
        self.env.cr.execute(
            "UPDATE account_account SET deprecated = TRUE WHERE id = %s",
            [self.expense_account_2.id],
        )
        self.expense_account_2.invalidate_recordset(["deprecated"])
        # the January run was missed: January and February are accrued now
        with self.assertLogs(CRON_LOGGER, "WARNING") as logs:
            self.Program._cron_accrue_rebates(date(2024, 2, 29))
        self.assertIn("deprecated account", logs.output[0])
        moves = self.env["account.move"].search(
            [("flow_rebate_program_id", "=", good.id)], order="date"
        )
        self.assertEqual(moves.mapped("date"), [date(2024, 1, 31), date(2024, 2, 29)])
        self.assertEqual(moves.mapped("flow_rebate_accrual_amount"), [40.0, 20.0])
        self.assertEqual(good.accrued_until, date(2024, 2, 29))
        self.assertFalse(
            self.env["account.move"].search(
                [("flow_rebate_program_id", "=", broken.id)]
            )
        )
        self.assertFalse(broken.accrued_until)
        self.assertIn("deprecated account", str(_failure_activities(broken).note))
        # the set-up is refused where it is made
        with self.assertRaisesRegex(ValidationError, "deprecated account"):
            good.with_user(
                self.manager
            ).accrual_expense_account_id = self.expense_account_2
        # fixed, the program catches up every month it missed
        self.expense_account_2.deprecated = False
        self.Program._cron_accrue_rebates(date(2024, 3, 31))
        self.assertEqual(broken.accrued_until, date(2024, 3, 31))
        self.assertEqual(broken._get_accrued(date(2024, 1, 1)), 40.0)
        self.assertEqual(good._get_accrued(date(2024, 1, 1)), 60.0)
        self.assertEqual(
            self.env["account.move"].search_count(
                [("flow_rebate_program_id", "=", good.id)]
            ),
            2,
            "March changed nothing for the good program",
        )

    def test_activation_refuses_what_breaks_the_crons(self):
        program = self._program(self.buyer, state="draft", product_id=False)
        Program = program.with_user(self.manager)
        with self.assertRaisesRegex(UserError, "credit notes need one"):
            Program.action_activate()
        self.expense_account_2.deprecated = True
        program.write(
            {
                "product_id": self.rebate_product.id,
                "accrual": True,
                "accrual_expense_account_id": self.expense_account_2.id,
                "accrual_liability_account_id": self.liability_account.id,
            }
        )
        with self.assertRaisesRegex(UserError, "deprecated account"):
            Program.action_activate()
        self.assertEqual(program.state, "draft")


@tagged("post_install", "-at_install")
class TestAgreementCronIsolation(SaleFlowCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.archived = cls.env["product.product"].create(
            {"name": "Soon Archived", "type": "service", "list_price": 10.0}
        )
        cls.not_sold = cls.env["product.product"].create(
            {"name": "Soon Not Sold", "type": "service", "list_price": 10.0}
        )
        cls.categ = cls.env["product.category"].create({"name": "Scheduled Goods"})
        cls.agreements = cls.env["sale.flow.agreement"]
        for product in (cls.service, cls.archived, cls.not_sold, cls.service):
            agreement = cls.env["sale.flow.agreement"].create(
                {
                    "partner_id": cls.customer.id,
                    "user_id": cls.salesman.id,
                    "date_end": fields.Date.today() + timedelta(days=100),
                    "line_ids": [
                        Command.create(
                            {
                                "commitment_type": "quantity",
                                "product_id": product.id,
                                "qty_committed": 100.0,
                                "price_unit": 40.0,
                                "schedule_ids": [
                                    Command.create(
                                        {"date": fields.Date.today(), "quantity": 5}
                                    )
                                ],
                            }
                        )
                    ],
                }
            )
            agreement.action_activate()
            cls.agreements |= agreement
        cls.archived.active = False
        cls.not_sold.sale_ok = False

    def test_schedule_cron_skips_unsellable_and_category_lines(self):
        good, archived, not_sold, switched = self.agreements
        # a line switched to a category commitment with its schedule left (old
        # data: the switch is refused now, see below)
        switched.flush_recordset()
        self.env.cr.execute(
            "UPDATE sale_flow_agreement_line SET commitment_type = 'category_value',"
            " product_id = NULL, categ_id = %s, amount_committed = 500"
            " WHERE id = %s",
            [self.categ.id, switched.line_ids.id],
        )
        self.env.cr.execute(
            "UPDATE sale_flow_agreement_schedule SET product_id = NULL"
            " WHERE line_id = %s",
            [switched.line_ids.id],
        )
        self.env.invalidate_all()
        self.env["sale.flow.agreement"]._cron_flow_schedule_calloffs()
        self.assertRecordValues(
            good.line_ids.schedule_ids.order_id.order_line,
            [{"product_id": self.service.id, "product_uom_qty": 5}],
        )
        for agreement in (archived, not_sold, switched):
            with self.subTest(agreement=agreement.line_ids._flow_label()):
                self.assertFalse(agreement.line_ids.schedule_ids.order_id)
                self.assertFalse(
                    self.env["sale.order"].search(
                        [("flow_agreement_id", "=", agreement.id)]
                    )
                )
                activity = agreement.activity_ids.filtered(
                    lambda a: a.summary == "Scheduled call-off skipped"
                )
                self.assertEqual(activity.user_id, self.salesman)
                self.assertIn("cannot be sold any more", str(activity.note))
        # the next day: no second activity
        self.env["sale.flow.agreement"]._cron_flow_schedule_calloffs()
        self.assertEqual(len(archived.activity_ids), 1)

    def test_category_switch_with_schedule_refused(self):
        line = self.agreements[0].line_ids
        with self.assertRaisesRegex(ValidationError, "remove the schedule"):
            line.with_user(self.salesman).write(
                {
                    "commitment_type": "category_value",
                    "product_id": False,
                    "categ_id": self.categ.id,
                    "amount_committed": 500.0,
                }
            )
            self.env.flush_all()

    def test_expiry_cron_isolates_a_failing_agreement(self):
        good, broken, good_2, _other = self.agreements
        Agreement = type(self.env["sale.flow.agreement"])
        original = Agreement._flow_expire

        def refuse_broken(model, agreements):
            # e.g. a customization refusing one agreement
            if broken in agreements:
                raise UserError("Agreement refused by a customization.")  # pylint: disable=translation-required
            return original(model, agreements)

        with (
            freeze_time(fields.Date.today() + timedelta(days=101)),
            patch.object(Agreement, "_flow_expire", refuse_broken),
            self.assertLogs(CRON_LOGGER, "WARNING"),
        ):
            self.env["sale.flow.agreement"]._cron_flow_expire_agreements()
        self.assertEqual((good | good_2).mapped("state"), ["expired", "expired"])
        self.assertEqual(broken.state, "active")
        activity = _failure_activities(broken)
        self.assertEqual(activity.user_id, self.salesman)
        self.assertIn("refused by a customization", str(activity.note))


@tagged("post_install", "-at_install")
class TestValidityCronIsolation(SaleFlowCommon):
    def test_expiry_cron_isolates_a_failing_quotation(self):
        with freeze_time("2026-11-01"):
            orders = self.env["sale.order"]
            for _index in range(3):
                orders |= self._create_order(user_id=self.salesman.id)
            orders.validity_date = date(2026, 11, 20)
        good, broken, good_2 = orders
        SaleOrder = type(self.env["sale.order"])
        original = SaleOrder._flow_expire

        def refuse_broken(model, batch):
            if broken in batch:
                raise UserError("Quotation refused by a customization.")  # pylint: disable=translation-required
            return original(model, batch)

        with (
            freeze_time("2026-12-05"),
            patch.object(SaleOrder, "_flow_expire", refuse_broken),
            self.assertLogs(CRON_LOGGER, "WARNING"),
        ):
            self.env["sale.order"]._cron_flow_expire_quotations()
        self.assertEqual((good | good_2).mapped("flow_expired"), [True, True])
        self.assertFalse(broken.flow_expired)
        self.assertFalse(
            broken.message_ids.filtered(lambda m: "expired on" in str(m.body))
        )
        activity = _failure_activities(broken)
        self.assertEqual(activity.user_id, self.salesman)
        self.assertIn("refused by a customization", str(activity.note))

    def test_expiry_cron_queries_do_not_grow(self):
        """The batches keep the job's queries constant in the number of
        quotations (the savepoints cost a few queries per batch)."""
        counts = []
        for number in (5, 25):
            with freeze_time("2026-11-01"):
                orders = self.env["sale.order"]
                for _index in range(number):
                    orders |= self._create_order()
                orders.validity_date = date(2026, 11, 20)
            with freeze_time("2026-12-05"), self._count_queries() as counter:
                self.env["sale.order"]._cron_flow_expire_quotations()
            self.assertEqual(set(orders.mapped("flow_expired")), {True})
            counts.append(counter["count"])
        self.assertLessEqual(counts[1], counts[0] + 2, counts)
