from unittest.mock import patch

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import Form, tagged

from .common import SaleFlowCommon


@tagged("post_install", "-at_install")
class TestPriceSimulation(SaleFlowCommon):
    """Quotation used throughout (no pricelist discount, 15 % tax on goods):

    - 10 x Flow Widget at 100, cost 60, taxed 15 %: 1,000 untaxed, margin 400
    - 4 x Flow Service at 50 with 10 % discount, cost 20: 180, margin 100

    Current figures: untaxed 1,180, taxes 150, total 1,330, margin 500.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        country = cls.company.account_fiscal_country_id or cls.env.ref("base.us")
        tax_group = cls.env["account.tax.group"].create(
            {"name": "Flow VAT", "country_id": country.id}
        )
        cls.tax_15 = cls.env["account.tax"].create(
            {
                "name": "Flow VAT 15%",
                "amount": 15.0,
                "amount_type": "percent",
                "type_tax_use": "sale",
                "country_id": country.id,
                "tax_group_id": tax_group.id,
            }
        )
        cls.order = cls.env["sale.order"].create(
            {
                "partner_id": cls.customer.id,
                "user_id": cls.salesman.id,
                "team_id": cls.team.id,
                "order_line": [
                    Command.create(
                        {
                            "product_id": cls.product.id,
                            "product_uom_qty": 10.0,
                            "price_unit": 100.0,
                            "tax_id": [Command.set(cls.tax_15.ids)],
                        }
                    ),
                    Command.create(
                        {
                            "product_id": cls.service.id,
                            "product_uom_qty": 4.0,
                            "price_unit": 50.0,
                            "discount": 10.0,
                        }
                    ),
                ],
            }
        )
        cls.widget_line, cls.service_line = cls.order.order_line

    def _simulation_form(self, user=None):
        Simulation = self.env["sale.flow.price.simulation"].with_user(
            user or self.salesman
        )
        return Form(Simulation.with_context(default_order_id=self.order.id))

    def _assert_totals(self, simulation, untaxed, tax, total, margin):
        self.assertRecordValues(
            simulation,
            [
                {
                    "new_amount_untaxed": untaxed,
                    "new_amount_tax": tax,
                    "new_amount_total": total,
                    "new_margin": margin,
                }
            ],
        )
        self.assertAlmostEqual(simulation.new_margin_percent, margin / untaxed)

    def test_current_figures(self):
        simulation = self._simulation_form().save()
        self.assertRecordValues(
            simulation,
            [
                {
                    "mode": "extra_discount",
                    "current_amount_untaxed": 1180.0,
                    "current_amount_tax": 150.0,
                    "current_amount_total": 1330.0,
                    "current_margin": 500.0,
                    "target_total": 1180.0,
                    "input_error": False,
                }
            ],
        )
        self.assertAlmostEqual(simulation.current_margin_percent, 500.0 / 1180.0)
        # nothing simulated yet: the simulated figures are the current ones
        self._assert_totals(simulation, 1180.0, 150.0, 1330.0, 500.0)
        self.assertRecordValues(
            simulation.line_ids,
            [
                {
                    "order_line_id": self.widget_line.id,
                    "current_subtotal": 1000.0,
                    "price_unit": 100.0,
                    "discount": 0.0,
                    "new_subtotal": 1000.0,
                    "new_margin": 400.0,
                },
                {
                    "order_line_id": self.service_line.id,
                    "current_subtotal": 180.0,
                    "price_unit": 50.0,
                    "discount": 10.0,
                    "new_subtotal": 180.0,
                    "new_margin": 100.0,
                },
            ],
        )

    def test_extra_discount(self):
        with self._simulation_form() as form:
            form.extra_discount = 10.0
            # shown before saving, as the user sees it
            self.assertEqual(form.new_amount_untaxed, 1062.0)
        simulation = form.record
        # compounded on the line's own discount: 1 - 0.9 * 0.9 = 19 %
        self.assertRecordValues(
            simulation.line_ids,
            [
                {"price_unit": 100.0, "discount": 10.0, "new_subtotal": 900.0},
                {"price_unit": 50.0, "discount": 19.0, "new_subtotal": 162.0},
            ],
        )
        self.assertRecordValues(
            simulation.line_ids, [{"new_margin": 300.0}, {"new_margin": 82.0}]
        )
        self._assert_totals(simulation, 1062.0, 135.0, 1197.0, 382.0)

    def test_target_total(self):
        with self._simulation_form() as form:
            form.mode = "target_total"
            form.target_total = 944.0
        simulation = form.record
        self.assertAlmostEqual(simulation.applied_extra_discount, 20.0)
        self.assertRecordValues(
            simulation.line_ids,
            [
                {"discount": 20.0, "new_subtotal": 800.0, "new_margin": 200.0},
                {"discount": 28.0, "new_subtotal": 144.0, "new_margin": 64.0},
            ],
        )
        self._assert_totals(simulation, 944.0, 120.0, 1064.0, 264.0)

    def test_line_prices(self):
        with self._simulation_form() as form:
            form.mode = "line_prices"
            with form.line_ids.edit(0) as line:
                line.price_unit = 90.0
            with form.line_ids.edit(1) as line:
                line.discount = 0.0
        simulation = form.record
        self.assertRecordValues(
            simulation.line_ids,
            [
                {"price_unit": 90.0, "discount": 0.0, "new_subtotal": 900.0},
                {"price_unit": 50.0, "discount": 0.0, "new_subtotal": 200.0},
            ],
        )
        self._assert_totals(simulation, 1100.0, 135.0, 1235.0, 420.0)

    def test_approval_prediction(self):
        self.env["sale.flow.approval.rule"].create(
            {
                "name": "Discount above 10 %",
                "check_discount": True,
                "min_discount": 10.0,
                "approver_user_ids": [Command.set(self.approver.ids)],
                "level": 2,
            }
        )
        # the order's own 10 % discount is not above 10 %
        simulation = self._simulation_form().save()
        self.assertFalse(simulation.approval_needed)
        self.assertEqual(simulation.approval_summary, "No approval needed.")

        with self._simulation_form() as form:
            form.extra_discount = 5.0
            self.assertTrue(form.approval_needed)
        simulation = form.record
        self.assertTrue(simulation.approval_needed)
        self.assertEqual(simulation.approval_rule_ids.name, "Discount above 10 %")
        self.assertIn("Discount above 10 % (level 2)", simulation.approval_summary)
        self.assertIn("Alice Approver", simulation.approval_summary)

    def test_apply_writes_lines_in_one_write_per_group(self):
        order = self._create_order(lines=3, qty=2.0)
        SaleOrderLine = type(self.env["sale.order.line"])
        written = []
        original_write = SaleOrderLine.write

        def spy_write(lines, vals):
            if {"price_unit", "discount"} & set(vals):
                written.append((lines.ids, dict(vals)))
            return original_write(lines, vals)

        Simulation = self.env["sale.flow.price.simulation"].with_user(self.salesman)
        with Form(Simulation.with_context(default_order_id=order.id)) as form:
            form.extra_discount = 25.0
        simulation = form.record
        with patch.object(SaleOrderLine, "write", spy_write):
            simulation.action_apply()
        self.assertEqual(written, [(order.order_line.ids, {"discount": 25.0})])
        self.assertEqual(order.amount_untaxed, 450.0)

    def test_apply(self):
        with self._simulation_form() as form:
            form.mode = "line_prices"
            with form.line_ids.edit(0) as line:
                line.price_unit = 90.0
                line.discount = 5.0
        simulation = form.record
        action = simulation.action_apply()
        self.assertEqual(action["type"], "ir.actions.act_window_close")
        self.assertRecordValues(
            self.order.order_line,
            [
                {"price_unit": 90.0, "discount": 5.0, "price_subtotal": 855.0},
                {"price_unit": 50.0, "discount": 10.0, "price_subtotal": 180.0},
            ],
        )
        self.assertRecordValues(
            self.order,
            [
                {
                    "amount_untaxed": simulation.new_amount_untaxed,
                    "amount_tax": simulation.new_amount_tax,
                    "amount_total": simulation.new_amount_total,
                    "margin": simulation.new_margin,
                }
            ],
        )
        self.assertEqual(self.order.amount_untaxed, 1035.0)
        note = self.order.message_ids[0]
        self.assertIn("Price simulation applied", note.body)
        self.assertIn("1,180.00", note.body)
        self.assertIn("1,035.00", note.body)

    def _assert_refused(self, simulation, message):
        before = self.order.order_line.read(["price_unit", "discount"])
        messages = self.order.message_ids
        with self.assertRaisesRegex(UserError, message):
            simulation.action_apply()
        self.assertEqual(self.order.order_line.read(["price_unit", "discount"]), before)
        self.assertEqual(self.order.message_ids, messages)

    def test_bad_input_refused(self):
        with self._simulation_form() as form:
            form.extra_discount = 120.0
            self.assertEqual(
                form.input_error, "The extra discount must be between 0 and 100 %."
            )
        self._assert_refused(form.record, "between 0 and 100")

        with self._simulation_form() as form:
            form.extra_discount = -5.0
        self._assert_refused(form.record, "between 0 and 100")

        with self._simulation_form() as form:
            form.mode = "target_total"
            form.target_total = 0.0
        self._assert_refused(form.record, "greater than zero")

        with self._simulation_form() as form:
            form.mode = "target_total"
            form.target_total = 1500.0
            # nothing is simulated from an invalid target
            self.assertEqual(form.new_amount_untaxed, 1180.0)
        self._assert_refused(form.record, "cannot be above the current untaxed total")

        with self._simulation_form() as form:
            form.mode = "line_prices"
            with form.line_ids.edit(0) as line:
                line.price_unit = 90.0
            with form.line_ids.edit(1) as line:
                line.discount = 150.0
        # the valid first line is not written either
        self._assert_refused(form.record, "Flow Service must be between 0 and 100 %")

        with self._simulation_form() as form:
            form.mode = "line_prices"
            with form.line_ids.edit(0) as line:
                line.price_unit = -1.0
        self._assert_refused(form.record, "cannot be negative")

    def test_refused_on_confirmed_order(self):
        simulation = self._simulation_form().save()
        self.order.action_confirm()
        with self.assertRaisesRegex(UserError, "Only quotations"):
            simulation.action_apply()

    def test_simulation_queries_do_not_grow_with_lines(self):
        def query_count(lines):
            order = self._create_order(lines=lines, qty=2.0)
            simulation = self.env["sale.flow.price.simulation"].create(
                {"order_id": order.id, "extra_discount": 10.0}
            )
            self.env.flush_all()
            self.env.invalidate_all()
            start = self.cr.sql_log_count
            self.assertEqual(simulation.new_amount_untaxed, lines * 180.0)
            self.assertFalse(simulation.approval_needed)
            return self.cr.sql_log_count - start

        self.assertEqual(query_count(10), query_count(100))
