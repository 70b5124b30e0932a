from odoo import Command
from odoo.tests import tagged
from odoo.tools import mute_logger

from .concurrency_common import CommittedDataCase


@tagged("post_install", "-at_install")
class TestWorkflowConcurrency(CommittedDataCase):
    """Two workflow runs at once on a prepaid order, in separate committed
    transactions: one invoice. The data is committed and deleted afterwards."""

    def _commit_data(self):
        with self.registry.cursor() as cr:
            env = self._env(cr)
            profile = env["sale.flow.workflow"].create(
                {"name": "Concurrent Prepaid", "invoice_policy": "prepaid"}
            )
            partner = env["res.partner"].create(
                {"name": "Concurrent Prepaid Buyer", "flow_workflow_id": profile.id}
            )
            product = env["product.product"].create(
                {
                    "name": "Concurrent Setup Fee",
                    "type": "service",
                    "list_price": 100.0,
                    "taxes_id": [Command.clear()],
                }
            )
            order = env["sale.order"].create(
                {
                    "partner_id": partner.id,
                    "order_line": [Command.create({"product_id": product.id})],
                }
            )
            order.action_confirm()
            assert order.flow_workflow_id == profile
            return {
                "profile": profile.id,
                "partner": partner.id,
                "product": product.id,
                "order": order.id,
            }

    def _delete_data(self):
        with self.registry.cursor() as cr:
            env = self._env(cr)
            order = env["sale.order"].browse(self.data["order"])
            moves = order.invoice_ids
            moves.button_draft()
            moves.with_context(force_delete=True).unlink()
            order._action_cancel()
            order.unlink()
            env["product.product"].browse(self.data["product"]).unlink()
            env["res.partner"].browse(self.data["partner"]).unlink()
            env["sale.flow.workflow"].browse(self.data["profile"]).unlink()

    def _invoice_count(self):
        with self.registry.cursor() as cr:
            return len(
                self._env(cr)["sale.order"].browse(self.data["order"]).invoice_ids
            )

    @mute_logger("odoo.sql_db")
    def test_two_runs_at_once(self):
        with self.registry.cursor() as cr_1, self.registry.cursor() as cr_2:
            results = self._race(
                [self._env(cr) for cr in (cr_1, cr_2)],
                lambda env: env["sale.order"]._cron_flow_workflow(),
            )
        self.assertEqual(len(results), 2, results)
        self.assertIn("done", results)
        self.assertFalse([r for r in results if r not in ("done", "conflict")])
        self.assertEqual(self._invoice_count(), 1)
        with self.registry.cursor() as cr:
            self._env(cr)["sale.order"]._cron_flow_workflow()
        self.assertEqual(self._invoice_count(), 1)
