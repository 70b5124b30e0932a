import ast
import inspect
import textwrap

from odoo import fields
from odoo.tests import tagged

from odoo.addons.base.controllers.rpc import OdooMarshaller

from .commission_common import SaleFlowCommissionCommon

ADDON_MODULE = "odoo.addons.sales_order_flow"


def _is_none(node):
    return node is None or (isinstance(node, ast.Constant) and node.value is None)


def _always_returns_a_value(statements):
    """Whether a block always ends in ``return <value>`` (or raises)."""
    if not statements:
        return False
    last = statements[-1]
    if isinstance(last, ast.Return):
        return not _is_none(last.value)
    if isinstance(last, ast.Raise):
        return True
    if isinstance(last, ast.If):
        return _always_returns_a_value(last.body) and _always_returns_a_value(
            last.orelse
        )
    if isinstance(last, ast.With):
        return _always_returns_a_value(last.body)
    if isinstance(last, ast.Try):
        return _always_returns_a_value(last.orelse or last.body) and all(
            _always_returns_a_value(handler.body) for handler in last.handlers
        )
    return False


def _returns_none_somewhere(function):
    """Whether a ``return`` / ``return None`` of the function itself exists."""
    todo = list(function.body)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        if isinstance(node, ast.Return) and _is_none(node.value):
            return True
        todo.extend(ast.iter_child_nodes(node))
    return False


@tagged("post_install", "-at_install")
class TestRpcActions(SaleFlowCommissionCommon):
    """Every public ``action_*`` of the addon answers over XML-RPC (issue 9,
    point 15): no method of the addon can return None ("cannot marshal
    None"), and those called here give a marshallable answer."""

    def _addon_actions(self):
        """{(model, method): function} of the public action_* methods the
        addon's own classes define, read from the registry."""
        actions = {}
        for model_name in self.env.registry:
            model_class = type(self.env[model_name])
            for name in dir(model_class):
                if not name.startswith("action_"):
                    continue
                for klass in model_class.__mro__:
                    if name in vars(klass) and klass.__module__.startswith(
                        ADDON_MODULE
                    ):
                        actions[model_name, name] = vars(klass)[name]
                        break
        return actions

    def assertMarshallable(self, result, what):
        try:
            # what Odoo's /xmlrpc/2/object answers with (None refused)
            OdooMarshaller(allow_none=False).dumps((result,))
        except TypeError as error:
            self.fail(f"{what} answers {result!r}, not XML-RPC: {error}")

    def test_no_addon_action_returns_none(self):
        actions = self._addon_actions()
        # the registry really holds the addon's actions
        self.assertIn(("sale.flow.commission.settlement", "action_cancel"), actions)
        self.assertIn(("sale.order", "action_flow_approve"), actions)
        self.assertIn(("sale.flow.commission.settle", "action_settle"), actions)
        failing = []
        for (model_name, name), function in sorted(actions.items()):
            tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
            node = tree.body[0]
            if _returns_none_somewhere(node) or not _always_returns_a_value(node.body):
                failing.append(f"{model_name}.{name}")
        self.assertFalse(failing, "these action_* methods can return None")

    def test_commission_actions_answer_over_rpc(self):
        invoice = self._invoice([(self.product, 2, 100.0)])
        line = self._commissions(invoice)
        self.assertMarshallable(
            line.with_user(self.accountant).action_open_invoice(),
            "commission line action_open_invoice",
        )
        self.assertMarshallable(
            invoice.action_flow_view_commission_lines(),
            "invoice action_flow_view_commission_lines",
        )
        self.assertMarshallable(
            self.agent.with_user(self.manager).action_flow_view_commission_lines(),
            "partner action_flow_view_commission_lines",
        )
        wizard = (
            self.env["sale.flow.commission.settle"]
            .with_user(self.accountant)
            .create(
                {
                    "period_type": "month",
                    "period_date": fields.Date.to_date("2024-01-31"),
                    "create_bills": False,
                }
            )
        )
        action = wizard.action_settle()
        self.assertMarshallable(action, "settle wizard action_settle")
        settlement = wizard.env["sale.flow.commission.settlement"].search(
            action["domain"]
        )
        self.assertTrue(settlement)
        for name in ("action_view_lines", "action_create_bill", "action_view_bill"):
            self.assertMarshallable(
                getattr(settlement, name)(), f"commission settlement {name}"
            )
        # the bill must go first: cancel it, then the settlement
        settlement.invoice_id.button_cancel()
        self.assertEqual(settlement.state, "cancel")
        self.assertMarshallable(
            settlement.action_cancel(), "commission settlement action_cancel"
        )

    def test_order_actions_answer_over_rpc(self):
        order = self._create_order(qty=2).with_user(self.salesman)
        for name in (
            "action_flow_recompute_discounts",
            "action_flow_reset_discounts",
            "action_flow_view_revisions",
        ):
            self.assertMarshallable(getattr(order, name)(), f"sale.order {name}")
        self.assertMarshallable(
            order.order_line.action_flow_reset_discount(),
            "sale.order.line action_flow_reset_discount",
        )
        self.assertMarshallable(order.action_confirm(), "sale.order action_confirm")
