import threading
import uuid

import psycopg2.errors

from odoo import Command
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from .concurrency_common import CONFLICTS, CommittedDataCase, run_together


@tagged("post_install", "-at_install")
class TestApprovalConcurrency(CommittedDataCase):
    """Two approvers of one level deciding at once, in separate committed
    transactions. The data is committed (another transaction cannot see
    uncommitted rows) and deleted afterwards."""

    def _commit_data(self):
        suffix = uuid.uuid4().hex[:8]
        with self.registry.cursor() as cr:
            env = self._env(cr)
            group = "sales_order_flow.group_sale_flow_approver"
            users = {
                key: new_test_user(
                    env, login=f"flow_conc_{key}_{suffix}", groups=groups
                ).id
                for key, groups in (
                    ("salesman", "sales_team.group_sale_salesman"),
                    ("approver_1", group),
                    ("approver_2", group),
                )
            }
            partner = env["res.partner"].create({"name": "Concurrent Approval Buyer"})
            product = env["product.product"].create(
                {
                    "name": "Concurrent Approval Service",
                    "type": "service",
                    "list_price": 100.0,
                    "standard_price": 10.0,
                    "taxes_id": [Command.clear()],
                }
            )
            # One level, two rules, one approver each: both must approve.
            rules = env["sale.flow.approval.rule"].create(
                [
                    {
                        "name": f"Concurrent rule {key}",
                        "level": 1,
                        "partner_ids": [Command.set(partner.ids)],
                        "approver_user_ids": [Command.set([users[key]])],
                    }
                    for key in ("approver_1", "approver_2")
                ]
            )
            order = (
                env["sale.order"]
                .with_user(users["salesman"])
                .create(
                    {
                        "partner_id": partner.id,
                        "order_line": [Command.create({"product_id": product.id})],
                    }
                )
            )
            order.action_flow_request_approval()
            assert order.flow_approval_state == "pending", order.flow_approval_state
            assert len(order.flow_approval_ids) == 2
            return {
                "users": users,
                "partner": partner.id,
                "product": product.id,
                "rules": rules.ids,
                "order": order.id,
            }

    def _delete_data(self):
        with self.registry.cursor() as cr:
            env = self._env(cr)
            order = env["sale.order"].browse(self.data["order"])
            order._action_cancel()
            order.unlink()
            env["sale.flow.approval.rule"].browse(self.data["rules"]).unlink()
            env["product.product"].browse(self.data["product"]).unlink()
            users = env["res.users"].browse(list(self.data["users"].values()))
            partners = users.partner_id | env["res.partner"].browse(
                self.data["partner"]
            )
            users.unlink()
            partners.unlink()

    def _order(self, cr, user_key):
        env = self._env(cr, self.data["users"][user_key])
        return env["sale.order"].browse(self.data["order"])

    def _state(self):
        with self.registry.cursor() as cr:
            order = self._env(cr)["sale.order"].browse(self.data["order"])
            return order.flow_approval_state, order.flow_approval_ids.mapped("state")

    @mute_logger("odoo.sql_db")
    def test_two_approvers_of_one_level_at_once(self):
        """Deterministic interleaving: the second approver decides while the
        first holds the lock, then from a snapshot older than the first
        approval; retried (as Odoo does), the second approval completes the
        level and the quotation is approved."""
        with self.registry.cursor() as cr_a, self.registry.cursor() as cr_b:
            order_b = self._order(cr_b, "approver_2")
            order_b.flow_approval_ids.mapped("state")  # B's snapshot
            self._order(cr_a, "approver_1").action_flow_approve()
            # B while A holds the lock: it waits (here: gives up at once)
            cr_b.execute("SET LOCAL lock_timeout = '200ms'")
            with self.assertRaises(psycopg2.errors.LockNotAvailable):
                self._order(cr_b, "approver_2").action_flow_approve()
            cr_b.rollback()
            order_b = self._order(cr_b, "approver_2")
            order_b.flow_approval_ids.mapped("state")  # snapshot before A commits
            cr_a.commit()  # pylint: disable=invalid-commit
            # B's snapshot misses A's approval: refused, Odoo retries it
            with self.assertRaises(psycopg2.errors.SerializationFailure):
                order_b.action_flow_approve()
            cr_b.rollback()
            self.assertEqual(self._state(), ("pending", ["approved", "pending"]))
            # the retry sees A's approval and completes the level
            self._order(cr_b, "approver_2").action_flow_approve()
            cr_b.commit()  # pylint: disable=invalid-commit
        self.assertEqual(self._state(), ("approved", ["approved", "approved"]))

    def _approve_in_thread(self, order, barrier, results):
        """Approve; on a conflict, roll back and try again as Odoo's request
        retry does."""
        cr = order.env.cr
        try:
            barrier.wait(timeout=30)
            for attempt in range(3):
                try:
                    order.action_flow_approve()
                    cr.commit()  # pylint: disable=invalid-commit
                    results.append("approved" if not attempt else "retried")
                    return
                except CONFLICTS:
                    cr.rollback()
                    order.env.invalidate_all()
            results.append("gave up")
        except Exception as error:  # noqa: BLE001 - reported by the test
            results.append(repr(error))

    @mute_logger("odoo.sql_db")
    def test_two_approvers_at_the_same_moment(self):
        barrier = threading.Barrier(2)
        results = []
        # Environments are made here: the test runner holds the registry
        # lock, which a thread would wait for.
        with self.registry.cursor() as cr_1, self.registry.cursor() as cr_2:
            orders = [
                self._order(cr_1, "approver_1"),
                self._order(cr_2, "approver_2"),
            ]
            for order in orders:
                order.flow_approval_ids.mapped("state")  # snapshots taken
            run_together(
                [
                    lambda order=order: self._approve_in_thread(order, barrier, results)
                    for order in orders
                ],
                timeout=120,
            )
        self.assertEqual(sorted(results), ["approved", "retried"], results)
        self.assertEqual(self._state(), ("approved", ["approved", "approved"]))
