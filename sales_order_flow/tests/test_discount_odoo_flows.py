"""Odoo's own buttons and computations keep the stacked discounts (issue 9,
points 5, 7, 8 and 13): "Update Prices", amounts to invoice, sale.report,
discount allocation, vendor bills with surcharges, quantities in the
product's unit. Business steps run as the salesperson (or the accountant for
journal entries); the superuser only sets data up."""

from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo import Command, fields
from odoo.exceptions import ValidationError
from odoo.tests import Form, tagged

from .common import SaleFlowCommon


@tagged("post_install", "-at_install")
class TestDiscountOdooFlows(SaleFlowCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        discount_group = cls.env.ref("sale.group_discount_per_so_line")
        cls.salesman.groups_id += discount_group
        cls.env.user.groups_id += discount_group
        cls.dozen = cls.env.ref("uom.product_uom_dozen")
        cls.categ = cls.env["product.category"].create({"name": "Chairs"})
        cls.chair = cls.env["product.product"].create(
            {
                "name": "Chair",
                "list_price": 80.0,
                "categ_id": cls.categ.id,
                "taxes_id": [Command.clear()],
            }
        )
        cls.gift = cls.env["product.product"].create(
            {"name": "Gift", "list_price": 10.0, "taxes_id": [Command.clear()]}
        )
        cls.gadget = cls.env["product.product"].create(
            {
                "name": "Agreed Gadget",
                "type": "service",
                "list_price": 30.0,
                "taxes_id": [Command.clear()],
            }
        )
        cls.pricelist = cls.env["product.pricelist"].create(
            {
                "name": "Flow Resellers",
                "item_ids": [
                    Command.create(
                        {
                            "applied_on": "0_product_variant",
                            "product_id": cls.product.id,
                            "compute_price": "percentage",
                            "percent_price": 10.0,
                        }
                    )
                ],
            }
        )
        cls.customer.property_product_pricelist = cls.pricelist
        cls.tax_excluded = cls.env["account.tax"].create(
            {"name": "VAT 21 % excl.", "amount": 21.0, "type_tax_use": "sale"}
        )
        cls.tax_included = cls.env["account.tax"].create(
            {
                "name": "VAT 21 % incl.",
                "amount": 21.0,
                "type_tax_use": "sale",
                "price_include_override": "tax_included",
            }
        )
        cls.Rule = cls.env["sale.flow.discount.rule"]

    # ------------------------------------------------------------------
    # helpers
    # ------------------------------------------------------------------
    def _quotation(self, *lines, partner=None):
        """A quotation created by the salesperson; ``lines`` are line values."""
        return (
            self.env["sale.order"]
            .with_user(self.salesman)
            .create(
                {
                    "partner_id": (partner or self.customer).id,
                    "order_line": [Command.create(values) for values in lines],
                }
            )
        )

    def _line_state(self, order):
        return [
            (
                line.product_id,
                line.price_unit,
                line.flow_discount_1,
                line.flow_discount_2,
                line.flow_discount_3,
                line.flow_discount_manual,
                line.flow_is_free_item,
                line.price_subtotal,
            )
            for line in order.order_line.sorted("id")
        ]

    def _update_prices_quotation(self):
        """Every kind of discount in one quotation:

        - 10 Flow Widget at 100, pricelist 10 %:             900.00 (unmarked)
        - 7 Flow Service at 50, 10 + 5 + 3 % by hand:        290.27 (manual)
        - 5 Chairs at 80, rule 12.5 %:                       350.00 (unmarked)
        - 1 Gift free with the chairs (rule), 100 %:           0.00
        - 4 Agreed Gadgets at the agreed 25, agreed 10 %:     90.00
        Total 1,630.27.
        """
        self.Rule.create(
            {
                "name": "Chairs 12.5",
                "product_ids": [Command.set(self.chair.ids)],
                "discount_percent": 12.5,
            }
        )
        self.Rule.create(
            {
                "name": "Gift with 5 chairs",
                "effect": "free",
                "product_ids": [Command.set(self.chair.ids)],
                "free_product_id": self.gift.id,
                "free_per_qty": 5.0,
                "free_qty": 1.0,
                "sequence": 20,
            }
        )
        agreement = self.env["sale.flow.agreement"].create(
            {
                "partner_id": self.customer.id,
                "user_id": self.salesman.id,
                "date_start": fields.Date.today() - timedelta(days=10),
                "date_end": fields.Date.today() + timedelta(days=100),
                "line_ids": [
                    Command.create(
                        {
                            "commitment_type": "quantity",
                            "product_id": self.gadget.id,
                            "qty_committed": 100.0,
                            "price_unit": 25.0,
                            "discount_1": 10.0,
                        }
                    )
                ],
            }
        )
        agreement.action_activate()
        order = self._quotation(
            {"product_id": self.product.id, "product_uom_qty": 10},
            {
                "product_id": self.service.id,
                "product_uom_qty": 7,
                "flow_discount_1": 10.0,
                "flow_discount_2": 5.0,
                "flow_discount_3": 3.0,
            },
            {"product_id": self.chair.id, "product_uom_qty": 5},
            {"product_id": self.gadget.id, "product_uom_qty": 4},
        )
        self.assertEqual(order.pricelist_id, self.pricelist)
        return order

    # ------------------------------------------------------------------
    # point 5: Update Prices
    # ------------------------------------------------------------------
    def test_update_prices_keeps_every_discount(self):
        order = self._update_prices_quotation()
        widget, service, chair, gadget, gift = order.order_line.sorted("id")
        self.assertEqual(gift.product_id, self.gift)
        expected = [
            (self.product, 100.0, 10.0, 0.0, 0.0, False, False, 900.0),
            (self.service, 50.0, 10.0, 5.0, 3.0, True, False, 290.27),
            (self.chair, 80.0, 12.5, 0.0, 0.0, False, False, 350.0),
            (self.gadget, 25.0, 10.0, 0.0, 0.0, True, False, 90.0),
            (self.gift, 10.0, 100.0, 0.0, 0.0, False, True, 0.0),
        ]
        self.assertEqual(self._line_state(order), expected)
        self.assertEqual(order.amount_untaxed, 1630.27)
        rules = chair.flow_discount_1_rule_id | gift.flow_free_rule_id

        order.with_user(self.salesman).action_update_prices()

        self.assertEqual(self._line_state(order), expected)
        self.assertEqual(order.amount_untaxed, 1630.27)
        self.assertEqual(chair.flow_discount_1_rule_id | gift.flow_free_rule_id, rules)
        self.assertEqual(order.order_line, widget | service | chair | gadget | gift)

    def test_update_prices_takes_new_prices_only(self):
        """New list price and pricelist discount: the lines they concern
        follow, the rest stays; the rules are applied to the new prices."""
        order = self._update_prices_quotation()
        self.pricelist.item_ids.percent_price = 20.0
        self.service.list_price = 60.0
        self.chair.list_price = 90.0

        order.with_user(self.salesman).action_update_prices()

        self.assertEqual(
            self._line_state(order),
            [
                # pricelist's new 20 %, still not marked
                (self.product, 100.0, 20.0, 0.0, 0.0, False, False, 800.0),
                # new price, the stack by hand kept: 420 x 0.82935 = 348.327
                (self.service, 60.0, 10.0, 5.0, 3.0, True, False, 348.33),
                # new price, rule again: 450 x 0.875 = 393.75
                (self.chair, 90.0, 12.5, 0.0, 0.0, False, False, 393.75),
                # agreed price and discount
                (self.gadget, 25.0, 10.0, 0.0, 0.0, True, False, 90.0),
                # still free
                (self.gift, 10.0, 100.0, 0.0, 0.0, False, True, 0.0),
            ],
        )
        self.assertEqual(order.amount_untaxed, 800 + 348.33 + 393.75 + 90)

    # ------------------------------------------------------------------
    # point 7: one truth for the discount
    # ------------------------------------------------------------------
    def _invoice(self, order):
        """Invoiced by the salesperson (the invoicing wizard), posted by the
        accountant."""
        wizard = (
            self.env["sale.advance.payment.inv"]
            .with_user(self.salesman)
            .with_context(active_model="sale.order", active_ids=order.ids)
            .create({"advance_payment_method": "delivered"})
        )
        wizard.create_invoices()
        invoice = order.invoice_ids
        invoice.with_user(self.accountant).action_post()
        return invoice

    def _report_line(self, order):
        self.env.flush_all()
        self.env["sale.report"].invalidate_model()
        return (
            self.env["sale.report"]
            .with_user(self.salesman)
            .search([("order_reference", "=", f"sale.order,{order.id}")])
        )

    def test_exact_discount_in_odoo_amounts(self):
        """10 + 5 + 3 % on 100.00: 82.94 in the line, in Odoo's amount to
        invoice, the invoice and sale.report (a 17.07 % discount gives 82.93)."""
        order = self._quotation(
            {
                "product_id": self.service.id,
                "price_unit": 100.0,
                "flow_discount_1": 10.0,
                "flow_discount_2": 5.0,
                "flow_discount_3": 3.0,
                "tax_id": [Command.set(self.tax_excluded.ids)],
            }
        )
        line = order.order_line
        self.assertEqual(line.discount, 17.065)
        self.assertEqual(line.price_subtotal, 82.94)
        self.assertEqual(line.price_total, 100.36)  # tax 17.41635
        order.with_user(self.salesman).action_confirm()
        self.assertEqual(line.untaxed_amount_to_invoice, 82.94)
        self.assertEqual(line.amount_to_invoice, 100.36)
        report = self._report_line(order)
        self.assertEqual(report.price_subtotal, 82.94)
        self.assertEqual(report.untaxed_amount_to_invoice, 82.94)
        self.assertEqual(self.currency.round(100.0 - report.discount_amount), 82.94)

        invoice = self._invoice(order)
        self.assertRecordValues(
            invoice,
            [{"amount_untaxed": 82.94, "amount_total": 100.36}],
        )
        self.assertEqual(invoice.invoice_line_ids.discount, 17.065)
        line.invalidate_recordset()
        # Nothing left, not -0.01.
        self.assertEqual(line.untaxed_amount_invoiced, 82.94)
        self.assertEqual(line.untaxed_amount_to_invoice, 0.0)
        self.assertEqual(line.amount_to_invoice, 0.0)
        self.assertEqual(self._report_line(order).untaxed_amount_invoiced, 82.94)

    def test_exact_discount_repeating_decimals(self):
        """33.33 + 33.33 + 33.33 % on 1,000.00 = 70.36593 %: 296.34 (a
        70.37 % discount gives 296.30)."""
        order = self._quotation(
            {
                "product_id": self.service.id,
                "price_unit": 1000.0,
                "flow_discount_1": 33.33,
                "flow_discount_2": 33.33,
                "flow_discount_3": 33.33,
            }
        )
        line = order.order_line
        # 1000 x 0.6667^3 = 296.3407...
        self.assertEqual(line.discount, 70.3659257037)
        self.assertEqual(line.price_subtotal, 296.34)
        order.with_user(self.salesman).action_confirm()
        self.assertEqual(line.untaxed_amount_to_invoice, 296.34)
        self.assertEqual(self._report_line(order).price_subtotal, 296.34)
        invoice = self._invoice(order)
        self.assertEqual(invoice.amount_untaxed, 296.34)
        line.invalidate_recordset()
        self.assertEqual(line.untaxed_amount_to_invoice, 0.0)

    def test_exact_discount_price_included_tax(self):
        """10 x 121.00 tax included, 10 + 5 + 3 %: 1,003.51 included, 829.35
        excluded, to invoice and invoiced (17.07 % gives 829.30)."""
        order = self._quotation(
            {
                "product_id": self.service.id,
                "product_uom_qty": 10,
                "price_unit": 121.0,
                "flow_discount_1": 10.0,
                "flow_discount_2": 5.0,
                "flow_discount_3": 3.0,
                "tax_id": [Command.set(self.tax_included.ids)],
            }
        )
        line = order.order_line
        self.assertEqual(line.price_total, 1003.51)
        self.assertEqual(line.price_subtotal, 829.35)
        order.with_user(self.salesman).action_confirm()
        self.assertEqual(line.untaxed_amount_to_invoice, 829.35)
        self.assertEqual(line.amount_to_invoice, 1003.51)
        self.assertEqual(self._report_line(order).price_subtotal, 829.35)
        invoice = self._invoice(order)
        self.assertRecordValues(
            invoice, [{"amount_untaxed": 829.35, "amount_total": 1003.51}]
        )
        line.invalidate_recordset()
        self.assertEqual(line.untaxed_amount_to_invoice, 0.0)
        self.assertEqual(line.amount_to_invoice, 0.0)

    def test_exact_discount_in_discount_allocation(self):
        """Odoo's discount allocation books the discount the line shows:
        99.99 at 10 + 5 + 3 % is 82.93, so 17.06 off (17.07 % gives 17.07)."""
        expense = self.env["account.account"].create(
            {"name": "Discounts", "code": "FLOWDISC", "account_type": "expense"}
        )
        self.company.account_discount_expense_allocation_id = expense
        order = self._quotation(
            {
                "product_id": self.service.id,
                "price_unit": 99.99,
                "flow_discount_1": 10.0,
                "flow_discount_2": 5.0,
                "flow_discount_3": 3.0,
            }
        )
        self.assertEqual(order.order_line.price_subtotal, 82.93)
        order.with_user(self.salesman).action_confirm()
        invoice = self._invoice(order)
        discount_lines = invoice.line_ids.filtered(
            lambda aml: aml.display_type == "discount"
        )
        self.assertEqual(
            sorted(discount_lines.mapped("balance")), [-17.06, 17.06], discount_lines
        )
        self.assertEqual(
            discount_lines.filtered(lambda aml: aml.account_id == expense).debit, 17.06
        )

    def test_rounded_discounts_made_exact_on_update(self):
        """Lines stored with a 2-decimal discount get the exact one when the
        module is updated (``init``); single discounts are not touched."""
        order = self._quotation(
            {
                "product_id": self.service.id,
                "price_unit": 100.0,
                "flow_discount_1": 10.0,
                "flow_discount_2": 5.0,
                "flow_discount_3": 3.0,
            },
            {"product_id": self.service.id, "price_unit": 100.0, "discount": 12.5},
        )
        stacked, single = order.order_line.sorted("id")
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE sale_order_line SET discount = 17.07 WHERE id = %s", [stacked.id]
        )
        self.env["sale.order.line"].init()
        order.order_line.invalidate_recordset(["discount"])
        self.assertEqual(stacked.discount, 17.065)
        self.assertEqual(single.discount, 12.5)
        self.assertEqual(order.amount_untaxed, 82.94 + 87.5)

    def test_typing_the_shown_discount_keeps_the_stack(self):
        """The discount column shows 17.07: typing 17.07 again keeps 10+5+3."""
        order = self._quotation(
            {
                "product_id": self.service.id,
                "price_unit": 100.0,
                "flow_discount_1": 10.0,
                "flow_discount_2": 5.0,
                "flow_discount_3": 3.0,
            }
        )
        with Form(order.with_user(self.salesman)) as form:
            with form.order_line.edit(0) as line_form:
                line_form.discount = 17.07
                self.assertEqual(line_form.flow_discount_2, 5.0)
        line = order.order_line
        self.assertEqual(line.discount, 17.065)
        self.assertEqual(line._flow_get_discount_stack(), [10.0, 5.0, 3.0])
        self.assertEqual(line.price_subtotal, 82.94)
        # Another value is a discount by hand, in level 1 alone.
        with Form(order.with_user(self.salesman)) as form:
            with form.order_line.edit(0) as line_form:
                line_form.discount = 17.1
        self.assertEqual(line._flow_get_discount_stack(), [17.1, 0.0, 0.0])

    def test_price_simulation_of_a_stack(self):
        """The simulation of an unchanged 10 + 5 + 3 % line gives its own
        82.94 and applying a new price keeps its stack."""
        order = self._quotation(
            {
                "product_id": self.service.id,
                "price_unit": 100.0,
                "flow_discount_1": 10.0,
                "flow_discount_2": 5.0,
                "flow_discount_3": 3.0,
            },
        )
        Simulation = self.env["sale.flow.price.simulation"].with_user(self.salesman)
        with Form(Simulation.with_context(default_order_id=order.id)) as form:
            form.mode = "line_prices"
            self.assertEqual(form.new_amount_untaxed, 82.94)
            with form.line_ids.edit(0) as line:
                line.price_unit = 200.0
        simulation = form.record
        self.assertEqual(simulation.new_amount_untaxed, 165.87)  # 200 x 0.82935
        simulation.action_apply()
        line = order.order_line
        self.assertEqual(line._flow_get_discount_stack(), [10.0, 5.0, 3.0])
        self.assertEqual(line.price_subtotal, 165.87)

    # ------------------------------------------------------------------
    # point 8: journal items
    # ------------------------------------------------------------------
    def _move(self, move_type, discount, user):
        vals = {
            "move_type": move_type,
            "partner_id": self.customer.id,
            "invoice_date": fields.Date.today(),
            "invoice_line_ids": [
                Command.create(
                    {
                        "name": "Line",
                        "product_id": self.service.id,
                        "quantity": 1,
                        "price_unit": 100.0,
                        "discount": discount,
                        "tax_ids": [Command.clear()],
                    }
                )
            ],
        }
        return self.env["account.move"].with_user(user).create(vals)

    def test_vendor_bill_surcharge_accepted(self):
        """A vendor bill or refund with a surcharge (negative discount) is
        booked as it is."""
        for move_type in ("in_invoice", "in_refund"):
            bill = self._move(move_type, -5.0, self.accountant)
            self.assertRecordValues(
                bill.invoice_line_ids,
                [{"discount": -5.0, "flow_discount_1": -5.0, "price_subtotal": 105.0}],
            )
            bill.action_post()
            self.assertEqual(bill.amount_total, 105.0)

    def test_imported_entry_surcharge_accepted(self):
        journal = self.env["account.journal"].search(
            [("type", "=", "general"), ("company_id", "=", self.company.id)], limit=1
        )
        income = self.service.categ_id.property_account_income_categ_id or (
            self.env["account.account"].search(
                [("account_type", "=", "income")], limit=1
            )
        )
        receivable = self.customer.property_account_receivable_id
        entry = (
            self.env["account.move"]
            .with_user(self.accountant)
            .create(
                {
                    "move_type": "entry",
                    "journal_id": journal.id,
                    "line_ids": [
                        Command.create(
                            {
                                "name": "Imported",
                                "account_id": income.id,
                                "credit": 105.0,
                                "discount": -5.0,
                            }
                        ),
                        Command.create(
                            {
                                "name": "Imported",
                                "account_id": receivable.id,
                                "debit": 105.0,
                            }
                        ),
                    ],
                }
            )
        )
        self.assertEqual(entry.line_ids.mapped("flow_discount_1"), [-5.0, 0.0])

    def test_customer_documents_refuse_out_of_range(self):
        for move_type, discount in (("out_invoice", -5.0), ("out_refund", 120.0)):
            with self.assertRaises(ValidationError):
                self._move(move_type, discount, self.accountant)
        invoice = self._move("out_invoice", 10.0, self.accountant)
        with self.assertRaises(ValidationError):
            invoice.invoice_line_ids.flow_discount_2 = 101.0

    def test_no_database_check_on_journal_items(self):
        self.env.cr.execute(
            "SELECT conname FROM pg_constraint WHERE conrelid = "
            "'account_move_line'::regclass AND conname LIKE %s",
            ["%flow_discount%"],
        )
        self.assertFalse(self.env.cr.fetchall())

    def test_install_columns_match_computes(self):
        """The SQL filling the columns at install gives what the computes
        give (see models/sale_order_line_install.py)."""
        self.service.invoice_policy = "order"
        confirmed = self._quotation(
            {"product_id": self.service.id, "product_uom_qty": 5},
            {"product_id": self.service.id, "product_uom_qty": 2, "customer_lead": 1.5},
            {"display_type": "line_note", "name": "Note"},
        )
        confirmed.with_user(self.salesman).action_confirm()
        first, second, _note = confirmed.order_line.sorted("id")
        first.qty_delivered = 3
        second.flow_commitment_date = datetime(2030, 1, 2, 8, 0)
        committed = self._quotation(
            {"product_id": self.service.id, "product_uom_qty": 4, "customer_lead": 2}
        )
        committed.commitment_date = datetime(2030, 3, 1, 10, 0)
        draft = self._quotation(
            {"product_id": self.service.id, "product_uom_qty": 4, "customer_lead": 0.3}
        )
        lines = (confirmed | committed | draft).order_line
        fnames = ["flow_qty_to_deliver", "flow_commitment_date_effective"]
        self.env.flush_all()
        expected = lines.read(fnames)
        self.assertEqual(first.flow_qty_to_deliver, 2.0)
        self.env.cr.execute(
            "UPDATE sale_order_line SET flow_qty_to_deliver = NULL, "
            "flow_commitment_date_effective = NULL WHERE id = ANY(%s)",
            [lines.ids],
        )
        Line = self.env["sale.order.line"]
        Line._flow_fill_install_columns(fnames, ids=lines.ids)
        lines.invalidate_recordset(fnames)
        self.assertEqual(lines.read(fnames), expected)
        # the quantity alone
        self.env.cr.execute(
            "UPDATE sale_order_line SET flow_qty_to_deliver = 0 WHERE id = ANY(%s)",
            [lines.ids],
        )
        Line._flow_fill_install_columns(["flow_qty_to_deliver"], ids=lines.ids)
        lines.invalidate_recordset(fnames)
        self.assertEqual(lines.read(fnames), expected)

    # ------------------------------------------------------------------
    # point 13: quantities in the product's unit
    # ------------------------------------------------------------------
    def test_rule_minimum_quantity_in_product_unit(self):
        rule = self.Rule.create(
            {
                "name": "20 chairs",
                "product_ids": [Command.set(self.chair.ids)],
                "min_qty": 20.0,
                "discount_percent": 10.0,
            }
        )
        order = self._quotation(
            # 2 dozen = 24 chairs: the rule applies
            {
                "product_id": self.chair.id,
                "product_uom_qty": 2,
                "product_uom": self.dozen.id,
            },
            # 1 dozen = 12 chairs: it does not
            {"product_id": self.chair.id, "product_uom_qty": 1},
        )
        two, one = order.order_line.sorted("id")
        self.assertEqual(two.product_uom, self.dozen)
        self.assertEqual(two.price_unit, 960.0)
        self.assertRecordValues(
            two | one,
            [
                {"flow_discount_1": 10.0, "flow_discount_1_rule_id": rule.id},
                {"flow_discount_1": 0.0, "flow_discount_1_rule_id": False},
            ],
        )
        self.assertEqual(two.price_subtotal, 1728.0)

    def test_buy_x_get_y_in_product_unit(self):
        self.Rule.create(
            {
                "name": "Gift every 12 chairs",
                "effect": "free",
                "product_ids": [Command.set(self.chair.ids)],
                "free_product_id": self.gift.id,
                "free_per_qty": 12.0,
                "free_qty": 1.0,
            }
        )
        order = self._quotation(
            {
                "product_id": self.chair.id,
                "product_uom_qty": 2,
                "product_uom": self.dozen.id,
            },
        )
        free = order.order_line.filtered("flow_is_free_item")
        self.assertRecordValues(
            free,
            [{"product_id": self.gift.id, "product_uom_qty": 2.0, "price_subtotal": 0}],
        )

    def test_amount_off_per_unit_in_product_unit(self):
        """2.00 off per chair is 24.00 off a dozen at 960: 2.5 %."""
        self.Rule.create(
            {
                "name": "2 off each chair",
                "effect": "fixed",
                "product_ids": [Command.set(self.chair.ids)],
                "fixed_amount": 2.0,
            }
        )
        order = self._quotation(
            {
                "product_id": self.chair.id,
                "product_uom_qty": 1,
                "product_uom": self.dozen.id,
            },
            {"product_id": self.chair.id, "product_uom_qty": 1},
        )
        dozen, unit = order.order_line.sorted("id")
        self.assertEqual(dozen.flow_discount_1, 2.5)
        self.assertEqual(dozen.price_subtotal, 936.0)
        self.assertEqual(unit.flow_discount_1, 2.5)
        self.assertEqual(unit.price_subtotal, 78.0)

    @freeze_time("2024-06-15 12:00:00")
    def test_favourite_quantities_in_product_unit(self):
        for qty, uom in ((2, self.dozen), (6, self.chair.uom_id)):
            order = self._quotation(
                {
                    "product_id": self.chair.id,
                    "product_uom_qty": qty,
                    "product_uom": uom.id,
                }
            )
            order.with_user(self.salesman).action_confirm()
            order.date_order = datetime(2024, 5, 1)
        favourites = self.customer.with_user(
            self.salesman
        )._flow_get_favourite_products()
        self.assertEqual(
            [(f["product"], f["qty"], f["order_count"]) for f in favourites],
            [(self.chair, 30.0, 2)],
        )
        quotation = self._quotation({"product_id": self.service.id})
        action = quotation.with_user(
            self.salesman
        ).action_flow_open_product_suggestions()
        wizard = self.env[action["res_model"]].browse(action["res_id"])
        self.assertEqual(wizard.line_ids.qty_ordered, 30.0)
