import logging
from datetime import datetime

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import Form, tagged

from .common import SaleFlowCommon

_logger = logging.getLogger(__name__)


@tagged("post_install", "-at_install")
class TestDiscountRule(SaleFlowCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        discount_group = cls.env.ref("sale.group_discount_per_so_line")
        cls.env.user.groups_id += discount_group
        cls.salesman.groups_id += discount_group
        Category = cls.env["product.category"]
        cls.categ_parent = Category.create({"name": "Furniture"})
        cls.categ_child = Category.create(
            {"name": "Chairs", "parent_id": cls.categ_parent.id}
        )
        cls.categ_other = Category.create({"name": "Other"})
        cls.chair = cls.env["product.product"].create(
            {
                "name": "Chair",
                "list_price": 100.0,
                "categ_id": cls.categ_child.id,
                "taxes_id": [Command.clear()],
            }
        )
        cls.gift = cls.env["product.product"].create(
            {"name": "Gift", "list_price": 10.0, "taxes_id": [Command.clear()]}
        )
        cls.tag = cls.env["res.partner.category"].create({"name": "VIP"})
        cls.company_customer = cls.env["res.partner"].create(
            {
                "name": "Big Co",
                "is_company": True,
                "category_id": [Command.set(cls.tag.ids)],
            }
        )
        cls.company_contact = cls.env["res.partner"].create(
            {"name": "Big Co buyer", "parent_id": cls.company_customer.id}
        )
        cls.Rule = cls.env["sale.flow.discount.rule"]

    def _rule(self, **values):
        values.setdefault("name", "Rule")
        values.setdefault("discount_percent", 10.0)
        return self.Rule.create(values)

    def _order(self, product=None, qty=1.0, partner=None, lines=1, **values):
        """A quotation of the salesperson: every step on it runs as them."""
        product = product or self.chair
        return (
            self.env["sale.order"]
            .with_user(self.salesman)
            .create(
                {
                    "partner_id": (partner or self.customer).id,
                    "order_line": [
                        Command.create(
                            {"product_id": product.id, "product_uom_qty": qty}
                        )
                        for _i in range(lines)
                    ],
                    **values,
                }
            )
        )

    def test_category_children_and_levels(self):
        rule = self._rule(categ_ids=[Command.set(self.categ_parent.ids)], level="2")
        order = self._order()
        self.assertRecordValues(
            order.order_line,
            [
                {
                    "flow_discount_1": 0.0,
                    "flow_discount_2": 10.0,
                    "flow_discount_2_rule_id": rule.id,
                    "discount": 10.0,
                    "flow_discount_manual": False,
                    "price_subtotal": 90.0,
                }
            ],
        )
        other = self._order(product=self.product)  # category "All"
        self.assertEqual(other.order_line.discount, 0.0)
        self.assertEqual(order.order_line.flow_discount_rule_ids, rule)

    def test_priority_same_level_and_cumulative(self):
        low = self._rule(name="Low", sequence=20, discount_percent=20.0)
        high = self._rule(name="High", sequence=5, discount_percent=10.0)
        level_2 = self._rule(
            name="Level 2", sequence=30, level="2", discount_percent=5.0
        )
        line = self._order().order_line
        self.assertRecordValues(
            line,
            [
                {
                    "flow_discount_1": 10.0,
                    "flow_discount_1_rule_id": high.id,
                    "flow_discount_2": 5.0,
                    "flow_discount_2_rule_id": level_2.id,
                    "discount": 14.5,
                }
            ],
        )
        self.assertNotIn(low, line.flow_discount_rule_ids)

    def test_exclusive_stops_next_rules(self):
        exclusive = self._rule(name="Exclusive", sequence=5, exclusive=True)
        self._rule(name="After", sequence=10, level="2", discount_percent=5.0)
        line = self._order().order_line
        self.assertEqual(line.flow_discount_rule_ids, exclusive)
        self.assertEqual(line.discount, 10.0)
        # Exclusive rules only stop rules when they apply.
        exclusive.min_qty = 5
        line.order_id.action_flow_recompute_discounts()
        self.assertRecordValues(
            line, [{"flow_discount_1": 0.0, "flow_discount_2": 5.0, "discount": 5.0}]
        )

    def test_dates(self):
        self._rule(date_from="2024-03-01", date_to="2024-03-31")
        inside = self._order(date_order=datetime(2024, 3, 15, 10, 0))
        before = self._order(date_order=datetime(2024, 2, 28, 10, 0))
        after = self._order(date_order=datetime(2024, 4, 1, 10, 0))
        self.assertEqual(inside.order_line.discount, 10.0)
        self.assertEqual(before.order_line.discount, 0.0)
        self.assertEqual(after.order_line.discount, 0.0)

    def test_customer_tag_commercial_entity_and_pricelist(self):
        by_tag = self._rule(
            name="Tag", partner_category_ids=[Command.set(self.tag.ids)]
        )
        by_customer = self._rule(
            name="Customer",
            level="2",
            discount_percent=5.0,
            partner_ids=[Command.set(self.company_customer.ids)],
        )
        default = self.env["product.pricelist"].create({"name": "Default"})
        pricelist = self.env["product.pricelist"].create({"name": "Export"})
        by_pricelist = self._rule(
            name="Pricelist",
            level="3",
            discount_percent=2.0,
            pricelist_ids=[Command.set(pricelist.ids)],
        )
        # The contact gets its company's rules (tag and customer).
        line = self._order(
            partner=self.company_contact, pricelist_id=default.id
        ).order_line
        self.assertEqual(line.flow_discount_rule_ids, by_tag | by_customer)
        line = self._order(partner=self.customer, pricelist_id=default.id).order_line
        self.assertFalse(line.flow_discount_rule_ids)
        line = self._order(partner=self.customer, pricelist_id=pricelist.id).order_line
        self.assertEqual(line.flow_discount_rule_ids, by_pricelist)

    def test_min_qty_and_amounts_follow_line_changes(self):
        volume = self._rule(name="Volume", min_qty=50, discount_percent=3.0)
        line_amount = self._rule(
            name="Line amount", level="2", min_line_amount=1000.0, discount_percent=2.0
        )
        order_amount = self._rule(
            name="Order amount",
            level="3",
            min_order_amount=8000.0,
            discount_percent=1.0,
        )
        order = self._order(qty=5)
        line = order.order_line
        self.assertFalse(line.flow_discount_rule_ids)
        line.product_uom_qty = 20  # 2 000 on the line
        self.assertEqual(line.flow_discount_rule_ids, line_amount)
        line.product_uom_qty = 50
        self.assertEqual(line.flow_discount_rule_ids, volume | line_amount)
        # The order amount counts every line (before discounts).
        order.write(
            {
                "order_line": [
                    Command.create({"product_id": self.chair.id, "product_uom_qty": 30})
                ]
            }
        )
        self.assertEqual(
            line.flow_discount_rule_ids, volume | line_amount | order_amount
        )
        self.assertEqual(line.flow_discount_display, "3 + 2 + 1 %")
        line.product_uom_qty = 10
        self.assertEqual(line.flow_discount_rule_ids, line_amount)
        self.assertRecordValues(
            line,
            [{"flow_discount_1": 0.0, "flow_discount_2": 2.0, "flow_discount_3": 0.0}],
        )

    def test_fixed_amount_per_unit(self):
        rule = self._rule(
            effect="fixed", fixed_amount=5.0, discount_percent=0.0, level="3"
        )
        line = self._order(qty=4).order_line
        self.assertRecordValues(
            line,
            [
                {
                    "flow_discount_3": 5.0,
                    "flow_discount_3_rule_id": rule.id,
                    "price_subtotal": 380.0,
                }
            ],
        )

    def test_free_items(self):
        rule = self.Rule.create(
            {
                "name": "Buy 10 get 1",
                "effect": "free",
                "product_ids": [Command.set(self.chair.ids)],
                "free_product_id": self.gift.id,
                "free_per_qty": 10,
                "free_qty": 1,
            }
        )
        order = self._order(qty=25)
        line = order.order_line.filtered(lambda sol: not sol.flow_is_free_item)
        free = order.order_line.filtered("flow_is_free_item")
        self.assertRecordValues(
            free,
            [
                {
                    "product_id": self.gift.id,
                    "product_uom_qty": 2.0,
                    "discount": 100.0,
                    "price_subtotal": 0.0,
                    "flow_free_rule_id": rule.id,
                    "flow_free_source_line_id": line.id,
                }
            ],
        )
        self.assertEqual(order.amount_untaxed, 2500.0)
        self.assertIn(rule, line.flow_discount_rule_ids)
        line.product_uom_qty = 31
        self.assertEqual(free.product_uom_qty, 3.0)
        line.product_uom_qty = 9
        self.assertFalse(free.exists())
        line.product_uom_qty = 10
        free = order.order_line.filtered("flow_is_free_item")
        self.assertEqual(free.product_uom_qty, 1.0)
        # A copy gets its free item from the rules, not twice.
        copy = order.copy()
        self.assertEqual(len(copy.order_line.filtered("flow_is_free_item")), 1)
        self.assertEqual(len(copy.order_line), 2)
        # Removing the line removes its free item.
        order.write({"order_line": [Command.delete(line.id)]})
        self.assertFalse(order.order_line)
        # A free item is no discount for the approval rules.
        self.assertEqual(
            self._order(qty=10)._flow_get_approval_figures()["max_discount"], 0.0
        )

    def test_manual_override_kept_and_reset(self):
        self._rule(discount_percent=10.0)
        order = self._order(lines=2)
        first, second = order.order_line
        with Form(order) as order_form, order_form.order_line.edit(0) as line_form:
            line_form.flow_discount_2 = 4.0
        self.assertRecordValues(
            first,
            [
                {
                    "flow_discount_1": 10.0,
                    "flow_discount_2": 4.0,
                    "flow_discount_manual": True,
                }
            ],
        )
        first.write({"discount": 25.0})
        self.assertTrue(first.flow_discount_manual)
        # Rules leave the manual line alone, on changes and on recompute.
        first.product_uom_qty = 3
        order.action_flow_recompute_discounts()
        self.assertEqual(first.discount, 25.0)
        self.assertEqual(second.discount, 10.0)
        # The line's reset brings the rules back.
        first.action_flow_reset_discount()
        self.assertRecordValues(
            first,
            [
                {
                    "flow_discount_1": 10.0,
                    "flow_discount_2": 0.0,
                    "discount": 10.0,
                    "flow_discount_manual": False,
                }
            ],
        )
        second.write({"flow_discount_3": 1.0})
        order.action_flow_reset_discounts()
        self.assertEqual(order.order_line.mapped("discount"), [10.0, 10.0])
        self.assertFalse(any(order.order_line.mapped("flow_discount_manual")))

    def test_recompute_picks_new_rules(self):
        order = self._order()
        self.assertEqual(order.order_line.discount, 0.0)
        rule = self._rule()
        order.action_flow_recompute_discounts()
        self.assertEqual(order.order_line.flow_discount_1_rule_id, rule)
        rule.active = False
        order.action_flow_recompute_discounts()
        self.assertRecordValues(
            order.order_line,
            [{"flow_discount_1": 0.0, "flow_discount_1_rule_id": False}],
        )

    def test_confirmed_orders_untouched(self):
        order = self._order()
        order.action_confirm()
        self._rule()
        order.order_line.product_uom_qty = 2
        self.assertEqual(order.order_line.discount, 0.0)

    def test_conflict_detection(self):
        base = self._rule(
            name="Chairs 10",
            categ_ids=[Command.set(self.categ_parent.ids)],
            date_from="2024-01-01",
            date_to="2024-06-30",
        )
        same = self._rule(
            name="Chair for VIP",
            product_ids=[Command.set(self.chair.ids)],
            partner_category_ids=[Command.set(self.tag.ids)],
            date_from="2024-06-01",
        )
        other_priority = self._rule(name="Later", sequence=99)
        other_dates = self._rule(name="Autumn", date_from="2024-09-01")
        other_products = self._rule(
            name="Other category", categ_ids=[Command.set(self.categ_other.ids)]
        )
        self.assertEqual(base.conflict_rule_ids, same)
        # "Autumn" starts after "Chairs 10" ends, but while "Chair for VIP" runs.
        self.assertEqual(same.conflict_rule_ids, base | other_dates)
        self.assertFalse(other_priority.conflict_rule_ids)
        self.assertNotIn(base, other_dates.conflict_rule_ids)
        self.assertFalse(other_products.conflict_rule_ids & base)
        # The form warns while the rule is edited.
        with Form(self.Rule) as rule_form:
            rule_form.name = "New"
            rule_form.discount_percent = 3.0
            rule_form.product_ids.add(self.chair)
            self.assertIn(base, rule_form.conflict_rule_ids)
        new = self.Rule.search([("name", "=", "New")])
        self.assertIn(base, new.conflict_rule_ids)
        self.assertIn(same, new.conflict_rule_ids)
        self.assertTrue(new._onchange_flow_conflicts()["warning"]["message"])

    def test_rights(self):
        rule = self._rule()
        self.assertEqual(
            rule.with_user(self.salesman).read(["name"])[0]["name"], "Rule"
        )
        with self.assertRaises(AccessError):
            rule.with_user(self.salesman).write({"discount_percent": 50.0})
        with self.assertRaises(AccessError):
            self.Rule.with_user(self.salesman).create(
                {"name": "Mine", "discount_percent": 5}
            )
        self.Rule.with_user(self.manager).create(
            {"name": "Managed", "discount_percent": 5}
        )
        # Rules apply whoever edits the quotation.
        order = self._order()
        order.with_user(self.salesman).order_line.product_uom_qty = 3
        self.assertEqual(order.order_line.flow_discount_1_rule_id, rule)

    def test_multi_company(self):
        other_company = self.env["res.company"].create({"name": "Other Co"})
        self._rule(company_id=other_company.id)
        self.assertEqual(self._order().order_line.discount, 0.0)


@tagged("post_install", "-at_install")
class TestDiscountRulePerformance(SaleFlowCommon):
    """Applying the rules costs the same number of queries at 10 and 100 lines."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        categ = cls.env["product.category"].create({"name": "Perf"})
        cls.product.categ_id = categ
        cls.tag = cls.env["res.partner.category"].create({"name": "Perf tag"})
        cls.customer.category_id = cls.tag
        Rule = cls.env["sale.flow.discount.rule"]
        cls.rules = Rule.create(
            [
                {
                    "name": "Category",
                    "categ_ids": [Command.set(categ.ids)],
                    "discount_percent": 5,
                },
                {"name": "Volume", "min_qty": 2, "level": "2", "discount_percent": 3},
                {
                    "name": "Tag",
                    "partner_category_ids": [Command.set(cls.tag.ids)],
                    "level": "3",
                    "effect": "fixed",
                    "fixed_amount": 1.0,
                },
                {
                    "name": "Amount",
                    "min_order_amount": 1_000_000,
                    "discount_percent": 50,
                },
            ]
        )

    def _measure(self, operation):
        orders = {size: self._create_order(lines=size, qty=1) for size in (3, 10, 100)}
        self.env.invalidate_all()
        operation(orders[3].with_user(self.salesman))
        counts = {}
        for size in (10, 100):
            self.env.invalidate_all()
            with self._count_queries() as counter:
                operation(orders[size].with_user(self.salesman))
            counts[size] = counter["count"]
        self.assertEqual(counts[10], counts[100], counts)
        _logger.info(
            "%s: queries at 10 and 100 lines: %s", self._testMethodName, counts
        )
        return orders

    def test_recompute_query_count(self):
        def recompute(order):
            # Every line changes: quantity 1 → 2 brings the volume rule.
            order.order_line.with_context(sale_flow_discount_applying=True).write(
                {"product_uom_qty": 2}
            )
            order.with_user(self.salesman).action_flow_recompute_discounts()

        orders = self._measure(recompute)
        self.assertEqual(
            orders[100].order_line.mapped("flow_discount_display")[0], "5 + 3 + 1 %"
        )
        self.assertEqual(len(set(orders[100].order_line.mapped("discount"))), 1)

    def test_line_write_query_count(self):
        orders = self._measure(
            lambda order: order.order_line.write({"product_uom_qty": 2})
        )
        self.assertEqual(orders[100].order_line[:1].flow_discount_2, 3.0)
