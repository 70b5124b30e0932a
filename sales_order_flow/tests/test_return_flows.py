from datetime import date

from freezegun import freeze_time

from odoo import Command, fields
from odoo.tests import tagged

from .return_common import SaleFlowReturnCommon


@tagged("post_install", "-at_install")
class TestReturnFlows(SaleFlowReturnCommon):
    """What a return gives back elsewhere, with the figures before and
    after: agreement consumption, rebate basis, commissions."""

    def test_agreement_gives_back_once(self):
        line = self._agreement()
        order = self._sell(qty=10.0)
        self.assertEqual(order.order_line.flow_agreement_line_id, line)
        self.assertEqual(self._consumed(line), (10.0, 10.0, 10.0, 90.0))
        rma = self._approved([(order.order_line, 4.0, self.reason_defective)])
        self._validate(self._receipt(rma))
        self.assertEqual(self._consumed(line), (6.0, 10.0, 6.0, 94.0))
        self._refund(rma)
        # the credit note of the same 4: given back once, not 4 + 4
        self.assertEqual(self._consumed(line), (6.0, 6.0, 6.0, 94.0))

    def test_agreement_exchange_not_counted_twice(self):
        line = self._agreement()
        order = self._sell(qty=10.0)
        rma = self._approved([(order.order_line, 3.0, self.reason_wrong)])
        self._validate(self._receipt(rma))
        # the goods came back, but are replaced: still 10 consumed
        self.assertEqual(self._consumed(line), (10.0, 10.0, 10.0, 90.0))
        replacement = rma.picking_ids.filtered(
            lambda p: p.picking_type_code == "outgoing"
        )
        self._validate(replacement)
        # the replacement is not a second delivery under the agreement
        self.assertEqual(self._consumed(line), (10.0, 10.0, 10.0, 90.0))
        self.assertEqual(order.order_line.product_uom_qty, 10.0)
        self.assertEqual(rma.state, "processed")

    def _rebate_program(self):
        self.env["sale.flow.rebate.program"].search([]).active = False
        rebate_product = self.env["product.product"].create(
            {
                "name": "Rebate",
                "type": "service",
                "sale_ok": False,
                "taxes_id": [Command.clear()],
            }
        )
        today = fields.Date.today()
        return self.env["sale.flow.rebate.program"].create(
            {
                "name": "Return Rebate",
                "partner_ids": [Command.set(self.customer.ids)],
                "period_type": "year",
                "date_start": date(today.year, 1, 1),
                "basis": "amount",
                "tier_method": "stepped",
                "product_id": rebate_product.id,
                "state": "active",
                "tier_ids": [
                    Command.create({"threshold": 500.0, "rate": 2.0}),
                    Command.create({"threshold": 1000.0, "rate": 5.0}),
                ],
            }
        )

    def test_rebate_next_settlement_nets_the_credit_note(self):
        program = self._rebate_program()
        today = fields.Date.today()
        # the year is settled once it is over (the running period cannot be)
        after = date(today.year + 1, 1, 5)
        order = self._sell(qty=10.0)
        with freeze_time(after):
            settlement, _message = program._settle(today, after)
        self.assertEqual(settlement.amount_total, 50.0)  # 5 % of 1,000
        rma = self._approved([(order.order_line, 4.0, self.reason_defective)])
        self._validate(self._receipt(rma))
        self._refund(rma)
        self._sell(qty=5.0)
        # basis 1,000 - 400 + 500 = 1,100 at 5 % = 55, 50 already paid
        with freeze_time(after):
            settlement, _message = program._settle(today, after)
        self.assertRecordValues(
            settlement.line_ids,
            [
                {
                    "basis_amount": 1100.0,
                    "rebate": 55.0,
                    "paid_before": 50.0,
                    "amount_due": 5.0,
                }
            ],
        )

    def test_rebate_basis_drops_by_the_credit_note(self):
        program = self._rebate_program()
        today = fields.Date.today()
        period = (date(today.year, 1, 1), date(today.year, 12, 31))
        order = self._sell(qty=10.0)
        self.assertEqual(
            program._get_basis(*period)[self.customer.id]["amount"], 1000.0
        )
        due = program._get_due(*period)[self.customer.id]
        self.assertEqual((due["rate"], due["rebate"]), (5.0, 50.0))
        rma = self._approved([(order.order_line, 4.0, self.reason_defective)])
        self._validate(self._receipt(rma))
        # the receipt alone changes nothing invoiced
        self.assertEqual(
            program._get_basis(*period)[self.customer.id]["amount"], 1000.0
        )
        self._refund(rma)
        self.assertEqual(program._get_basis(*period)[self.customer.id]["amount"], 600.0)
        due = program._get_due(*period)[self.customer.id]
        self.assertEqual((due["rate"], due["rebate"]), (2.0, 12.0))

    def test_commission_clawed_back_through_the_credit_note(self):
        order = self._sell(qty=10.0)
        invoice = order.invoice_ids
        self.assertRecordValues(
            self._commissions(invoice, self.agent),
            [{"base": 1000.0, "rate": 10.0, "amount": 100.0}],
        )
        rma = self._approved([(order.order_line, 4.0, self.reason_overstock)])
        self._validate(self._receipt(rma))
        credit_note = self._refund(rma)
        # the returned goods are clawed back; the restocking fee stays earned
        clawback = self._commissions(credit_note, self.agent)
        self.assertEqual(sum(clawback.mapped("amount")), -36.0)
        self.assertEqual(
            sum(self._commissions(invoice | credit_note, self.agent).mapped("amount")),
            64.0,
        )

    def test_settled_commission_taken_back_in_next_settlement(self):
        order = self._sell(qty=10.0)
        today = fields.Date.today()
        first = self._settle(period_date=today)
        self.assertEqual(first.amount_total, 100.0)
        rma = self._approved([(order.order_line, 4.0, self.reason_defective)])
        self._validate(self._receipt(rma))
        self._refund(rma)
        second = self._settle(period_date=today)
        self.assertEqual(second.amount_total, -40.0)
