from lxml import etree

from odoo.exceptions import UserError
from odoo.tests import Form, tagged

from .common import SaleFlowCommon


@tagged("post_install", "-at_install")
class TestOrderForm(SaleFlowCommon):
    """What the salesperson's quotation form shows."""

    def _form_arch(self):
        views = (
            self.env["sale.order"].with_user(self.salesman).get_views([(False, "form")])
        )
        return etree.fromstring(views["views"]["form"]["arch"])

    def test_po_hint_only_for_customers_requiring_a_po(self):
        arch = self._form_arch()
        hinted = arch.xpath("//field[@name='client_order_ref'][@placeholder]")
        self.assertEqual(len(hinted), 1)
        self.assertEqual(hinted[0].get("invisible"), "not flow_po_required")
        plain = arch.xpath(
            "//field[@name='client_order_ref'][not(@placeholder)]"
            "[@invisible='flow_po_required']"
        )
        self.assertEqual(len(plain), 1)
        # the salesperson still types the PO reference in the form
        with Form(self.env["sale.order"].with_user(self.salesman)) as form:
            form.partner_id = self.customer_po_contact
            self.assertTrue(form.flow_po_required)
            form.client_order_ref = "PO-1"
            with form.order_line.new() as line:
                line.product_id = self.product
        self.assertEqual(form.record.client_order_ref, "PO-1")

    def test_revisions_tab_sums_nothing(self):
        """Revisions are versions of one offer: their totals are not added."""
        arch = self._form_arch()
        columns = arch.xpath(
            "//field[@name='flow_revision_history_ids']/list/field[@name='amount_total']"
        )
        self.assertEqual(len(columns), 1)
        self.assertFalse(
            {"sum", "avg", "aggregator"} & set(columns[0].attrib),
            "the revisions list must not total its amounts",
        )

    def test_secondary_actions_in_the_gear_menu(self):
        """The header keeps approval, sending and confirmation; discounts,
        suggestions, simulation and mass sending are in the gear menu."""
        arch = self._form_arch()
        header = {button.get("name") for button in arch.xpath("//header/button")}
        for moved in (
            "action_flow_recompute_discounts",
            "action_flow_reset_discounts",
            "action_flow_open_product_suggestions",
        ):
            self.assertNotIn(moved, header)
        self.assertIn("action_flow_request_approval", header)
        bound = self.env["ir.actions.actions"].search(
            [("binding_model_id.model", "=", "sale.order")]
        )
        for xmlid in (
            "sales_order_flow.sale_order_action_flow_recompute_discounts",
            "sales_order_flow.sale_order_action_flow_reset_discounts",
            "sales_order_flow.sale_order_action_flow_product_suggestions",
            "sales_order_flow.sale_flow_price_simulation_action",
            "sales_order_flow.sale_flow_mass_quotation_action_from_order",
        ):
            self.assertIn(self.env.ref(xmlid).id, bound.ids, xmlid)

    def test_gear_actions_answer_as_the_salesperson(self):
        order = self._create_order().with_user(self.salesman)
        for xmlid in (
            "sales_order_flow.sale_order_action_flow_recompute_discounts",
            "sales_order_flow.sale_order_action_flow_reset_discounts",
        ):
            action = self.env.ref(xmlid).with_user(self.salesman)
            action.with_context(active_model="sale.order", active_ids=order.ids).run()
        suggestions = (
            self.env.ref("sales_order_flow.sale_order_action_flow_product_suggestions")
            .with_user(self.salesman)
            .with_context(active_model="sale.order", active_ids=order.ids)
            .run()
        )
        self.assertEqual(suggestions["res_model"], "sale.flow.product.suggestion")
        order.action_confirm()
        with self.assertRaisesRegex(UserError, "quotations only"):
            order.action_flow_open_product_suggestions()
