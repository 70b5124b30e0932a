import logging

from odoo import Command
from odoo.tests import tagged

from .commission_common import SaleFlowCommissionCommon

_logger = logging.getLogger(__name__)


@tagged("post_install", "-at_install")
class TestCommissionPerformance(SaleFlowCommissionCommon):
    """Commissions of a posted invoice: queries do not grow with its lines."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        category = cls.env["product.category"].create({"name": "Perf"})
        tiers = cls._make_plan(
            [
                {"rate": 4.0},
                {"rate": 6.0, "categ_id": category.id},
                {
                    "rate_type": "tiers",
                    "product_id": cls.service.id,
                    "tier_ids": [
                        Command.create({"sequence": 1, "threshold": 0.0, "rate": 1.0}),
                        Command.create(
                            {"sequence": 2, "threshold": 500.0, "rate": 2.0}
                        ),
                    ],
                },
            ]
        )
        # two agents: 100 invoice lines make 200 commission lines
        cls.customer.flow_commission_assignment_ids = [
            Command.create({"agent_id": cls.agent_b.id, "plan_id": tiers.id}),
        ]
        # the service (tiered rule) first: both invoices use every rule kind
        cls.products = cls.service | cls.env["product.product"].create(
            [
                {
                    "name": f"Perf {index}",
                    "list_price": 10.0 + index,
                    "standard_price": 5.0,
                    "categ_id": category.id if index % 2 else cls.product.categ_id.id,
                }
                for index in range(9)
            ]
        )

    def _count_queries(self, invoice):
        Line = self.env["sale.flow.commission.line"]
        self._commissions(invoice).sudo().unlink()
        self.env.flush_all()
        self.env.invalidate_all()
        before = self.env.cr.sql_log_count
        lines = invoice._flow_commission_create_lines()
        self.env.flush_all()
        count = self.env.cr.sql_log_count - before
        self.assertEqual(len(lines), 2 * len(invoice.invoice_line_ids))
        self.assertTrue(Line.search_count([("invoice_id", "=", invoice.id)]))
        return count

    def _big_invoice(self, size):
        return self._invoice(
            [
                (self.products[index % len(self.products)], 1 + index % 3, 20.0)
                for index in range(size)
            ]
        )

    def test_posting_queries_do_not_grow_with_lines(self):
        small = self._big_invoice(10)
        large = self._big_invoice(100)
        self._count_queries(small)  # warm the caches both measures share
        count_small = self._count_queries(small)
        count_large = self._count_queries(large)
        _logger.info(
            "commission queries: %s at 10 lines, %s at 100 lines",
            count_small,
            count_large,
        )
        self.assertEqual(count_small, count_large)
        # the same figure, as assertQueryCount reports it
        self._commissions(large).sudo().unlink()
        self.env.flush_all()
        self.env.invalidate_all()
        with self.assertQueryCount(count_small):
            large._flow_commission_create_lines()
            self.env.flush_all()
