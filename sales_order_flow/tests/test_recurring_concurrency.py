from datetime import date

import psycopg2.errors

from odoo import Command
from odoo.tests import tagged
from odoo.tools import mute_logger

from .concurrency_common import CommittedDataCase

DAY = date(2026, 1, 1)


@tagged("post_install", "-at_install")
class TestRecurringConcurrency(CommittedDataCase):
    """Two recurring runs at once, in separate committed transactions: one
    invoice per period. The data is committed (another transaction cannot see
    uncommitted rows) and deleted afterwards."""

    def _commit_data(self):
        with self.registry.cursor() as cr:
            env = self._env(cr)
            plan = env["sale.flow.recurrence"].create(
                {"name": "Concurrent Monthly", "fixed_day": 1}
            )
            partner = env["res.partner"].create({"name": "Concurrent Subscriber"})
            product = env["product.product"].create(
                {
                    "name": "Concurrent Hosting",
                    "type": "service",
                    "invoice_policy": "order",
                    "list_price": 100.0,
                    "taxes_id": [Command.clear()],
                    "flow_recurrence_id": plan.id,
                }
            )
            order = env["sale.order"].create(
                {
                    "partner_id": partner.id,
                    "flow_recurrence_date_start": DAY,
                    "order_line": [Command.create({"product_id": product.id})],
                }
            )
            order.action_confirm()
            return {
                "plan": plan.id,
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
            env["sale.flow.recurrence"].browse(self.data["plan"]).unlink()
            env["res.partner"].browse(self.data["partner"]).unlink()

    def _invoices(self):
        with self.registry.cursor() as cr:
            order = self._env(cr)["sale.order"].browse(self.data["order"])
            return len(order.invoice_ids), len(order.flow_recurring_period_ids)

    @mute_logger("odoo.sql_db")
    def test_two_runs_at_once(self):
        with self.registry.cursor() as cr_1, self.registry.cursor() as cr_2:
            results = self._race(
                [self._env(cr) for cr in (cr_1, cr_2)],
                lambda env: env["sale.order"]._cron_flow_recurring_invoice(date=DAY),
            )
        self.assertEqual(len(results), 2, results)
        self.assertIn("done", results)
        self.assertFalse([r for r in results if r not in ("done", "conflict")], results)
        self.assertEqual(self._invoices(), (1, 1))
        # and a run after both finds nothing more to do
        with self.registry.cursor() as cr:
            self._env(cr)["sale.order"]._cron_flow_recurring_invoice(date=DAY)
        self.assertEqual(self._invoices(), (1, 1))

    @mute_logger("odoo.sql_db")
    def test_lock_and_stale_snapshot(self):
        """Deterministic interleaving: B while A holds the lock, and B again
        from a snapshot taken before A committed."""
        with self.registry.cursor() as cr_a, self.registry.cursor() as cr_b:
            env_a, env_b = self._env(cr_a), self._env(cr_b)
            env_b["sale.order"].search_count([])  # B's snapshot
            env_a["sale.order"]._cron_flow_recurring_invoice(date=DAY)
            cr_b.execute("SET LOCAL lock_timeout = '200ms'")
            with self.assertRaises(psycopg2.errors.LockNotAvailable):
                env_b["sale.order"]._cron_flow_recurring_invoice(date=DAY)
            cr_b.rollback()
            env_b["sale.order"].search_count([])  # B's new snapshot, before A commits
            cr_a.commit()  # pylint: disable=invalid-commit
            with self.assertRaises(psycopg2.errors.SerializationFailure):
                self._env(cr_b)["sale.order"]._cron_flow_recurring_invoice(date=DAY)
            cr_b.rollback()
            # a fresh try sees the period invoiced
            self._env(cr_b)["sale.order"]._cron_flow_recurring_invoice(date=DAY)
            cr_b.commit()  # pylint: disable=invalid-commit
        self.assertEqual(self._invoices(), (1, 1))
