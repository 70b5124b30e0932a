from datetime import timedelta

from odoo import Command, fields
from odoo.tests import tagged
from odoo.tools import format_amount

from .common import SaleFlowCommon


@tagged("post_install", "-at_install")
class TestBackofficeScreens(SaleFlowCommon):
    """What the back-office screens show (issue 11, points 5, 7, 13-16)."""

    def test_agreement_lines_show_unit_and_currency(self):
        agreement = (
            self.env["sale.flow.agreement"]
            .with_user(self.manager)
            .create(
                {
                    "partner_id": self.customer.id,
                    "date_start": fields.Date.today() - timedelta(days=1),
                    "date_end": fields.Date.today() + timedelta(days=100),
                    "line_ids": [
                        Command.create(
                            {
                                "commitment_type": "quantity",
                                "product_id": self.product.id,
                                "qty_committed": 1500.0,
                            }
                        ),
                        Command.create(
                            {
                                "commitment_type": "value",
                                "product_id": self.service.id,
                                "amount_committed": 5000.0,
                            }
                        ),
                    ],
                }
            )
        )
        qty_line, value_line = agreement.with_user(self.salesman).line_ids
        unit = self.product.uom_id.name
        self.assertEqual(qty_line.committed_display, f"1,500.00 {unit}")
        self.assertEqual(qty_line.remaining_display, f"1,500.00 {unit}")
        self.assertEqual(qty_line.consumed_display, f"0.00 {unit}")
        self.assertEqual(qty_line.commitment_label, self.product.display_name)
        self.assertEqual(
            value_line.committed_display,
            format_amount(self.env, 5000.0, agreement.currency_id),
        )
        self.assertIn("5,000.00", value_line.committed_display)
        self.assertIn(agreement.currency_id.symbol, value_line.committed_display)
        # the list shows those, not the raw figures mixing units and money
        arch = self.env.ref("sales_order_flow.sale_flow_agreement_view_form").arch
        for name in ("committed_display", "consumed_display", "remaining_display"):
            self.assertIn(f'name="{name}"', arch)

    def test_price_simulation_margin_in_one_format(self):
        order = self._create_order(qty=3)
        wizard = (
            self.env["sale.flow.price.simulation"]
            .with_user(self.salesman)
            .create({"order_id": order.id})
        )
        line = wizard.line_ids
        self.assertAlmostEqual(line.new_margin_rate, line.new_margin_percent * 100.0)
        self.assertAlmostEqual(
            wizard.new_margin_rate, wizard.new_margin_percent * 100.0
        )
        self.assertAlmostEqual(wizard.current_margin_rate, order.margin_percent * 100.0)
        # 2 digits everywhere, where the percentage widget dropped zeros
        for field in (
            line._fields["new_margin_rate"],
            wizard._fields["new_margin_rate"],
            wizard._fields["current_margin_rate"],
        ):
            self.assertEqual(field.get_digits(self.env), (16, 2))
        arch = self.env.ref(
            "sales_order_flow.sale_flow_price_simulation_view_form"
        ).arch
        self.assertNotIn('widget="percentage"', arch)
        action = self.env.ref("sales_order_flow.sale_flow_price_simulation_action")
        self.assertIn("'dialog_size': 'extra-large'", action.context)

    def test_price_explanation_opens_from_the_line(self):
        order = self._create_order(qty=2)
        line = order.order_line.with_user(self.salesman)
        action = line.action_flow_open_price_explanation()
        self.assertEqual(action["target"], "new")
        self.assertEqual(action["res_id"], line.id)
        view = self.env["ir.ui.view"].browse(action["views"][0][0])
        self.assertIn("flow_price_explanation", view.arch)
        self.assertTrue(line.flow_price_explanation)

    def test_invoice_shows_the_effective_discount(self):
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
                                "quantity": 10,
                                "price_unit": 700.0,
                                "flow_discount_1": 10.0,
                                "flow_discount_2": 5.0,
                                "tax_ids": [Command.clear()],
                            }
                        ),
                        Command.create(
                            {
                                "product_id": self.service.id,
                                "quantity": 1,
                                "price_unit": 100.0,
                                "flow_discount_1": 10.0,
                                "tax_ids": [Command.clear()],
                            }
                        ),
                        Command.create(
                            {
                                "product_id": self.service.id,
                                "quantity": 1,
                                "price_unit": 100.0,
                                "tax_ids": [Command.clear()],
                            }
                        ),
                    ],
                }
            )
        )
        stacked, single, none = invoice.invoice_line_ids
        self.assertEqual(stacked.price_subtotal, 5985.0)
        self.assertEqual(stacked.flow_discount_effective_display, "10 + 5 % = 14.5 %")
        self.assertEqual(single.flow_discount_effective_display, "10 %")
        self.assertFalse(none.flow_discount_effective_display)
        # shown by default on the invoice lines
        arch = self.env.ref(
            "sales_order_flow.account_move_view_form_inherit_sales_order_flow_discount"
        ).arch
        self.assertIn(
            '<field name="flow_discount_effective_display" string="Discount" '
            'optional="show"',
            arch,
        )

    def test_sales_menus_in_odoo_order(self):
        Menu = self.env["ir.ui.menu"]
        root = self.env.ref("sale.sale_menu_root")
        visible = Menu.with_user(self.salesman)._visible_menu_ids()
        top = root.child_id.filtered(lambda m: m.id in visible).sorted(
            lambda m: (m.sequence, m.id)
        )
        self.assertEqual(top[0], self.env.ref("sale.sale_order_menu"))
        self.assertNotIn(
            self.env.ref("sales_order_flow.sale_flow_commission_menu"), top
        )
        self.assertEqual(
            self.env.ref("sales_order_flow.sale_flow_commission_menu").parent_id,
            self.env.ref("sale.menu_sale_invoicing"),
        )
        config = self.env.ref("sales_order_flow.sales_order_flow_config_menu")
        sequences = config.child_id.mapped("sequence")
        self.assertEqual(len(sequences), len(set(sequences)))
        # Invoicing > Customers: after Odoo's own entries
        receivables = self.env.ref("account.menu_finance_receivables").child_id
        ours = self.env.ref("sales_order_flow.sale_flow_rebate_settlement_account_menu")
        odoo_entries = receivables.filtered(
            lambda m: m.get_external_id()[m.id].startswith("account.")
        )
        self.assertGreater(ours.sequence, max(odoo_entries.mapped("sequence")))
