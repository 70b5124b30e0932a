import logging

from odoo.tests import tagged

from .return_common import SaleFlowReturnCommon

_logger = logging.getLogger(__name__)


@tagged("post_install", "-at_install")
class TestReturnPerformance(SaleFlowReturnCommon):
    """The return's own processing issues a number of queries that does not
    grow with its lines (20 and 200). Approval and receipt run Odoo's return
    wizard and picking validation, which work move by move: their counts are
    logged, not asserted."""

    def _measure(self, size):
        order = self._sell(qty=2.0, lines=size)
        rma = self._new_return(
            [(line, 1.0, self.reason_defective) for line in order.order_line]
        )
        rma.action_request()
        counts = {}
        with self._count_queries() as approve:
            rma.with_user(self.return_approver).action_approve()
        counts["approve"] = approve["count"]
        receipt = self._receipt(rma).with_user(self.stock_user)
        for move in receipt.move_ids:
            move.quantity = move.product_uom_qty
        receipt.move_ids.picked = True
        with self._count_queries() as receive:
            receipt.button_validate()
        counts["receive"] = receive["count"]
        self.assertEqual(rma.state, "received")
        rma.invalidate_recordset()
        rma.line_ids.invalidate_recordset()
        with self._count_queries() as refund:
            rma.with_user(self.accountant).action_refund()
        counts["refund"] = refund["count"]
        self.assertEqual(rma.state, "processed")
        self.assertEqual(rma.move_ids.amount_untaxed, 100.0 * size)
        self.assertEqual(len(rma.move_ids.invoice_line_ids), size)
        self.assertEqual(rma.line_ids.mapped("qty_refunded"), [1.0] * size)
        return counts

    def test_refund_queries_do_not_grow_with_lines(self):
        small = self._measure(20)
        big = self._measure(200)
        _logger.info("return queries at 20 lines %s, at 200 lines %s", small, big)
        self.assertLessEqual(big["refund"], small["refund"] + 10, (small, big))

    def _measure_one_line_refund(self, invoice_lines):
        order = self._sell(qty=2.0, lines=invoice_lines)
        rma = self._approved([(order.order_line[0], 1.0, self.reason_defective)])
        self._validate(self._receipt(rma))
        rma.invalidate_recordset()
        rma.line_ids.invalidate_recordset()
        last_item = self._last_journal_item_id()
        with self._count_queries() as refund:
            rma.with_user(self.accountant).action_refund()
        self.assertEqual(rma.move_ids.amount_untaxed, 100.0)
        # journal items written, deleted ones included: the product line and
        # the receivable, not a copy of the whole invoice
        self.assertEqual(self._last_journal_item_id() - last_item, 2)
        return refund["count"]

    def _last_journal_item_id(self):
        self.env.flush_all()
        self.env.cr.execute("SELECT last_value FROM account_move_line_id_seq")
        return self.env.cr.fetchone()[0]

    def test_refund_queries_do_not_grow_with_the_invoice(self):
        """Returning one line of an invoice of 200 lines costs what it costs
        on an invoice of 20: the reversal copies the returned line only."""
        small = self._measure_one_line_refund(20)
        big = self._measure_one_line_refund(200)
        _logger.info(
            "one-line refund queries: invoice of 20 lines %s, of 200 %s", small, big
        )
        self.assertLessEqual(big, small + 10, (small, big))
