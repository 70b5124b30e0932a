from decimal import ROUND_HALF_UP, Decimal

from psycopg2 import IntegrityError

from odoo import Command
from odoo.exceptions import ValidationError
from odoo.tests import Form, tagged
from odoo.tools import mute_logger

from .common import SaleFlowCommon


def money(value):
    """Round half up to the cent, as Odoo rounds amounts (hand computation)."""
    return float(Decimal(str(value)).quantize(Decimal("0.01"), ROUND_HALF_UP))


@tagged("post_install", "-at_install")
class TestStackedDiscount(SaleFlowCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Discount columns are shown (and pricelist discounts enabled).
        discount_group = cls.env.ref("sale.group_discount_per_so_line")
        cls.env.user.groups_id += discount_group
        cls.salesman.groups_id += discount_group
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

    def _order_with(self, price, qty, tax, **line_values):
        """A quotation of the salesperson."""
        return (
            self.env["sale.order"]
            .with_user(self.salesman)
            .create(
                {
                    "partner_id": self.customer.id,
                    "order_line": [
                        Command.create(
                            {
                                "product_id": self.product.id,
                                "product_uom_qty": qty,
                                "price_unit": price,
                                "tax_id": [Command.set(tax.ids)],
                                **line_values,
                            }
                        )
                    ],
                }
            )
        )

    def _invoice(self, order):
        order.action_confirm()
        order.order_line.qty_delivered = order.order_line.product_uom_qty
        invoice = order._create_invoices()
        invoice.with_user(self.accountant).action_post()
        return invoice

    def test_single_discount_equals_odoo(self):
        """One discount: the very figures of Odoo's own computation."""
        order = self._order_with(33.33, 7, self.tax_excluded, discount=12.5)
        line = order.order_line
        self.assertRecordValues(
            line,
            [
                {
                    "flow_discount_1": 12.5,
                    "flow_discount_2": 0.0,
                    "flow_discount_3": 0.0,
                    "discount": 12.5,
                    "flow_discount_manual": True,
                }
            ],
        )
        # Odoo's engine fed with the plain discount, as sale computes it.
        base_line = self.env["account.tax"]._prepare_base_line_for_taxes_computation(
            None,
            price_unit=33.33,
            quantity=7,
            discount=12.5,
            tax_ids=self.tax_excluded,
            currency_id=order.currency_id,
        )
        self.env["account.tax"]._add_tax_details_in_base_line(base_line, self.company)
        details = base_line["tax_details"]
        self.assertEqual(
            line.price_subtotal, money(details["raw_total_excluded_currency"])
        )
        self.assertEqual(
            line.price_total, money(details["raw_total_included_currency"])
        )
        # and by hand: 33.33 x 7 x 0.875 = 204.14625
        self.assertEqual(line.price_subtotal, 204.15)
        self.assertEqual(order.amount_tax, money(204.14625 * 0.21))
        invoice = self._invoice(order)
        self.assertRecordValues(
            invoice.invoice_line_ids,
            [{"discount": 12.5, "flow_discount_1": 12.5, "price_subtotal": 204.15}],
        )
        self.assertEqual(invoice.amount_total, order.amount_total)

    def test_stack_price_excluded_tax(self):
        """10 + 5 + 3 % = 17.065 %: stored exactly (shown 17.07), amounts from
        17.065."""
        order = self._order_with(
            100.0,
            3,
            self.tax_excluded,
            flow_discount_1=10.0,
            flow_discount_2=5.0,
            flow_discount_3=3.0,
        )
        line = order.order_line
        self.assertEqual(line.discount, 17.065)
        self.assertAlmostEqual(line._flow_get_effective_discount(), 17.065, places=9)
        self.assertEqual(line.flow_discount_display, "10 + 5 + 3 %")
        # 100 x 0.9 x 0.95 x 0.97 = 82.935 per unit; x 3 = 248.805
        self.assertEqual(line.price_subtotal, 248.81)  # 17.07 % would give 248.79
        self.assertEqual(order.amount_untaxed, 248.81)
        self.assertEqual(order.amount_tax, money(248.805 * 0.21))  # 52.25
        self.assertEqual(order.amount_total, 248.81 + 52.25)

        invoice = self._invoice(order)
        inv_line = invoice.invoice_line_ids
        self.assertRecordValues(
            inv_line,
            [
                {
                    "flow_discount_1": 10.0,
                    "flow_discount_2": 5.0,
                    "flow_discount_3": 3.0,
                    "discount": 17.065,
                    "price_subtotal": 248.81,
                    "credit": 248.81,
                }
            ],
        )
        self.assertEqual(invoice.amount_untaxed, 248.81)
        self.assertEqual(invoice.amount_tax, 52.25)
        self.assertEqual(invoice.amount_total, 301.06)
        tax_line = invoice.line_ids.filtered(lambda aml: aml.display_type == "tax")
        receivable = invoice.line_ids.filtered(
            lambda aml: aml.display_type == "payment_term"
        )
        self.assertEqual(tax_line.credit, 52.25)
        self.assertEqual(receivable.debit, 301.06)
        self.assertTrue(
            invoice.currency_id.is_zero(sum(invoice.line_ids.mapped("balance")))
        )

    def test_stack_price_included_tax(self):
        """Price-included tax: the total follows the exact discount too."""
        order = self._order_with(
            121.0,
            10,
            self.tax_included,
            flow_discount_1=10.0,
            flow_discount_2=5.0,
            flow_discount_3=3.0,
        )
        line = order.order_line
        # 1210 x 0.82935 = 1003.5135 included (17.07 % would give 1003.45);
        # tax 1003.5135 x 21 / 121 = 174.1635; the base is what remains of the
        # rounded total, as Odoo does for included taxes: 1003.51 - 174.16.
        self.assertEqual(line.price_total, 1003.51)
        self.assertEqual(line.price_subtotal, 829.35)
        self.assertRecordValues(
            order,
            [{"amount_total": 1003.51, "amount_tax": 174.16, "amount_untaxed": 829.35}],
        )
        invoice = self._invoice(order)
        self.assertRecordValues(
            invoice,
            [{"amount_total": 1003.51, "amount_tax": 174.16, "amount_untaxed": 829.35}],
        )
        receivable = invoice.line_ids.filtered(
            lambda aml: aml.display_type == "payment_term"
        )
        income = invoice.line_ids.filtered(lambda aml: aml.display_type == "product")
        tax_line = invoice.line_ids.filtered(lambda aml: aml.display_type == "tax")
        self.assertEqual(receivable.debit, 1003.51)
        self.assertEqual(income.credit, 829.35)
        self.assertEqual(tax_line.credit, 174.16)

    def test_discount_alone_is_level_one(self):
        order = self._order_with(100.0, 1, self.tax_excluded)
        line = order.order_line
        line.write({"flow_discount_2": 5.0, "flow_discount_3": 2.0})
        self.assertEqual(line.discount, 6.9)
        line.write({"discount": 12.0})
        self.assertRecordValues(
            line,
            [
                {
                    "flow_discount_1": 12.0,
                    "flow_discount_2": 0.0,
                    "flow_discount_3": 0.0,
                    "discount": 12.0,
                    "price_subtotal": 88.0,
                }
            ],
        )
        # In the form: the plain column sets level 1, a level updates the rest.
        with Form(order) as order_form, order_form.order_line.edit(0) as line_form:
            line_form.discount = 20.0
            self.assertEqual(line_form.flow_discount_1, 20.0)
            line_form.flow_discount_2 = 10.0
            self.assertEqual(line_form.discount, 28.0)
        self.assertRecordValues(
            line,
            [
                {
                    "flow_discount_1": 20.0,
                    "flow_discount_2": 10.0,
                    "discount": 28.0,
                    "flow_discount_manual": True,
                    "price_subtotal": 72.0,
                }
            ],
        )

    def test_invoice_line_stack_edit(self):
        """Invoice lines typed by hand (by the accountant) follow the same
        rules."""
        invoice = (
            self.env["account.move"]
            .with_user(self.accountant)
            .create(
                {
                    "move_type": "out_invoice",
                    "partner_id": self.customer.id,
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "product_id": self.product.id,
                                "price_unit": 100.0,
                                "quantity": 1,
                                "discount": 10.0,
                                "tax_ids": [Command.clear()],
                            }
                        )
                    ],
                }
            )
        )
        line = invoice.invoice_line_ids
        self.assertEqual(line.flow_discount_1, 10.0)
        line.flow_discount_2 = 50.0
        self.assertEqual(line.discount, 55.0)
        self.assertEqual(invoice.amount_total, 45.0)

    def test_bad_input(self):
        order = self._order_with(100.0, 1, self.tax_excluded, discount=10.0)
        line = order.order_line
        for values in (
            {"flow_discount_2": 101.0},
            {"flow_discount_3": -1.0},
            {"discount": 150.0},
            {"discount": -5.0},
        ):
            with self.assertRaises(ValidationError):
                line.write(values)
            line.invalidate_recordset()
            self.assertRecordValues(
                line,
                [
                    {
                        "flow_discount_1": 10.0,
                        "flow_discount_2": 0.0,
                        "flow_discount_3": 0.0,
                        "discount": 10.0,
                    }
                ],
            )
        count = len(order.order_line)
        # New lines are checked in Python before the database sees them.
        with self.assertRaises(ValidationError):
            order.write(
                {
                    "order_line": [
                        Command.create(
                            {"product_id": self.product.id, "flow_discount_1": 120.0}
                        )
                    ]
                }
            )
        order.invalidate_recordset()
        self.assertEqual(len(order.order_line), count)
        # The database refuses it too.
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError):
            with self.env.cr.savepoint():
                self.env.cr.execute(
                    "UPDATE sale_order_line SET flow_discount_3 = 101 WHERE id = %s",
                    [line.id],
                )

    def test_pricelist_discount_fills_level_one(self):
        self.env.ref("base.group_user").implied_ids += self.env.ref(
            "sale.group_discount_per_so_line"
        )
        pricelist = self.env["product.pricelist"].create(
            {
                "name": "Ten off",
                "item_ids": [
                    Command.create(
                        {
                            "compute_price": "percentage",
                            "percent_price": 10.0,
                            "applied_on": "3_global",
                        }
                    )
                ],
            }
        )
        order = (
            self.env["sale.order"]
            .with_user(self.salesman)
            .create(
                {
                    "partner_id": self.customer.id,
                    "pricelist_id": pricelist.id,
                    "order_line": [
                        Command.create(
                            {"product_id": self.product.id, "product_uom_qty": 2}
                        )
                    ],
                }
            )
        )
        line = order.order_line
        self.assertRecordValues(
            line,
            [
                {
                    "price_unit": 100.0,
                    "flow_discount_1": 10.0,
                    "discount": 10.0,
                    "flow_discount_manual": False,
                    "price_subtotal": 180.0,
                }
            ],
        )
        line.flow_discount_2 = 5.0
        self.assertEqual(line.discount, 14.5)
        self.assertEqual(line.price_subtotal, 171.0)
        self.assertTrue(line.flow_discount_manual)
