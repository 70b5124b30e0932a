import logging

from odoo import Command
from odoo.tests import tagged

from .recurring_common import RecurringCommon

_logger = logging.getLogger(__name__)


@tagged("post_install", "-at_install")
class TestRecurringPerformance(RecurringCommon):
    def _due_orders(self, count, start):
        orders = self.env["sale.order"].create(
            [
                {
                    "partner_id": self.customer.id,
                    "user_id": self.salesman.id,
                    "flow_recurrence_date_start": start,
                    "order_line": [
                        Command.create(
                            {"product_id": self.subscription.id, "price_unit": 10.0 + n}
                        )
                        for n in range(5)
                    ],
                }
                for _index in range(count)
            ]
        )
        orders.action_confirm()
        return orders

    def test_queries_per_order_do_not_grow(self):
        # warm up caches (first invoice of the journal, translations, ...)
        warm_up = self._due_orders(2, "2026-01-01")
        self._run(self.d("2026-01-01"))
        warm_up.flow_recurring_state = "closed"
        counts = {}
        for count, start in ((20, "2026-02-01"), (200, "2026-03-01")):
            orders = self._due_orders(count, start)
            with self._count_queries() as result:
                moves = self._run(self.d(start))
            self.assertEqual(len(moves), count)
            self.assertEqual(len(orders.flow_recurring_period_ids), 5 * count)
            counts[count] = result["count"]
            orders.flow_recurring_state = "closed"  # not due in the next round
        _logger.info("recurring cron queries: %s", counts)
        per_order_20 = counts[20] / 20
        per_order_200 = counts[200] / 200
        self.assertLessEqual(
            per_order_200, per_order_20, f"queries per order: {counts}"
        )
