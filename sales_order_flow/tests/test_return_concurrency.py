import psycopg2.errors

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .concurrency_common import CommittedDataCase


@tagged("post_install", "-at_install")
class TestReturnConcurrency(CommittedDataCase):
    """Two refunds of one return line in separate committed transactions
    make one credit note. The data is committed (another transaction cannot
    see uncommitted rows) and deleted afterwards."""

    def _commit_data(self):
        with self.registry.cursor() as cr:
            env = self._env(cr)
            partner = env["res.partner"].create(
                {"name": "Concurrent Return Buyer", "is_company": True}
            )
            product = env["product.product"].create(
                {
                    "name": "Concurrent Return Goods",
                    "type": "service",
                    "list_price": 100.0,
                    "invoice_policy": "order",
                    "taxes_id": [Command.clear()],
                }
            )
            reason = env["sale.flow.return.reason"].create(
                {"name": "Concurrent: keep it", "physical_return": False}
            )
            order = env["sale.order"].create(
                {
                    "partner_id": partner.id,
                    "order_line": [
                        Command.create({"product_id": product.id, "product_uom_qty": 5})
                    ],
                }
            )
            order.action_confirm()
            order.order_line.qty_delivered = 5
            invoice = order._create_invoices()
            invoice.action_post()
            rma = env["sale.flow.return"].create(
                {
                    "partner_id": partner.id,
                    "sale_order_ids": [Command.set(order.ids)],
                    "line_ids": [
                        Command.create(
                            {
                                "product_id": product.id,
                                "sale_line_id": order.order_line.id,
                                "product_uom_qty": 2.0,
                                "reason_id": reason.id,
                            }
                        )
                    ],
                }
            )
            rma.action_request()
            rma._flow_approve()
            assert rma.line_ids.qty_to_refund == 2.0
            return {
                "partner": partner.id,
                "product": product.id,
                "reason": reason.id,
                "order": order.id,
                "return": rma.id,
            }

    def _delete_data(self):
        with self.registry.cursor() as cr:
            env = self._env(cr)
            rma = env["sale.flow.return"].browse(self.data["return"])
            order = env["sale.order"].browse(self.data["order"])
            moves = order.invoice_ids | rma.move_ids
            moves.filtered(lambda m: m.state == "posted").button_draft()
            moves.with_context(force_delete=True).unlink()
            rma.unlink()
            order._action_cancel()
            order.unlink()
            env["sale.flow.return.reason"].browse(self.data["reason"]).unlink()
            env["product.product"].browse(self.data["product"]).unlink()
            env["res.partner"].browse(self.data["partner"]).unlink()

    def _credit_notes(self):
        with self.registry.cursor() as cr:
            rma = self._env(cr)["sale.flow.return"].browse(self.data["return"])
            return len(rma.move_ids), rma.line_ids.qty_refunded

    @mute_logger("odoo.sql_db")
    def test_two_refunds_at_once(self):
        with self.registry.cursor() as cr_1, self.registry.cursor() as cr_2:
            returns = [
                self._env(cr)["sale.flow.return"].browse(self.data["return"])
                for cr in (cr_1, cr_2)
            ]
            for rma in returns:
                rma.line_ids.mapped("qty_to_refund")  # snapshots taken
            results = self._race(returns, lambda rma: rma.action_refund())
        self.assertEqual(len(results), 2, results)
        self.assertEqual(results.count("done"), 1, results)
        self.assertEqual(self._credit_notes(), (1, 2.0))

    @mute_logger("odoo.sql_db")
    def test_lock_and_stale_snapshot(self):
        """B while A holds the line's lock; C from a snapshot older than A's
        commit; then a fresh try, told there is nothing left to refund."""
        with (
            self.registry.cursor() as cr_a,
            self.registry.cursor() as cr_b,
            self.registry.cursor() as cr_c,
        ):
            rma_c = self._env(cr_c)["sale.flow.return"].browse(self.data["return"])
            rma_c.line_ids.mapped("qty_to_refund")  # C's snapshot
            self._env(cr_a)["sale.flow.return"].browse(
                self.data["return"]
            ).action_refund()
            cr_b.execute("SET LOCAL lock_timeout = '200ms'")
            with self.assertRaises(psycopg2.errors.LockNotAvailable):
                self._env(cr_b)["sale.flow.return"].browse(
                    self.data["return"]
                ).action_refund()
            cr_b.rollback()
            cr_a.commit()  # pylint: disable=invalid-commit
            with self.assertRaises(psycopg2.errors.SerializationFailure):
                rma_c.action_refund()
            cr_c.rollback()
            with self.assertRaisesRegex(
                UserError, "cannot be refunded|nothing to refund"
            ):
                self._env(cr_b)["sale.flow.return"].browse(
                    self.data["return"]
                ).action_refund()
            cr_b.rollback()
        self.assertEqual(self._credit_notes(), (1, 2.0))
