from datetime import datetime

from freezegun import freeze_time

from odoo import Command
from odoo.tests import tagged

from .common import SaleFlowCommon


class SuggestionCommon(SaleFlowCommon):
    def _quotation(self, partner=None, product=None, qty=1.0, user=None, **values):
        """A quotation of the salesperson (``user``): steps on it run as them."""
        return (
            self.env["sale.order"]
            .with_user(user or self.salesman)
            .create(
                {
                    "partner_id": (partner or self.customer).id,
                    "order_line": [
                        Command.create(
                            {
                                "product_id": (product or self.product).id,
                                "product_uom_qty": qty,
                            }
                        )
                    ],
                    **values,
                }
            )
        )


@tagged("post_install", "-at_install")
class TestPriceExplanation(SuggestionCommon):
    def test_explanation_steps(self):
        rule = self.env["sale.flow.discount.rule"].create(
            {"name": "Widget 10", "discount_percent": 10.0}
        )
        pricelist = self.env["product.pricelist"].create(
            {
                "name": "Fixed 80",
                "item_ids": [
                    Command.create(
                        {
                            "applied_on": "0_product_variant",
                            "product_id": self.product.id,
                            "compute_price": "fixed",
                            "fixed_price": 80.0,
                        }
                    )
                ],
            }
        )
        order = self._quotation(qty=2, pricelist_id=pricelist.id)
        line = order.order_line
        line.flow_discount_2 = 5.0  # by hand
        line.invalidate_recordset(["flow_price_explanation"])
        steps = line._flow_get_price_explanation()
        self.assertEqual(
            [step["kind"] for step in steps],
            [
                "list_price",
                "pricelist",
                "discount",
                "discount",
                "net_price",
                "subtotal",
            ],
        )
        self.assertEqual(steps[0]["value"], 100.0)
        self.assertEqual(steps[1]["value"], 80.0)
        self.assertEqual(
            [(s["level"], s["source"], s["rule_id"]) for s in steps[2:4]],
            [(1, "rule", rule), (2, "manual", self.env["sale.flow.discount.rule"])],
        )
        self.assertIn("Widget 10", steps[2]["label"])
        self.assertAlmostEqual(steps[4]["value"], 80 * 0.9 * 0.95)
        self.assertEqual(steps[5]["value"], line.price_subtotal)
        self.assertEqual(line.price_subtotal, 136.8)
        self.assertIn("Widget 10", line.flow_price_explanation)
        self.assertIn("Fixed 80", line.flow_price_explanation)
        # The agreement hook adds its step when it gives one.
        self.assertIsNone(line._flow_get_agreement_price_step())

    def test_explanation_on_pdf_when_enabled(self):
        self.env["sale.flow.discount.rule"].create(
            {"name": "Shown rule", "discount_percent": 10.0}
        )
        order = self._quotation()
        report = self.env["ir.actions.report"].with_user(self.salesman)
        html = report._render_qweb_html("sale.action_report_saleorder", order.ids)[0]
        self.assertNotIn(b"o_flow_price_explanation_report", html)
        self.assertIn(b"10 %", html)
        self.company.flow_show_price_explanation = True
        html = report._render_qweb_html("sale.action_report_saleorder", order.ids)[0]
        self.assertIn(b"o_flow_price_explanation_report", html)
        self.assertIn(b"Shown rule", html)


@tagged("post_install", "-at_install")
class TestProductSuggestion(SuggestionCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_customer = cls.env["res.partner"].create(
            {"name": "History Co", "is_company": True}
        )
        cls.contact = cls.env["res.partner"].create(
            {"name": "History buyer", "parent_id": cls.company_customer.id}
        )
        cls.other_product = cls.env["product.product"].create(
            {"name": "Rare Widget", "list_price": 10.0}
        )

    def _confirmed(self, date, partner=None, product=None, qty=1.0, user=None):
        order = self._quotation(
            partner=partner or self.contact, product=product, qty=qty, user=user
        )
        order.action_confirm()
        order.date_order = date
        return order

    @freeze_time("2024-06-15 12:00:00")
    def test_favourites_and_suggestions(self):
        self._confirmed(datetime(2024, 1, 10), qty=5)
        # sold by another salesperson: the customer's history all the same
        self._confirmed(
            datetime(2024, 5, 2),
            partner=self.company_customer,
            qty=3,
            user=self.salesman_2,
        )
        self._confirmed(datetime(2024, 3, 1), product=self.other_product, qty=50)
        # Too old, another customer, a draft: not counted.
        self._confirmed(datetime(2023, 5, 1), qty=100)
        self._confirmed(datetime(2024, 5, 1), partner=self.customer, qty=100)
        self._quotation(partner=self.contact, qty=100)
        favourites = self.company_customer.with_user(
            self.salesman
        )._flow_get_favourite_products()
        self.assertEqual(
            [(f["product"], f["qty"], f["order_count"]) for f in favourites],
            [(self.product, 8.0, 2), (self.other_product, 50.0, 1)],
        )
        self.assertEqual(favourites[0]["last_date"], datetime(2024, 5, 2))
        self.assertIn("Rare Widget", self.company_customer.flow_favourite_products_html)
        # A shorter history drops the January order.
        self.company.flow_suggestion_months = 3
        favourites = self.contact.with_user(
            self.salesman
        )._flow_get_favourite_products()
        self.assertEqual(
            [(f["product"], f["qty"]) for f in favourites], [(self.product, 3.0)]
        )
        self.company.flow_suggestion_months = 12

        quotation = self._quotation(partner=self.contact, product=self.service)
        action = quotation.action_flow_open_product_suggestions()
        wizard = (
            self.env[action["res_model"]]
            .with_user(self.salesman)
            .browse(action["res_id"])
        )
        self.assertEqual(wizard.line_ids.product_id, self.product | self.other_product)
        line = wizard.line_ids.filtered(lambda s: s.product_id == self.other_product)
        line.quantity = 4
        line.action_add()
        self.assertTrue(line.added)
        added = quotation.order_line.filtered(
            lambda sol: sol.product_id == self.other_product
        )
        self.assertEqual(added.product_uom_qty, 4.0)

    @freeze_time("2024-06-15 12:00:00")
    def test_favourites_query_count_constant(self):
        """The same queries for 2 products as for 8: grouped, not per product."""
        small = self.env["res.partner"].create({"name": "Small", "is_company": True})
        big = self.env["res.partner"].create({"name": "Big", "is_company": True})
        products = self.env["product.product"].create(
            [{"name": f"P{i}", "list_price": 1.0} for i in range(8)]
        )
        for partner, count in ((small, 2), (big, 8)):
            for product in products[:count]:
                self._confirmed(datetime(2024, 5, 1), partner=partner, product=product)
                self._confirmed(datetime(2024, 5, 3), partner=partner, product=product)
        counts = {}
        for partner in (small, big, small, big):
            self.env.invalidate_all()
            _commercial = partner.commercial_partner_id
            start = self.cr.sql_log_count
            favourites = partner.with_user(self.salesman)._flow_get_favourite_products()
            _names = [fav["product"].display_name for fav in favourites]
            counts[partner.name] = (self.cr.sql_log_count - start, len(favourites))
        self.assertEqual(counts["Small"][1], 2)
        self.assertEqual(counts["Big"][1], 8)
        self.assertEqual(counts["Small"][0], counts["Big"][0], counts)
