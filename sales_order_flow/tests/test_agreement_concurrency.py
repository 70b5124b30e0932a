from datetime import timedelta

import psycopg2.errors

from odoo import Command, fields
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..utils import lock_keys_for_retry
from .concurrency_common import CommittedDataCase


@tagged("post_install", "-at_install")
class TestAgreementConcurrency(CommittedDataCase):
    """Two confirmations against an enforced maximum, in separate committed
    transactions. The data is committed (another transaction cannot see
    uncommitted rows) and deleted afterwards."""

    def _commit_data(self):
        with self.registry.cursor() as cr:
            env = self._env(cr)
            partner = env["res.partner"].create(
                {"name": "Concurrent Agreement Buyer", "is_company": True}
            )
            product = env["product.product"].create(
                {
                    "name": "Concurrent Agreement Service",
                    "type": "service",
                    "list_price": 100.0,
                    "standard_price": 10.0,
                    "taxes_id": [Command.clear()],
                }
            )
            agreement = env["sale.flow.agreement"].create(
                {
                    "partner_id": partner.id,
                    "date_end": fields.Date.today() + timedelta(days=30),
                    "line_ids": [
                        Command.create(
                            {
                                "product_id": product.id,
                                "qty_committed": 100.0,
                                "price_unit": 100.0,
                                "price_fixed": True,
                                "max_enforced": True,
                            }
                        )
                    ],
                }
            )
            agreement.action_activate()
            orders = env["sale.order"].create(
                [
                    {
                        "partner_id": partner.id,
                        "order_line": [
                            Command.create(
                                {"product_id": product.id, "product_uom_qty": 60}
                            )
                        ],
                    }
                    for _index in range(3)
                ]
            )
            assert orders.order_line.flow_agreement_line_id == agreement.line_ids
            return {
                "partner": partner.id,
                "product": product.id,
                "agreement": agreement.id,
                "orders": orders.ids,
            }

    def _delete_data(self):
        with self.registry.cursor() as cr:
            env = self._env(cr)
            orders = env["sale.order"].browse(self.data["orders"])
            orders._action_cancel()
            orders.unlink()
            agreements = env["sale.flow.agreement"].search(
                [("partner_id", "=", self.data["partner"])]
            )
            agreements.state = "cancelled"
            agreements.unlink()
            env["product.product"].browse(self.data["product"]).unlink()
            env["res.partner"].browse(self.data["partner"]).unlink()

    def _confirmed_qty(self):
        with self.registry.cursor() as cr:
            orders = self._env(cr)["sale.order"].browse(self.data["orders"])
            return sum(
                orders.filtered(lambda o: o.state == "sale").mapped(
                    "order_line.product_uom_qty"
                )
            )

    @mute_logger("odoo.sql_db")
    def test_two_confirmations_at_once(self):
        # Environments are made here: the test runner holds the registry
        # lock, which a thread would wait for.
        with self.registry.cursor() as cr_1, self.registry.cursor() as cr_2:
            orders = [
                self._env(cr)["sale.order"].browse(order_id)
                for cr, order_id in zip(
                    (cr_1, cr_2), self.data["orders"][:2], strict=True
                )
            ]
            for order in orders:
                order.order_line.mapped("product_uom_qty")  # snapshots taken
            results = self._race(orders, lambda order: order.action_confirm())
        self.assertEqual(len(results), 2, results)
        self.assertEqual(results.count("done"), 1, results)
        self.assertEqual(
            len([r for r in results if r in ("conflict", "refused")]), 1, results
        )
        self.assertEqual(self._confirmed_qty(), 60.0)

    @mute_logger("odoo.sql_db")
    def test_lock_and_stale_snapshot(self):
        """Deterministic interleaving: B while A holds the lock, and C working
        from a snapshot taken before A committed."""
        first, second, third = self.data["orders"]
        with (
            self.registry.cursor() as cr_a,
            self.registry.cursor() as cr_b,
            self.registry.cursor() as cr_c,
        ):
            order_c = self._env(cr_c)["sale.order"].browse(third)
            order_c.order_line.mapped("product_uom_qty")  # C's snapshot
            self._env(cr_a)["sale.order"].browse(first).action_confirm()
            # B runs while A holds the lock: it cannot take it
            cr_b.execute("SET LOCAL lock_timeout = '200ms'")
            with self.assertRaises(psycopg2.errors.LockNotAvailable):
                self._env(cr_b)["sale.order"].browse(second).action_confirm()
            cr_b.rollback()
            cr_a.commit()  # pylint: disable=invalid-commit
            # C gets the lock once A committed, but its snapshot is older than
            # A's confirmation: the database refuses it (retried by Odoo)
            with self.assertRaises(psycopg2.errors.SerializationFailure):
                order_c.action_confirm()
            cr_c.rollback()
            # a fresh try sees what A used and is refused
            with self.assertRaisesRegex(UserError, "only 40.0 remains"):
                self._env(cr_b)["sale.order"].browse(second).action_confirm()
            cr_b.rollback()
        self.assertEqual(self._confirmed_qty(), 60.0)

    @mute_logger("odoo.sql_db")
    def test_exclusive_agreements_at_once(self):
        """Two overlapping exclusive agreements for the same customer created
        in two transactions: the second one fails on the customer's row."""

        def values():
            return {
                "partner_id": self.data["partner"],
                "exclusive": True,
                "date_end": fields.Date.today() + timedelta(days=10),
                "line_ids": [
                    Command.create(
                        {"product_id": self.data["product"], "qty_committed": 5}
                    )
                ],
            }

        with self.registry.cursor() as cr_a, self.registry.cursor() as cr_b:
            Agreement_b = self._env(cr_b)["sale.flow.agreement"]
            Agreement_b.search_count([])  # B's snapshot
            self._env(cr_a)["sale.flow.agreement"].create(values())
            cr_a.commit()  # pylint: disable=invalid-commit
            with self.assertRaises(psycopg2.errors.SerializationFailure):
                Agreement_b.create(values())
            cr_b.rollback()
            # retried, it sees the first one
            with self.assertRaisesRegex(ValidationError, "both exclusive"):
                self._env(cr_b)["sale.flow.agreement"].create(values())
            cr_b.rollback()

    @mute_logger("odoo.sql_db")
    def test_exclusivity_lock_leaves_the_customer_free(self):
        """While a transaction checks exclusivity for a customer (and holds its
        lock), a plain write on the customer is not blocked."""
        with self.registry.cursor() as cr_a, self.registry.cursor() as cr_b:
            self._env(cr_a)["sale.flow.agreement"].create(
                {
                    "partner_id": self.data["partner"],
                    "exclusive": True,
                    "date_end": fields.Date.today() + timedelta(days=10),
                    "line_ids": [
                        Command.create(
                            {"product_id": self.data["product"], "qty_committed": 5}
                        )
                    ],
                }
            )
            self._env(cr_a).flush_all()
            cr_b.execute("SET LOCAL lock_timeout = '200ms'")
            # the lock is held...
            with self.assertRaises(psycopg2.errors.LockNotAvailable):
                lock_keys_for_retry(
                    cr_b, "exclusive_agreements", [self.data["partner"]]
                )
            cr_b.rollback()
            # ...but not on the customer's row
            cr_b.execute("SET LOCAL lock_timeout = '200ms'")
            partner = self._env(cr_b)["res.partner"].browse(self.data["partner"])
            partner.phone = "+32 2 555 01 01"
            partner.flush_recordset()
            cr_b.rollback()
            cr_a.rollback()
