from datetime import date

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, tagged

from odoo.addons.base.controllers.rpc import dumps as rpc_dumps

from .common import SaleFlowCommon


@tagged("post_install", "-at_install")
class RebateCommon(SaleFlowCommon):
    """Customers, products, accounts and invoice factories for rebates."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # demo programs must not decide what the tests see
        cls.env["sale.flow.rebate.program"].search([]).active = False
        cls.tag = cls.env["res.partner.category"].create({"name": "Rebate Tag"})
        cls.tag_child = cls.env["res.partner.category"].create(
            {"name": "Rebate Sub-Tag", "parent_id": cls.tag.id}
        )
        cls.buyer = cls.env["res.partner"].create(
            {"name": "Rebate Buyer", "is_company": True}
        )
        cls.buyer_contact = cls.env["res.partner"].create(
            {"name": "Buyer Contact", "parent_id": cls.buyer.id}
        )
        cls.buyer_2 = cls.env["res.partner"].create(
            {"name": "Rebate Buyer 2", "is_company": True}
        )
        cls.tagged_buyer = cls.env["res.partner"].create(
            {
                "name": "Tagged Buyer",
                "is_company": True,
                "category_id": [Command.set(cls.tag_child.ids)],
            }
        )
        cls.outsider = cls.env["res.partner"].create(
            {"name": "Not In Program", "is_company": True}
        )
        cls.categ_parent = cls.env["product.category"].create({"name": "Rebated"})
        cls.categ_child = cls.env["product.category"].create(
            {"name": "Rebated Child", "parent_id": cls.categ_parent.id}
        )
        cls.categ_other = cls.env["product.category"].create({"name": "Other"})
        cls.product_b = cls.env["product.product"].create(
            {
                "name": "Rebated Child Product",
                "categ_id": cls.categ_child.id,
                "list_price": 10.0,
                "taxes_id": [Command.clear()],
            }
        )
        cls.product_c = cls.env["product.product"].create(
            {
                "name": "Other Product",
                "categ_id": cls.categ_other.id,
                "list_price": 10.0,
                "taxes_id": [Command.clear()],
            }
        )
        cls.rebate_product = cls.env["product.product"].create(
            {
                "name": "Rebate",
                "type": "service",
                "sale_ok": False,
                "taxes_id": [Command.clear()],
            }
        )
        cls.expense_account = cls.env["account.account"].create(
            {"name": "Rebate Expense", "code": "RBT600", "account_type": "expense"}
        )
        cls.liability_account = cls.env["account.account"].create(
            {
                "name": "Accrued Rebates",
                "code": "RBT200",
                "account_type": "liability_current",
            }
        )
        cls.Program = cls.env["sale.flow.rebate.program"]

    @classmethod
    def _create_program(cls, tiers, **values):
        return cls.Program.create(
            {
                "name": "Test Rebate",
                "partner_ids": [Command.set((cls.buyer | cls.buyer_2).ids)],
                "category_ids": [Command.set(cls.tag.ids)],
                "period_type": "quarter",
                "date_start": "2024-01-01",
                "basis": "amount",
                "tier_method": "stepped",
                "product_id": cls.rebate_product.id,
                "state": "active",
                "tier_ids": [
                    Command.create({"threshold": threshold, "rate": rate})
                    for threshold, rate in tiers
                ],
                **values,
            }
        )

    @classmethod
    def _invoice(cls, partner, amount=0.0, day="2024-02-10", lines=None, **kw):
        """Post a customer invoice (``refund=True``: a credit note).

        ``lines``: (product, quantity, price_unit[, uom]) tuples; by default
        one line of ``amount`` for the widget.
        """
        lines = lines or [(cls.product, 1.0, amount)]
        move = cls.env["account.move"].create(
            {
                "move_type": "out_refund" if kw.get("refund") else "out_invoice",
                "partner_id": partner.id,
                "invoice_date": day,
                "invoice_line_ids": [
                    Command.create(
                        {
                            "product_id": line[0].id,
                            "quantity": line[1],
                            "price_unit": line[2],
                            "tax_ids": [Command.clear()],
                            **({"product_uom_id": line[3].id} if len(line) > 3 else {}),
                        }
                    )
                    for line in lines
                ],
            }
        )
        if kw.get("post", True):
            move.action_post()
        return move

    def _credit_notes(self, program):
        return self.env["account.move"].search(
            [("flow_rebate_settlement_line_id.program_id", "=", program.id)]
        )


@tagged("post_install", "-at_install")
class TestRebate(RebateCommon):
    # ------------------------------------------------------------------
    # Tiers
    # ------------------------------------------------------------------

    def test_stepped_tiers_exact_figures(self):
        program = self._create_program([(1000, 2), (5000, 3), (10000, 5)])
        cases = [
            # amount, rate, rebate: the whole volume at the reached tier's rate
            (0.0, 0.0, 0.0),
            (999.99, 0.0, 0.0),
            (1000.0, 2.0, 20.0),
            (4999.99, 2.0, 100.0),
            (5000.0, 3.0, 150.0),
            (9999.99, 3.0, 300.0),
            (10000.0, 5.0, 500.0),
            (12345.67, 5.0, 617.28),
            (-300.0, 0.0, 0.0),
        ]
        for amount, rate, rebate in cases:
            with self.subTest(amount=amount):
                result = program._compute_rebate(amount, 0.0)
                self.assertEqual(result["rate"], rate)
                self.assertAlmostEqual(result["rebate"], rebate, places=2)
        self.assertFalse(program._compute_rebate(999.99, 0.0)["tier"])
        edge = program._compute_rebate(5000.0, 0.0)
        self.assertEqual(edge["tier"].threshold, 5000.0)
        self.assertEqual(edge["next_tier"].threshold, 10000.0)
        self.assertEqual(edge["missing"], 5000.0)
        top = program._compute_rebate(20000.0, 0.0)
        self.assertFalse(top["next_tier"])
        self.assertEqual(top["missing"], 0.0)

    def test_progressive_tiers_exact_figures(self):
        program = self._create_program(
            [(0, 1), (1000, 2), (5000, 3)], tier_method="progressive"
        )
        cases = [
            (500.0, 5.0),  # 500 at 1 %
            (1000.0, 10.0),  # the first bracket full, nothing in the second
            (1000.01, 10.0),  # 0.01 at 2 % rounds away
            (5000.0, 90.0),  # 10 + 4,000 at 2 %
            (6000.0, 120.0),  # 10 + 80 + 1,000 at 3 %
            (10000.5, 240.02),  # 10 + 80 + 5,000.50 at 3 % = 240.015
        ]
        for amount, rebate in cases:
            with self.subTest(amount=amount):
                self.assertAlmostEqual(
                    program._compute_rebate(amount, 0.0)["rebate"], rebate, places=2
                )

    def test_quantity_basis(self):
        program = self._create_program(
            [(10, 2), (20, 4)], basis="quantity", tier_method="stepped"
        )
        dozen = self.env.ref("uom.product_uom_dozen")
        # 2 dozens (24 units) at 120 a dozen, and 1 unit refunded
        self._invoice(self.buyer, lines=[(self.product, 2.0, 120.0, dozen)])
        self._invoice(self.buyer, lines=[(self.product, 1.0, 10.0)], refund=True)
        basis = program._get_basis(date(2024, 1, 1), date(2024, 3, 31))
        self.assertEqual(basis[self.buyer.id], {"amount": 230.0, "quantity": 23.0})
        # stepped: 23 units reach the 4 % tier; the rebate is on the amount
        self.assertAlmostEqual(program._compute_rebate(230.0, 23.0)["rebate"], 9.2)
        program.tier_method = "progressive"
        # 10 units at 2 % and 3 units at 4 %, at the average price of 10
        self.assertAlmostEqual(program._compute_rebate(230.0, 23.0)["rebate"], 3.2)
        self.assertIn("units", program._format_volume(23.0))

    # ------------------------------------------------------------------
    # Basis
    # ------------------------------------------------------------------

    def test_basis_refunds_and_limits(self):
        program = self._create_program([(1000, 2)])
        self._invoice(self.buyer_contact, 1000.0)  # contacts count for the company
        self._invoice(self.buyer, lines=[(self.product_b, 5.0, 100.0)])
        self._invoice(self.buyer, lines=[(self.product_c, 3.0, 100.0)])
        self._invoice(self.buyer, 200.0, refund=True)
        self._invoice(self.buyer, 700.0, post=False)  # drafts do not count
        self._invoice(self.buyer, 900.0, day="2024-04-01")  # next quarter
        self._invoice(self.buyer, 800.0, day="2023-12-31")  # before the program
        self._invoice(self.outsider, 5000.0)
        self._invoice(self.tagged_buyer, 400.0)  # a sub-tag counts
        period = (date(2024, 1, 1), date(2024, 3, 31))

        def amounts():
            return {
                partner: values["amount"]
                for partner, values in program._get_basis(*period).items()
            }

        self.assertEqual(
            amounts(), {self.buyer.id: 1600.0, self.tagged_buyer.id: 400.0}
        )
        program.product_ids = self.product
        self.assertEqual(amounts(), {self.buyer.id: 800.0, self.tagged_buyer.id: 400.0})
        program.product_ids = False
        program.product_categ_ids = self.categ_parent  # its children count
        self.assertEqual(amounts(), {self.buyer.id: 500.0})
        program.product_ids = self.product  # products or categories
        self.assertEqual(
            amounts(), {self.buyer.id: 1300.0, self.tagged_buyer.id: 400.0}
        )
        program.product_categ_ids = program.product_ids = False
        program.date_end = "2024-02-09"  # validity cuts the period
        self.assertEqual(amounts(), {})
        program.date_end = False
        monthly = program._get_basis(*period, by_month=True)
        self.assertEqual(monthly[(self.buyer.id, date(2024, 2, 1))]["amount"], 1600.0)

    def test_refund_reduces_rebate(self):
        program = self._create_program([(1000, 2), (5000, 3)])
        self._invoice(self.buyer, 5000.0)
        period = (date(2024, 1, 1), date(2024, 3, 31))
        self.assertEqual(program._get_due(*period)[self.buyer.id]["rebate"], 150.0)
        self._invoice(self.buyer, 100.0, refund=True, day="2024-03-01")
        due = program._get_due(*period)[self.buyer.id]
        self.assertEqual((due["rate"], due["rebate"]), (2.0, 98.0))

    def test_basis_queries_do_not_grow(self):
        program = self._create_program([(1000, 2)])
        period = (date(2024, 1, 1), date(2024, 3, 31))

        def count():
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            program._get_basis(*period)
            return self.env.cr.sql_log_count - before

        self._invoice(self.buyer, lines=[(self.product, 1.0, 10.0)] * 10)
        ten = count()
        self._invoice(self.buyer, lines=[(self.product, 1.0, 10.0)] * 90)
        self._invoice(self.buyer_2, lines=[(self.product, 1.0, 10.0)] * 10)
        self.assertEqual(count(), ten)
        self.assertEqual(program._get_basis(*period)[self.buyer.id]["amount"], 1000.0)

    # ------------------------------------------------------------------
    # Progress on the customer
    # ------------------------------------------------------------------

    @freeze_time("2024-02-20")
    def test_progress_on_customer(self):
        program = self._create_program([(1000, 2), (5000, 3)])
        self._invoice(self.buyer, 800.0)
        self._invoice(self.tagged_buyer, 6000.0)
        currency = program.currency_id
        self.assertEqual(
            self.buyer.flow_rebate_progress_text,
            f"Test Rebate: {currency.format(200.0)} more to reach the next tier "
            "(2.00 %)",
        )
        # contacts show their company's progress
        self.assertEqual(
            self.buyer_contact.flow_rebate_progress_text,
            self.buyer.flow_rebate_progress_text,
        )
        self.assertEqual(
            self.tagged_buyer.flow_rebate_progress_text,
            "Test Rebate: Highest tier reached",
        )
        html = str(self.tagged_buyer.flow_rebate_progress_html)
        self.assertIn("Q1 2024", html)
        self.assertIn(currency.format(180.0), html)  # 3 % of 6,000
        self.assertFalse(self.outsider.flow_rebate_progress_text)
        self.assertIn(
            "No active rebate program", self.outsider.flow_rebate_progress_html
        )
        # progress of many customers at once: one basis query per program
        progress = (
            self.buyer | self.buyer_2 | self.tagged_buyer
        )._flow_get_rebate_progress()
        row = progress[self.buyer.id][0]
        self.assertEqual(
            (row["volume"], row["rate"], row["missing"]), (800.0, 0.0, 200.0)
        )
        self.assertEqual(progress[self.buyer_2.id][0]["rebate"], 0.0)

    @freeze_time("2024-02-20")
    def test_progress_queries_do_not_grow(self):
        self._create_program([(1000, 2), (5000, 3)])
        partners = self.env["res.partner"].create(
            [
                {
                    "name": f"Tagged {index}",
                    "is_company": True,
                    "category_id": [Command.set(self.tag.ids)],
                }
                for index in range(20)
            ]
        )
        for partner in partners[:2] | partners[-2:]:
            self._invoice(partner, 1500.0)

        def count(records):
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            progress = records._flow_get_rebate_progress()
            return self.env.cr.sql_log_count - before, progress

        count(partners[:2])  # warm-up: caches
        few, _progress = count(partners[:2])
        many, progress_all = count(partners)
        self.assertEqual(few, many)
        self.assertEqual(len(progress_all), 20)
        self.assertEqual(progress_all[partners[-1].id][0]["rebate"], 30.0)
        self.assertEqual(progress_all[partners[5].id][0]["rebate"], 0.0)

    # ------------------------------------------------------------------
    # Settlement
    # ------------------------------------------------------------------

    def _settle(self, program, day=date(2024, 3, 31), when=date(2024, 4, 5)):
        # accountants settle rebates
        settlement, message = program.with_user(self.accountant)._settle(day, when)
        return settlement.with_env(self.env), message

    def test_settlement_creates_credit_notes(self):
        program = self._create_program([(1000, 2), (5000, 3), (10000, 5)])
        self._invoice(self.buyer, 3000.0)
        self._invoice(self.buyer_contact, 2500.0, day="2024-03-31")
        self._invoice(self.buyer, 500.0, refund=True)
        self._invoice(self.buyer_2, 999.99)
        self._invoice(self.tagged_buyer, 12000.40)
        settlement, message = self._settle(program)
        self.assertEqual(settlement.period_start, date(2024, 1, 1))
        self.assertEqual(settlement.period_end, date(2024, 3, 31))
        self.assertEqual(settlement.name, "Test Rebate - Q1 2024")
        self.assertRecordValues(
            settlement.line_ids.sorted("amount_due"),
            [
                {
                    "partner_id": self.buyer.id,
                    "basis_amount": 5000.0,
                    "rate": 3.0,
                    "rebate": 150.0,
                    "paid_before": 0.0,
                    "amount_due": 150.0,
                    "sequence": 1,
                },
                {
                    "partner_id": self.tagged_buyer.id,
                    "basis_amount": 12000.40,
                    "rate": 5.0,
                    "rebate": 600.02,
                    "paid_before": 0.0,
                    "amount_due": 600.02,
                    "sequence": 1,
                },
            ],
        )
        self.assertEqual(settlement.amount_total, 750.02)
        self.assertIn("1 customer had nothing due", message)
        notes = self._credit_notes(program).sorted("amount_untaxed")
        self.assertRecordValues(
            notes,
            [
                {
                    "move_type": "out_refund",
                    "state": "posted",
                    "partner_id": self.buyer.id,
                    "amount_untaxed": 150.0,
                    "amount_total": 150.0,
                    "invoice_date": date(2024, 4, 5),
                    "currency_id": self.currency.id,
                },
                {
                    "move_type": "out_refund",
                    "state": "posted",
                    "partner_id": self.tagged_buyer.id,
                    "amount_untaxed": 600.02,
                    "amount_total": 600.02,
                    "invoice_date": date(2024, 4, 5),
                    "currency_id": self.currency.id,
                },
            ],
        )
        self.assertEqual(notes.flow_rebate_settlement_line_id, settlement.line_ids)
        self.assertEqual(settlement.line_ids.move_id, notes)
        self.assertEqual(notes.invoice_line_ids.product_id, self.rebate_product)
        self.assertEqual(settlement.move_count, 2)
        # the credit notes do not reduce the volume they pay back
        due = program._get_due(date(2024, 1, 1), date(2024, 3, 31))
        self.assertEqual(due[self.buyer.id]["amount"], 5000.0)
        self.assertEqual(due[self.buyer.id]["due"], 0.0)

    def test_settlement_account_and_taxes(self):
        tax = self.env["account.tax"].create(
            {"name": "Rebate VAT 10", "amount": 10.0, "type_tax_use": "sale"}
        )
        self.rebate_product.taxes_id = tax
        program = self._create_program([(1000, 10)])
        self._invoice(self.buyer, 1000.0)
        self._settle(program)
        note = self._credit_notes(program)
        # the rebate is the untaxed amount; the product's taxes come on top
        self.assertEqual((note.amount_untaxed, note.amount_total), (100.0, 110.0))
        # a rebate account overrides the product's and carries no taxes
        income = self.env["account.account"].create(
            {"name": "Rebates Granted", "code": "RBT700", "account_type": "income"}
        )
        program_2 = self._create_program(
            [(1000, 10)], name="Account Rebate", product_id=False, account_id=income.id
        )
        self._settle(program_2)
        note_2 = self._credit_notes(program_2)
        self.assertEqual(note_2.invoice_line_ids.account_id, income)
        self.assertEqual((note_2.amount_untaxed, note_2.amount_total), (100.0, 100.0))
        # price-included taxes would change the paid rebate: refused
        tax.price_include_override = "tax_included"
        included = self.env["product.product"].create(
            {"name": "Rebate Incl.", "type": "service", "taxes_id": tax.ids}
        )
        with self.assertRaises(ValidationError):
            program.product_id = included

    def test_settle_twice_creates_nothing(self):
        program = self._create_program([(1000, 2)])
        self._invoice(self.buyer, 2000.0)
        settlement, _message = self._settle(program)
        self.assertEqual(settlement.amount_total, 40.0)
        again, message = self._settle(program)
        self.assertFalse(again)
        self.assertIn("Nothing to settle for Q1 2024", message)
        self.assertEqual(len(self._credit_notes(program)), 1)
        self.assertEqual(program.settlement_count, 1)

    def test_late_invoice_pays_only_the_difference(self):
        program = self._create_program([(1000, 2), (5000, 3), (10000, 5)])
        self._invoice(self.buyer, 5000.0)
        self._invoice(self.buyer_2, 999.99)
        first, _message = self._settle(program)
        self.assertEqual(first.amount_total, 150.0)
        # late invoices of the same period: buyer reaches 5 %, buyer_2 2 %
        self._invoice(self.buyer, 5000.0, day="2024-03-15")
        self._invoice(self.buyer_2, 0.01, day="2024-03-15")
        second, _message = self._settle(program, when=date(2024, 5, 2))
        self.assertEqual(second.sequence, 2)
        self.assertEqual(second.name, "Test Rebate - Q1 2024 (2)")
        self.assertRecordValues(
            second.line_ids.sorted("amount_due"),
            [
                {
                    "partner_id": self.buyer_2.id,
                    "rebate": 20.0,
                    "paid_before": 0.0,
                    "amount_due": 20.0,
                    "sequence": 1,
                },
                {
                    "partner_id": self.buyer.id,
                    "rebate": 500.0,
                    "paid_before": 150.0,
                    "amount_due": 350.0,
                    "sequence": 2,
                },
            ],
        )
        notes = self._credit_notes(program).filtered(
            lambda move: move.partner_id == self.buyer
        )
        self.assertEqual(sorted(notes.mapped("amount_total")), [150.0, 350.0])
        # a refund after settlement: less earned than paid (2 % of 4,000 = 80
        # against 500 paid): recorded without credit note, 420 to deduct
        self._invoice(self.buyer, 6000.0, refund=True, day="2024-03-20")
        third, message = self._settle(program)
        self.assertRecordValues(
            third.line_ids,
            [
                {
                    "partner_id": self.buyer.id,
                    "rebate": 80.0,
                    "paid_before": 500.0,
                    "amount_settled": -420.0,
                    "amount_due": 0.0,
                    "move_id": False,
                    "sequence": 3,
                }
            ],
        )
        self.assertIn("1 customer was paid more than it earns now", message)
        self.assertIn("420.00 is deducted from its next rebates", message)
        # a cancelled credit note paid nothing: the next run pays it again
        # (less the 420 overpaid: 150 + 350 paid in all for a 500 rebate)
        notes.filtered(lambda move: move.amount_total == 350.0).button_draft()
        self._invoice(self.buyer, 6000.0, day="2024-03-20")
        notes.filtered(lambda move: move.amount_total == 350.0).button_cancel()
        fourth, _message = self._settle(program)
        self.assertRecordValues(
            fourth.line_ids,
            [
                {
                    "rebate": 500.0,
                    "amount_settled": 770.0,
                    "carried_in": -420.0,
                    "amount_due": 350.0,
                    "sequence": 4,
                }
            ],
        )

    def test_running_period_cannot_be_settled(self):
        program = self._create_program([(1000, 2)])
        self._invoice(self.buyer, 2000.0, day="2024-02-10")
        Program = program.with_user(self.accountant)
        with freeze_time("2024-03-31"):
            with self.assertRaisesRegex(UserError, "still running") as error:
                Program._settle(date(2024, 3, 15))
            self.assertIn("(03/31/2024)", str(error.exception))
            wizard = (
                self.env["sale.flow.rebate.program.settle"]
                .with_user(self.accountant)
                .create({"program_id": program.id, "period_date": "2024-03-01"})
            )
            with self.assertRaisesRegex(UserError, "still running"):
                wizard.action_settle()
        self.assertFalse(program.settlement_ids)
        with freeze_time("2024-04-01"):
            settlement, _message = Program._settle(date(2024, 3, 15))
        self.assertEqual(settlement.amount_total, 40.0)
        # a program that ended within the period: settled from the next day
        ended = self._create_program([(1000, 2)], date_end="2024-05-15")
        with freeze_time("2024-05-15"), self.assertRaises(UserError):
            ended.with_user(self.accountant)._settle(date(2024, 5, 1))
        with freeze_time("2024-05-16"):
            _settlement, message = ended.with_user(self.accountant)._settle(
                date(2024, 5, 1)
            )
        self.assertIn("Nothing to settle for Q2 2024", message)

    def test_overpaid_rebate_carried_to_next_settlement(self):
        program = self._create_program([(0, 5)], category_ids=[Command.clear()])
        self._invoice(self.buyer, 10000.0, day="2024-02-10")
        first, _message = self._settle(program)
        self.assertEqual(first.amount_total, 500.0)
        # a late credit note of Q1: 5 % of 6,000 = 300 earned, 500 paid
        self._invoice(self.buyer, 4000.0, day="2024-03-20", refund=True)
        second, _message = self._settle(program)
        self.assertRecordValues(
            second.line_ids,
            [{"amount_settled": -200.0, "amount_due": 0.0, "move_id": False}],
        )
        # Q2: 150 earned, all of it deducted (50 still to deduct)
        self._invoice(self.buyer, 3000.0, day="2024-05-10")
        third, message = self._settle(
            program, day=date(2024, 6, 30), when=date(2024, 7, 5)
        )
        self.assertRecordValues(
            third.line_ids,
            [
                {
                    "rebate": 150.0,
                    "amount_settled": 150.0,
                    "carried_in": -150.0,
                    "amount_due": 0.0,
                    "move_id": False,
                }
            ],
        )
        self.assertIn("0 credit notes", message)
        # Q3: 500 earned, 50 deducted
        self._invoice(self.buyer, 10000.0, day="2024-08-10")
        fourth, _message = self._settle(
            program, day=date(2024, 9, 30), when=date(2024, 10, 5)
        )
        self.assertRecordValues(
            fourth.line_ids,
            [{"amount_settled": 500.0, "carried_in": -50.0, "amount_due": 450.0}],
        )
        # in all: 5 % of 19,000 invoiced, net of the credit note
        self.assertEqual(
            sorted(self._credit_notes(program).mapped("amount_total")), [450.0, 500.0]
        )
        # the next settlements find nothing left to deduct
        self.assertEqual(program._get_carried([self.buyer.id]), {self.buyer.id: 0.0})

    def test_actions_answer_over_rpc(self):
        """Every public action returns something XML-RPC can marshal (None is
        refused: "cannot marshal None")."""
        program = self.Program.with_user(self.manager).create(
            {
                "name": "RPC Rebate",
                "date_start": "2024-01-01",
                "partner_ids": [Command.set(self.buyer.ids)],
                "product_id": self.rebate_product.id,
                "tier_ids": [Command.create({"threshold": 0, "rate": 2})],
            }
        )
        self._invoice(self.buyer, 1000.0)
        for method in ("action_activate", "action_close", "action_draft"):
            with self.subTest(method=method):
                rpc_dumps((getattr(program, method)(),))
        program.action_activate()
        rpc_dumps((program.action_open_settle(),))
        rpc_dumps((program.action_view_settlements(),))
        wizard = (
            self.env["sale.flow.rebate.program.settle"]
            .with_user(self.accountant)
            .create({"program_id": program.id, "period_date": "2024-03-31"})
        )
        action = wizard.action_settle()
        rpc_dumps((action,))
        settlement = program.settlement_ids.with_user(self.accountant)
        self.assertEqual(action["res_id"], settlement.id)
        rpc_dumps((settlement.action_view_credit_notes(),))
        rpc_dumps((settlement.action_print_statements(),))
        # nothing is due now: a notification
        rpc_dumps((wizard.action_settle(),))

    def test_tier_checks_cannot_be_skipped_by_context(self):
        program = self._create_program([(1000, 2), (5000, 3)])
        tier = program.tier_ids.sorted("threshold")[1]
        # what the program's own write used to set: an RPC caller can send it
        for key in (
            "sale_flow_rebate_tiers_deferred",
            "sale_flow_rebate_tiers",
            "sale_flow_rebate_tiers_checked_by_program",
        ):
            with self.subTest(key=key), self.assertRaises(ValidationError):
                tier.with_user(self.manager).with_context(**{key: True}).rate = 1
        self.assertEqual(tier.rate, 3.0)

    def test_settle_wizard(self):
        program = self._create_program([(1000, 2)])
        self._invoice(self.buyer, 2000.0)
        with freeze_time("2024-04-03"):
            # accountants settle
            wizard_form = Form(
                self.env["sale.flow.rebate.program.settle"]
                .with_user(self.accountant)
                .with_context(default_program_id=program.id)
            )
            # the period that just ended is proposed
            self.assertEqual(wizard_form.period_start, date(2024, 1, 1))
            self.assertEqual(wizard_form.customer_count, 1)
            self.assertEqual(wizard_form.amount_due, 40.0)
            action = wizard_form.save().action_settle()
        settlement = self.env["sale.flow.rebate.settlement"].browse(action["res_id"])
        self.assertEqual(settlement.amount_total, 40.0)
        self.assertEqual(settlement.date, date(2024, 4, 3))
        with freeze_time("2024-04-03"):
            wizard = (
                self.env["sale.flow.rebate.program.settle"]
                .with_user(self.accountant)
                .with_context(default_program_id=program.id)
                .create({})
            )
            action = wizard.action_settle()
        self.assertEqual(action["tag"], "display_notification")
        self.assertEqual(len(self._credit_notes(program)), 1)

    def test_settle_needs_active_program_and_product(self):
        program = self._create_program([(1000, 2)], state="draft")
        with self.assertRaises(UserError):
            self._settle(program)
        # a program without product or account cannot be active (issue 9);
        # assertRaises rolls back what was written
        with self.assertRaises(ValidationError) as error:
            program.write({"state": "active", "product_id": False})
        self.assertIn("credit notes need one", str(error.exception))
        program.product_id = False
        with self.assertRaisesRegex(UserError, "credit notes need one"):
            program.with_user(self.manager).action_activate()
        self.assertEqual(program.state, "draft")

    @freeze_time("2024-05-01")
    def test_cron_settles_closed_period(self):
        program = self._create_program([(1000, 2)], auto_settle=True)
        self._invoice(self.buyer, 2000.0)
        self.Program._cron_settle_rebates()
        self.assertEqual(program.settlement_ids.period_start, date(2024, 1, 1))
        self.Program._cron_settle_rebates()
        self.assertEqual(len(program.settlement_ids), 1)

    @freeze_time("2024-08-01")
    def test_cron_catches_up_missed_periods(self):
        program = self._create_program([(1000, 2)], auto_settle=True)
        self._invoice(self.buyer, 2000.0, day="2024-02-10")
        self._invoice(self.buyer, 3000.0, day="2024-05-10")
        # the cron did not run at the end of Q1: both quarters are settled now
        self.Program._cron_settle_rebates()
        self.assertEqual(
            program.settlement_ids.sorted("period_start").mapped("amount_total"),
            [40.0, 60.0],
        )
        self.Program._cron_settle_rebates()
        self.assertEqual(len(program.settlement_ids), 2)
        # an invoice of Q2 posted late: the next run pays only the difference
        self._invoice(self.buyer, 1000.0, day="2024-06-10")
        self.Program._cron_settle_rebates()
        latest = program.settlement_ids.sorted("id")[-1]
        self.assertRecordValues(
            latest, [{"period_start": date(2024, 4, 1), "amount_total": 20.0}]
        )

    def test_statement_report(self):
        program = self._create_program([(1000, 2), (5000, 3)])
        self._invoice(self.buyer, 3000.0, day="2024-01-10")
        self._invoice(self.buyer, 2000.0, day="2024-02-10")
        settlement, _message = self._settle(program)
        html, _type = self.env["ir.actions.report"]._render_qweb_html(
            "sales_order_flow.sale_flow_rebate_statement_report",
            settlement.line_ids.ids,
        )
        html = html.decode()
        self.assertIn("Rebate Statement", html)
        self.assertIn("Test Rebate", html)
        self.assertIn("January 2024", html)
        self.assertIn("February 2024", html)
        self.assertIn("Reached", html)
        self.assertIn("table-success", html)
        action = settlement.with_context(
            discard_logo_check=True
        ).action_print_statements()
        self.assertEqual(
            action["report_name"], "sales_order_flow.report_rebate_statement"
        )

    # ------------------------------------------------------------------
    # Accruals
    # ------------------------------------------------------------------

    def _liability_balance(self):
        lines = self.env["account.move.line"].search(
            [
                ("account_id", "=", self.liability_account.id),
                ("parent_state", "=", "posted"),
            ]
        )
        return self.currency.round(sum(lines.mapped("balance")))

    def test_accruals_incremental_and_net_to_zero(self):
        program = self._create_program(
            [(1000, 2), (5000, 3)],
            accrual=True,
            accrual_expense_account_id=self.expense_account.id,
            accrual_liability_account_id=self.liability_account.id,
        )
        self._invoice(self.buyer, 2000.0, day="2024-01-15")
        self.Program._cron_accrue_rebates(date(2024, 1, 31))
        first = self.env["account.move"].search(
            [("flow_rebate_program_id", "=", program.id)]
        )
        self.assertEqual(first.flow_rebate_accrual_amount, 40.0)
        self.assertEqual(first.date, date(2024, 1, 31))
        self.assertEqual(self._liability_balance(), -40.0)
        # nothing new: nothing booked, never twice
        self.assertFalse(program._accrue(date(2024, 1, 31)))
        # February: the buyer reaches 3 % on 5,000, the tagged buyer 2 %
        self._invoice(self.buyer, 3000.0, day="2024-02-15")
        self._invoice(self.tagged_buyer, 1000.0, day="2024-02-20")
        # an invoice after the accrual date is not earned yet
        self._invoice(self.buyer_2, 1000.0, day="2024-03-05")
        second = program._accrue(date(2024, 2, 29))
        self.assertEqual(second.flow_rebate_accrual_amount, 130.0)  # 150 + 20 - 40
        self.assertEqual(self._liability_balance(), -170.0)
        # a refund lowers what was earned: the accrual is released in part
        self._invoice(self.buyer, 1000.0, refund=True, day="2024-03-10")
        third = program._accrue(date(2024, 3, 31))
        # earned: 2 % of 4,000 + 20 + 20 = 120
        self.assertEqual(third.flow_rebate_accrual_amount, -50.0)
        self.assertEqual(self._liability_balance(), -120.0)
        expense = third.line_ids.filtered(
            lambda line: line.account_id == self.expense_account
        )
        self.assertEqual(expense.credit, 50.0)
        settlement, _message = self._settle(program)
        self.assertEqual(settlement.amount_total, 120.0)
        # settlement reversed every accrual of the period
        self.assertEqual(self._liability_balance(), 0.0)
        self.assertEqual(program._get_accrued(date(2024, 1, 1)), 0.0)
        self.assertTrue((first | second | third).reversal_move_ids)
        # after settlement, nothing is left to accrue
        self.assertFalse(program._accrue(date(2024, 3, 31)))
        # a late invoice accrues again and the next settlement releases it
        self._invoice(self.buyer_2, 1000.0, day="2024-03-06")  # 2,000: +20
        late = program._accrue(date(2024, 3, 31))
        self.assertEqual(late.flow_rebate_accrual_amount, 20.0)
        self._settle(program)
        self.assertEqual(self._liability_balance(), 0.0)

    # ------------------------------------------------------------------
    # Bad input
    # ------------------------------------------------------------------

    def test_bad_tiers_clear_error_nothing_written(self):
        count = self.Program.search_count([])
        tier_count = self.env["sale.flow.rebate.tier"].search_count([])
        bad_tiers = {
            "overlap": [(1000, 2), (1000, 3)],
            "rate not increasing": [(1000, 3), (5000, 3)],
            "rate decreasing": [(1000, 3), (5000, 2)],
            "rate above 100": [(1000, 101)],
            "negative rate": [(1000, -1)],
            "negative threshold": [(-1, 2)],
        }
        for label, tiers in bad_tiers.items():
            with self.subTest(label), self.assertRaises(ValidationError):
                self._create_program(tiers)
        self.assertEqual(self.Program.search_count([]), count)
        self.assertEqual(self.env["sale.flow.rebate.tier"].search_count([]), tier_count)
        program = self._create_program([(1000, 2), (5000, 3)])
        tiers = program.tier_ids
        # assertRaises (unlike assertRaisesRegex) rolls back what was written
        with self.assertRaises(ValidationError) as error:
            program.write(
                {"tier_ids": [Command.create({"threshold": 5000, "rate": 4})]}
            )
        self.assertIn("cannot overlap", str(error.exception))
        with self.assertRaises(ValidationError) as error:
            program.write({"tier_ids": [Command.update(tiers[1].id, {"rate": 1})]})
        self.assertIn("must increase", str(error.exception))
        with self.assertRaises(ValidationError) as error:
            tiers[1].rate = 150
        self.assertIn("between 0 and 100", str(error.exception))
        self.assertEqual(program.tier_ids.mapped("rate"), [2.0, 3.0])
        # several tiers changed at once are checked together
        program.write(
            {
                "tier_ids": [
                    Command.update(tiers[0].id, {"rate": 4}),
                    Command.update(tiers[1].id, {"rate": 6}),
                ]
            }
        )
        self.assertEqual(program.tier_ids.mapped("rate"), [4.0, 6.0])

    def test_bad_tiers_in_form(self):
        program_form = Form(self.Program)
        program_form.name = "Form Rebate"
        program_form.partner_ids.add(self.buyer)
        for threshold, rate in ((5000, 3), (1000, 4)):
            with program_form.tier_ids.new() as tier:
                tier.threshold = threshold
                tier.rate = rate
        with self.assertRaises(ValidationError) as error:
            program_form.save()
        self.assertIn("must increase", str(error.exception))

    # ------------------------------------------------------------------
    # Rights
    # ------------------------------------------------------------------

    def test_access_rights(self):
        program = self._create_program([(1000, 2)])
        self._invoice(self.buyer, 2000.0)
        # salespeople read programs, and see the progress of their customers
        self.assertEqual(program.with_user(self.salesman).name, "Test Rebate")
        with self.assertRaises(AccessError):
            program.with_user(self.salesman).name = "Mine"
        self.assertIn(
            "more to reach the next tier",
            self.buyer.with_user(self.salesman).flow_rebate_progress_text,
        )
        with self.assertRaises(AccessError):
            self.env["sale.flow.rebate.settlement"].with_user(self.salesman).search([])
        # sales managers configure programs
        program.with_user(self.manager).name = "Managed"
        # accountants settle (and cannot change the program)
        with self.assertRaises(AccessError):
            program.with_user(self.accountant).name = "Booked"
        settlement, _message = program.with_user(self.accountant)._settle(
            date(2024, 3, 31), date(2024, 4, 5)
        )
        self.assertEqual(settlement.amount_total, 40.0)
        with self.assertRaises(UserError):
            settlement.with_user(self.accountant).unlink()
