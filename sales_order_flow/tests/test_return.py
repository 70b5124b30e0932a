import re
from datetime import timedelta

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, tagged

from .return_common import SaleFlowReturnCommon


@tagged("post_install", "-at_install")
class TestReturn(SaleFlowReturnCommon):
    """Returns as the roles do them: salesperson requests, returns approver
    approves, stock user receives, accountant refunds."""

    def test_number_states_and_activities(self):
        order = self._sell()
        rma = self._new_return([(order.order_line, 4.0, self.reason_defective)])
        self.assertRegex(rma.name, r"^RMA/\d{4}/\d{4}$")
        self.assertEqual(rma.commercial_partner_id, self.customer)
        self.assertEqual(rma.amount_untaxed, 400.0)
        rma.action_request()
        self.assertEqual(rma.state, "requested")
        with self.assertRaises(AccessError):
            rma.action_approve()  # a salesperson does not approve
        with self.assertRaises(AccessError):
            rma.with_user(self.stock_user).action_approve()
        rma.with_user(self.return_approver).action_approve()
        self.assertRecordValues(
            rma, [{"state": "approved", "approved_by_id": self.return_approver.id}]
        )
        receive = self.env.ref(
            "sales_order_flow.mail_activity_type_sale_flow_return_receive"
        )
        self.assertIn(receive, rma.activity_ids.activity_type_id)
        with self.assertRaises(AccessError):
            rma.action_refund()  # nor does it refund
        self._validate(self._receipt(rma))
        self.assertEqual(rma.state, "received")
        refund = self.env.ref(
            "sales_order_flow.mail_activity_type_sale_flow_return_refund"
        )
        self.assertEqual(rma.activity_ids.activity_type_id, refund)
        self._refund(rma)
        self.assertEqual(rma.state, "processed")
        self.assertFalse(rma.activity_ids)
        rma.action_done()
        self.assertEqual(rma.state, "done")

    def test_refund_after_full_receipt(self):
        order = self._sell(qty=10.0)
        line = order.order_line
        invoice = order.invoice_ids
        rma = self._approved([(line, 4.0, self.reason_defective)])
        receipt = self._receipt(rma)
        self.assertRecordValues(
            receipt.move_ids,
            [
                {
                    "product_uom_qty": 4.0,
                    "location_dest_id": self.quarantine.id,
                    "origin_returned_move_id": line.move_ids[0].id,
                    "to_refund": True,
                }
            ],
        )
        self.assertEqual(receipt.return_id, line.move_ids[0].picking_id)
        self.assertEqual(line.qty_delivered, 10.0)
        self._validate(receipt)
        self.assertEqual(line.qty_delivered, 6.0)  # Odoo's own return machinery
        self.assertEqual(rma.line_ids.qty_received, 4.0)
        credit_note = self._refund(rma)
        self.assertRecordValues(
            credit_note,
            [
                {
                    "state": "posted",
                    "reversed_entry_id": invoice.id,
                    "amount_untaxed": 400.0,
                    "flow_return_id": rma.id,
                }
            ],
        )
        self.assertEqual(credit_note.invoice_line_ids.sale_line_ids, line)
        self.assertEqual(credit_note.invoice_line_ids.quantity, 4.0)
        self.assertEqual(line.qty_invoiced, 6.0)
        self.assertRecordValues(rma.line_ids, [{"qty_refunded": 4.0}])
        self.assertEqual(rma.state, "processed")
        with self.assertRaisesRegex(UserError, "Processed: it cannot be refunded"):
            self._refund(rma)
        self.assertEqual(len(rma.move_ids), 1)

    def test_refund_of_one_line_of_a_long_invoice(self):
        """The reversal copies only the returned invoice line (not the other
        ones to delete them), with its tax, and is reconciled with its
        invoice as Odoo's reversal is."""
        tax = self.env["account.tax"].create(
            {"name": "Flow VAT 21", "amount": 21.0, "type_tax_use": "sale"}
        )
        order = self._create_order(qty=5.0, lines=3)
        order.order_line.tax_id = tax
        order.order_line[1].price_unit = 50.0
        order.action_confirm()
        self._validate(order.picking_ids)
        invoice = order._create_invoices()
        invoice.action_post()
        self.assertEqual(invoice.amount_total, 1512.5)  # 1,250.00 + 21 %
        second = order.order_line[1]
        rma = self._approved([(second, 2.0, self.reason_defective)])
        self._validate(self._receipt(rma))
        credit_note = self._refund(rma)
        self.assertEqual(len(credit_note.invoice_line_ids), 1)
        self.assertRecordValues(
            credit_note.invoice_line_ids,
            [
                {
                    "sale_line_ids": second.ids,
                    "quantity": 2.0,
                    "price_unit": 50.0,
                    "tax_ids": tax.ids,
                }
            ],
        )
        self.assertRecordValues(
            credit_note,
            [{"amount_untaxed": 100.0, "amount_tax": 21.0, "amount_total": 121.0}],
        )
        self.assertEqual(invoice.amount_residual, 1391.5)
        self.assertEqual(invoice.payment_state, "partial")
        self.assertEqual(order.order_line.mapped("qty_invoiced"), [5.0, 3.0, 5.0])

    def test_reversal_cut_only_by_the_return(self):
        """A caller's context (RPC sends lists) cannot make Odoo's reversal
        leave invoice lines out: only the return's own Python value does."""
        order = self._sell(qty=5.0, lines=2)
        invoice = order.invoice_ids
        reversal = (
            self.env["account.move.reversal"]
            .with_user(self.accountant)
            .with_context(
                active_model="account.move",
                active_ids=invoice.ids,
                sale_flow_reversal_lines=invoice.invoice_line_ids[:1].ids,
            )
            .create({"journal_id": invoice.journal_id.id, "reason": "test"})
        )
        reversal.refund_moves()
        self.assertEqual(len(reversal.new_move_ids.invoice_line_ids), 2)
        self.assertEqual(reversal.new_move_ids.amount_untaxed, 1000.0)

    def _sell_in_two_invoices(self):
        """10 ordered: 6 delivered and invoiced, then 4 delivered and
        invoiced; returns the order and the two invoices."""
        order = self._create_order(qty=10.0)
        order.action_confirm()
        self._validate(order.picking_ids, qty=6.0)
        first = order._create_invoices()
        first.action_post()
        self._validate(order.picking_ids.filtered(lambda p: p.state != "done"))
        second = order._create_invoices()
        second.action_post()
        return order, first, second

    def test_refund_against_the_named_invoice(self):
        order, first, second = self._sell_in_two_invoices()
        rma = self._approved(
            [
                (
                    order.order_line,
                    3.0,
                    self.reason_defective,
                    {"invoice_line_id": first.invoice_line_ids.id},
                )
            ]
        )
        self.assertEqual(rma.invoice_ids, first)
        self._validate(self._receipt(rma))
        credit_note = self._refund(rma)
        # not the latest invoice of the order line: the one the customer named
        self.assertRecordValues(
            credit_note, [{"reversed_entry_id": first.id, "amount_untaxed": 300.0}]
        )
        self.assertEqual(first.amount_residual, 300.0)
        self.assertEqual(second.amount_residual, 400.0)
        self.assertEqual(order.order_line.qty_invoiced, 7.0)

    def test_create_return_from_an_undelivered_order_refused(self):
        order = self._create_order(qty=3.0)
        order.action_confirm()
        with self.assertRaisesRegex(UserError, "there is nothing to return"):
            order.with_user(self.salesman).action_flow_create_return()

    def test_create_return_from_an_invoice(self):
        order, first, _second = self._sell_in_two_invoices()
        action = first.with_user(self.salesman).action_flow_create_return()
        form = Form(
            self.env["sale.flow.return"]
            .with_user(self.salesman)
            .with_context(**action["context"])
        )
        self.assertEqual(form.line_ids._records[0]["product_uom_qty"], 6.0)
        form.line_ids.remove(1)  # the second delivery's row
        with form.line_ids.edit(0) as line:
            line.product_uom_qty = 2.0
            line.reason_id = self.reason_defective
        rma = form.save()
        self.assertEqual(rma.invoice_ids, first)
        self.assertEqual(rma.sale_order_ids, order)
        self.assertRecordValues(
            rma.line_ids,
            [
                {
                    "invoice_line_id": first.invoice_line_ids.id,
                    "sale_line_id": order.order_line.id,
                    "price_subtotal": 200.0,
                }
            ],
        )
        self.assertEqual(first.flow_return_count, 1)
        draft_refund = first.copy({"move_type": "out_refund"})
        with self.assertRaisesRegex(UserError, "not a posted customer invoice"):
            draft_refund.with_user(self.salesman).action_flow_create_return()

    def test_invoice_of_another_customer_refused(self):
        order = self._sell(qty=5.0)
        stranger = self.env["res.partner"].create(
            {"name": "Flow Stranger", "is_company": True}
        )
        other = self._sell(qty=5.0, partner=stranger)
        rma = self._new_return(
            [
                (
                    order.order_line,
                    1.0,
                    self.reason_defective,
                    {"invoice_line_id": other.invoice_ids.invoice_line_ids.id},
                )
            ]
        )
        with self.assertRaisesRegex(
            UserError, "is not a posted invoice of this product"
        ):
            rma.action_request()
        self.assertEqual(rma.state, "draft")
        self.assertFalse(rma.invoice_ids)

    def test_goods_of_an_invoice_without_order(self):
        """Goods invoiced without an order: priced and limited by the invoice
        line, refunded by reversing that invoice."""
        invoice = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.customer.id,
                "invoice_line_ids": [
                    Command.create(
                        {
                            "product_id": self.product.id,
                            "quantity": 5.0,
                            "price_unit": 80.0,
                            "tax_ids": [Command.clear()],
                        }
                    )
                ],
            }
        )
        invoice.action_post()
        item = invoice.invoice_line_ids

        def request(qty):
            rma = (
                self.env["sale.flow.return"]
                .with_user(self.salesman)
                .create(
                    {
                        "partner_id": self.customer.id,
                        "invoice_ids": [Command.set(invoice.ids)],
                        "line_ids": [
                            Command.create(
                                {
                                    "product_id": self.product.id,
                                    "product_uom_qty": qty,
                                    "reason_id": self.reason_defective.id,
                                }
                            )
                        ],
                    }
                )
            )
            rma.action_request()
            return rma

        rma = request(2.0)
        self.assertRecordValues(
            rma.line_ids,
            [{"invoice_line_id": item.id, "price_unit": 80.0, "price_subtotal": 160.0}],
        )
        rma.with_user(self.return_approver).action_approve()
        self._validate(self._receipt(rma))
        # made out, as Odoo's reversal does, for the invoice's salesperson (not
        # the return's): the accountant reads it
        rma = rma.with_user(self.accountant)
        rma.action_refund()
        credit_note = rma.move_ids
        self.assertRecordValues(
            credit_note, [{"reversed_entry_id": invoice.id, "amount_untaxed": 160.0}]
        )
        with self.assertRaisesRegex(
            UserError,
            r"4.0 Units requested, but 5.0 invoiced and 2.0 already returned or "
            r"requested: at most 3.0 can be returned",
        ):
            request(4.0)
        # no delivery known: the window runs from the invoice date
        invoice.button_draft()
        invoice.invoice_date = fields.Date.today() - timedelta(days=31)
        invoice.action_post()
        with self.assertRaisesRegex(UserError, "31 days ago: the return window is 30"):
            request(1.0)

    def test_state_only_through_the_buttons(self):
        """No role skips the approval by writing the status (RPC, import, a
        kanban drop): only the return's own steps change it."""
        order = self._sell(qty=10.0)
        rma = self._new_return([(order.order_line, 1.0, self.reason_defective)])
        for user in (self.salesman, self.return_approver, self.manager):
            for values in (
                {"state": "approved"},
                {"approved_by_id": user.id},
                {"auto_approved": True},
            ):
                with self.assertRaisesRegex(UserError, "changes only through"):
                    rma.with_user(user).write(values)
        Return = self.env["sale.flow.return"].with_user(self.salesman)
        values = {"partner_id": self.customer.id}
        with self.assertRaisesRegex(UserError, "changes only through"):
            Return.create({**values, "state": "approved"})
        with self.assertRaisesRegex(UserError, "changes only through"):
            Return.with_context(default_state="received").create(values)
        self.assertEqual(Return.create(values).state, "draft")
        self.assertEqual(rma.state, "draft")
        rma.action_request()
        self.assertEqual(rma.state, "requested")

    def test_logistics_and_finance_read_all_change_their_own(self):
        """A salesperson (own documents) who is also a stock user and an
        accountant reads a colleague's return but changes only their own:
        cannot request it, nor refund it (as Odoo hides the colleague's
        invoices from them); their own return they request and refund."""
        both = self.env["res.users"].create(
            {
                "name": "Sam Stock-and-Books",
                "login": "flow_return_both",
                "email": "both@example.com",
                "groups_id": [
                    Command.set(
                        [
                            self.env.ref("sales_team.group_sale_salesman").id,
                            self.env.ref("stock.group_stock_user").id,
                            self.env.ref("account.group_account_invoice").id,
                        ]
                    )
                ],
            }
        )
        order = self._sell(qty=10.0)
        draft = self._new_return([(order.order_line, 1.0, self.reason_defective)])
        self.assertEqual(draft.with_user(both).name, draft.name)
        with self.assertRaises(AccessError):
            draft.with_user(both).action_request()
        self.assertEqual(draft.state, "draft")
        rma = self._approved([(order.order_line, 2.0, self.reason_defective)])
        self._validate(self._receipt(rma))
        with self.assertRaises(AccessError):
            rma.with_user(both).action_refund()
        self.assertEqual(rma.state, "received")
        self.assertFalse(rma.line_ids.qty_refunded)
        # their own customer's order and return
        own_order = self._create_order(qty=5.0, user_id=both.id)
        own_order.action_confirm()
        self._validate(own_order.picking_ids)
        own_order._create_invoices().action_post()
        own = self._new_return(
            [(own_order.order_line, 1.0, self.reason_defective)], user=both
        )
        own.action_request()
        own.with_user(self.return_approver).action_approve()
        self._validate(self._receipt(own))
        own.with_user(both).action_refund()
        self.assertEqual(own.state, "processed")
        self.assertEqual(own.line_ids.qty_refunded, 1.0)

    def test_refund_after_partial_receipt(self):
        order = self._sell(qty=10.0)
        rma = self._approved([(order.order_line, 4.0, self.reason_defective)])
        self._validate(self._receipt(rma), qty=3.0)
        self.assertEqual(rma.state, "received_partial")
        self.assertEqual(rma.line_ids.qty_received, 3.0)
        backorder = self._receipt(rma)
        self.assertEqual(backorder.move_ids.product_uom_qty, 1.0)
        self.assertEqual(backorder.move_ids.flow_return_line_id, rma.line_ids)
        first = self._refund(rma)
        self.assertEqual(first.amount_untaxed, 300.0)
        self.assertEqual(rma.state, "received_partial")
        self._validate(backorder)
        self.assertEqual(rma.state, "received")
        second = self._refund(rma)[-1]
        self.assertEqual(second.amount_untaxed, 100.0)
        self.assertEqual(rma.line_ids.qty_refunded, 4.0)
        self.assertEqual(rma.state, "processed")
        self.assertEqual(order.order_line.qty_invoiced, 6.0)

    def test_refund_without_physical_return(self):
        order = self._sell(qty=10.0)
        rma = self._approved([(order.order_line, 2.0, self.reason_no_return)])
        self.assertFalse(rma.picking_ids)
        self.assertEqual(rma.line_ids.qty_to_refund, 2.0)
        credit_note = self._refund(rma)
        self.assertEqual(credit_note.amount_untaxed, 200.0)
        self.assertEqual(rma.state, "processed")
        self.assertEqual(order.order_line.qty_delivered, 10.0)
        self.assertEqual(order.order_line.qty_invoiced, 8.0)

    def test_restocking_fee(self):
        order = self._sell(qty=10.0)
        rma = self._approved([(order.order_line, 4.0, self.reason_overstock)])
        self._validate(self._receipt(rma))
        credit_note = self._refund(rma)
        fee = credit_note.invoice_line_ids.filtered(
            lambda aml: aml.flow_return_kind == "fee"
        )
        self.assertRecordValues(fee, [{"quantity": 1.0, "price_subtotal": -40.0}])
        self.assertEqual(credit_note.amount_untaxed, 360.0)

    def test_exchange_same_product(self):
        order = self._sell(qty=10.0)
        line = order.order_line
        rma = self._approved([(line, 3.0, self.reason_wrong)])
        receipt = self._receipt(rma)
        self.assertFalse(receipt.move_ids.to_refund)
        self.assertEqual(rma.exchange_count, 0)  # after receipt for this reason
        self._validate(receipt)
        self.assertEqual(line.qty_delivered, 10.0)  # replaced, not taken back
        replacement = rma.picking_ids.filtered(
            lambda p: p.picking_type_code == "outgoing"
        )
        self.assertRecordValues(
            replacement.move_ids,
            [
                {
                    "product_id": self.product.id,
                    "product_uom_qty": 3.0,
                    "sale_line_id": False,
                }
            ],
        )
        self.assertFalse(replacement.sale_id)  # no extra line on the order
        self.assertEqual(rma.state, "processed")
        self._validate(replacement)
        self.assertEqual(line.qty_delivered, 10.0)
        self.assertEqual(line.qty_invoiced, 10.0)
        self.assertFalse(rma.move_ids)

    def test_exchange_dearer_product(self):
        order = self._sell(qty=10.0)
        self.reason_wrong.exchange_before_receipt = True
        rma = self._approved(
            [
                (
                    order.order_line,
                    2.0,
                    self.reason_wrong,
                    {"exchange_product_id": self.product_dear.id},
                )
            ]
        )
        self.assertEqual(rma.line_ids.exchange_price_unit, 150.0)
        self.assertEqual(rma.exchange_count, 1)  # before receipt for this reason
        self.assertEqual(
            rma.picking_ids.filtered(
                lambda p: p.picking_type_code == "outgoing"
            ).move_ids.product_id,
            self.product_dear,
        )
        rma.with_user(self.accountant).action_refund()
        difference = rma.move_ids
        self.assertRecordValues(
            difference,
            [{"move_type": "out_invoice", "amount_untaxed": 100.0, "state": "posted"}],
        )
        self._validate(self._receipt(rma))
        self.assertEqual(rma.state, "processed")

    def test_return_spanning_two_orders(self):
        order_1 = self._sell(qty=10.0)
        order_2 = self._sell(qty=5.0)
        rma = self._new_return(
            [
                (order_1.order_line, 2.0, self.reason_defective),
                (order_2.order_line, 1.0, self.reason_defective),
            ]
        )
        rma.action_request()
        self.assertEqual(rma.sale_order_ids, order_1 | order_2)
        rma.with_user(self.return_approver).action_approve()
        receipts = self._receipt(rma)
        self.assertEqual(len(receipts), 2)
        self.assertEqual(
            receipts.return_id,
            (order_1 | order_2).picking_ids.filtered(
                lambda p: p.picking_type_code == "outgoing"
            ),
        )
        for receipt in receipts:
            self._validate(receipt)
        invoices = (order_1 | order_2).invoice_ids
        credit_notes = self._refund(rma)
        self.assertEqual(credit_notes.reversed_entry_id, invoices)
        self.assertEqual(sorted(credit_notes.mapped("amount_untaxed")), [100.0, 200.0])
        self.assertEqual(order_1.flow_return_count, 1)
        self.assertEqual(order_2.flow_return_count, 1)
        self.assertEqual(self.customer.flow_return_count, 1)
        self.assertEqual(invoices[0].flow_return_count, 1)
        self.assertEqual(credit_notes[0].flow_return_count, 1)
        self.assertEqual(receipts.return_id[0].flow_return_count, 1)

    def test_lot_tracked_product(self):
        lot_product, (lot, other_lot) = self._lot_product(
            "Flow Serial Widget", ["LOT-A", "LOT-B"]
        )
        order = self._create_order(product=lot_product, qty=5.0)
        order.action_confirm()
        picking = order.picking_ids
        picking.move_ids.move_line_ids.unlink()
        picking.move_ids.move_line_ids = [
            Command.create(
                {
                    "lot_id": lot.id,
                    "quantity": 5.0,
                    "location_id": self.warehouse.lot_stock_id.id,
                    "location_dest_id": picking.location_dest_id.id,
                    "product_id": lot_product.id,
                }
            )
        ]
        picking.move_ids.picked = True
        picking.button_validate()
        order._create_invoices().action_post()
        line = order.order_line
        rma = self._new_return([(line, 2.0, self.reason_defective)])
        with self.assertRaisesRegex(UserError, "is tracked"):
            rma.action_request()
        rma.line_ids.lot_id = other_lot
        with self.assertRaisesRegex(
            UserError, "LOT-B .* was not delivered to Flow Customer"
        ):
            rma.action_request()
        self.assertEqual(rma.state, "draft")
        rma.line_ids.lot_id = lot
        rma.action_request()
        rma.with_user(self.return_approver).action_approve()
        receipt = self._receipt(rma)
        self.assertEqual(receipt.move_ids.move_line_ids.lot_id, lot)
        self._validate(receipt)
        self.assertEqual(rma.line_ids.received_lot_ids, lot)
        self.assertEqual(
            self.env["stock.quant"]._get_available_quantity(
                lot_product, self.quarantine, lot_id=lot
            ),
            2.0,
        )
        self.assertEqual(self._refund(rma).amount_untaxed, 200.0)

    def test_window_refused_and_overridden(self):
        order = self._sell(qty=10.0)
        order.order_line.move_ids.date = fields.Datetime.now() - timedelta(days=40)
        rma = self._new_return([(order.order_line, 1.0, self.reason_defective)])
        with self.assertRaisesRegex(
            UserError, "40 days ago: the return window is 30 days"
        ):
            rma.action_request()
        self.assertEqual(rma.state, "draft")
        category = self.product.categ_id
        category.write({"flow_return_policy": True, "flow_return_window_days": 45})
        rma.action_request()
        self.assertEqual(rma.state, "requested")
        rma_2 = self._new_return([(order.order_line, 1.0, self.reason_defective)])
        self.customer.write({"flow_return_policy": True, "flow_return_window_days": 35})
        with self.assertRaisesRegex(UserError, "the return window is 35 days"):
            rma_2.action_request()

    def test_over_quantity_refused_with_figures(self):
        order = self._sell(qty=10.0)
        line = order.order_line
        rma = self._new_return([(line, 11.0, self.reason_defective)])
        with self.assertRaisesRegex(
            UserError,
            re.escape("11.0 Units requested, but 10.0 delivered and 0.0 already")
            + ".*at most 10.0",
        ):
            rma.action_request()
        rma.line_ids.product_uom_qty = 4.0
        rma.action_request()
        second = self._new_return([(line, 7.0, self.reason_defective)])
        with self.assertRaisesRegex(
            UserError, re.escape("10.0 delivered and 4.0 already") + ".*at most 6.0"
        ):
            second.action_request()
        # once received, the delivered quantity carries the return
        rma.with_user(self.return_approver).action_approve()
        self._validate(self._receipt(rma))
        second.line_ids.product_uom_qty = 6.0
        second.action_request()
        self.assertEqual(second.state, "requested")

    def test_auto_approval_under_threshold(self):
        self.company.flow_return_auto_approve_amount = 500.0
        order = self._sell(qty=10.0)
        small = self._new_return([(order.order_line, 4.0, self.reason_defective)])
        small.action_request()
        self.assertRecordValues(small, [{"state": "approved", "auto_approved": True}])
        self.assertEqual(len(self._receipt(small)), 1)
        big = self._new_return([(order.order_line, 6.0, self.reason_defective)])
        big.action_request()
        self.assertRecordValues(big, [{"state": "requested", "auto_approved": False}])

    def test_bad_input_nothing_half_done(self):
        order = self._sell(qty=10.0)
        for qty in (0.0, -2.0):
            with self.assertRaisesRegex(ValidationError, "must be positive"):
                self._new_return([(order.order_line, qty, self.reason_defective)])
        other = self._create_order(product=self.product_dear, qty=1.0)
        rma = (
            self.env["sale.flow.return"]
            .with_user(self.salesman)
            .create(
                {
                    "partner_id": self.customer.id,
                    "sale_order_ids": [Command.set(order.ids)],
                    "line_ids": [
                        Command.create(
                            {
                                "product_id": self.product_dear.id,
                                "product_uom_qty": 1.0,
                                "reason_id": self.reason_defective.id,
                            }
                        )
                    ],
                }
            )
        )
        with self.assertRaisesRegex(UserError, "on none of the origin orders"):
            rma.action_request()
        self.assertEqual(rma.state, "draft")
        self.assertTrue(other)
        # a closed period: no credit note, nothing changed
        rma = self._approved([(order.order_line, 2.0, self.reason_no_return)])
        self.company.sale_lock_date = fields.Date.today()
        with self.assertRaisesRegex(UserError, "closed period"):
            self._refund(rma)
        self.assertFalse(rma.move_ids)
        self.assertEqual(rma.line_ids.qty_refunded, 0.0)
        self.assertEqual(rma.state, "approved")
        self.assertEqual(order.order_line.qty_invoiced, 10.0)

    def test_reject_and_cancel_need_a_reason(self):
        order = self._sell()
        rma = self._new_return([(order.order_line, 1.0, self.reason_defective)])
        rma.action_request()
        approver_rma = rma.with_user(self.return_approver)
        with self.assertRaisesRegex(UserError, r"Reason field \(Comment tab\) first"):
            approver_rma.action_reject()
        approver_rma.state_reason = "Outside warranty"
        approver_rma.action_reject()
        self.assertEqual(rma.state, "rejected")
        rma.action_draft()
        rma.state_reason = False
        rma.action_request()
        approver_rma.action_approve()
        receipt = self._receipt(rma)
        rma.state_reason = "Customer keeps it"
        rma.action_cancel()
        self.assertEqual((rma.state, receipt.state), ("cancelled", "cancel"))

    def test_create_return_prefilled(self):
        order = self._sell(qty=10.0)
        action = order.with_user(self.salesman).action_flow_create_return()
        values = action["context"]["default_line_ids"]
        self.assertEqual(len(values), 1)
        self.assertEqual(values[0][2]["product_uom_qty"], 10.0)
        self.assertEqual(values[0][2]["sale_line_id"], order.order_line.id)
        picking_action = order.picking_ids.with_user(
            self.salesman
        ).action_flow_create_return()
        self.assertEqual(picking_action["context"]["default_sale_order_ids"], order.ids)

    def test_rma_pdf_with_barcode(self):
        order = self._sell()
        rma = self._new_return([(order.order_line, 1.0, self.reason_defective)])
        rma.action_request()

        def rma_html():
            return (
                self.env["ir.actions.report"]
                .with_user(self.salesman)
                ._render_qweb_html(
                    "sales_order_flow.action_report_sale_flow_return", rma.ids
                )[0]
                .decode()
            )

        # requested: the customer is told to wait, not where to send
        html = rma_html()
        self.assertIn("Awaiting approval", html)
        self.assertNotIn("Receipt instructions", html)
        rma.with_user(self.return_approver).action_approve()
        html = rma_html()
        self.assertIn(rma.name, html)
        self.assertIn("barcode_type=Code128&amp;value=" + rma.name, html)
        self.assertIn("Receipt instructions", html)
        self.assertNotIn("Awaiting approval", html)
        self._validate(self._receipt(rma))
        statement = (
            self.env["ir.actions.report"]
            .with_user(self.salesman)
            ._render_qweb_html(
                "sales_order_flow.action_report_sale_flow_return_by_reason", rma.ids
            )[0]
            .decode()
        )
        self.assertIn("Returns by Reason", statement)
        self.assertIn(self.reason_defective.name, statement)
        self.assertIn("Flow Widget", statement)

    def test_back_office_screens(self):
        """What the return screens show: Refund only when something can be
        credited now, the line's name on linked records, the credit notes'
        customer columns, the kanban columns in the workflow's order, the
        quantities of the PDFs with their unit."""
        order = self._sell(qty=10.0)
        rma = self._approved([(order.order_line, 4.0, self.reason_defective)])
        self.assertEqual(rma.state, "approved")
        self.assertFalse(rma.refund_due)  # nothing received yet
        self.assertEqual(
            rma.line_ids.display_name, f"{rma.name} - {self.product.display_name}"
        )
        self._validate(self._receipt(rma), qty=3.0)
        self.assertTrue(rma.refund_due)
        action = rma.with_user(self.accountant).action_refund()
        self.assertEqual(action["context"]["default_move_type"], "out_refund")
        self.assertFalse(rma.refund_due)  # the fourth is not back yet
        action = rma.action_view_credit_notes()
        self.assertEqual(action["context"]["default_move_type"], "out_refund")
        exchange = self._approved([(order.order_line, 1.0, self.reason_wrong)])
        self.assertFalse(exchange.refund_due)  # same product: never a credit
        draft = self._new_return([(order.order_line, 1.0, self.reason_defective)])
        groups = self.env["sale.flow.return"].read_group(
            [("id", "in", (rma | exchange | draft).ids)], ["state"], ["state"]
        )
        self.assertEqual(
            [group["state"] for group in groups],
            ["draft", "approved", "received_partial"],
        )
        statement = (
            self.env["ir.actions.report"]
            ._render_qweb_html(
                "sales_order_flow.action_report_sale_flow_return_by_reason", rma.ids
            )[0]
            .decode()
        )
        self.assertIn("4.00 Units", statement)
        self.assertIn("3.00 Units", statement)
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html(
                "sales_order_flow.action_report_sale_flow_return", rma.ids
            )[0]
            .decode()
        )
        self.assertRegex(html, r"3\.00</span>\s*<span[^>]*>Units")

    def test_exchange_cheaper_product_credits_the_difference(self):
        cheap = self.env["product.product"].create(
            {
                "name": "Flow Widget Lite",
                "type": "consu",
                "list_price": 70.0,
                "taxes_id": [Command.clear()],
            }
        )
        order = self._sell(qty=10.0)
        rma = self._approved(
            [
                (
                    order.order_line,
                    2.0,
                    self.reason_wrong,
                    {"exchange_product_id": cheap.id},
                )
            ]
        )
        self._validate(self._receipt(rma))
        self.assertEqual(rma.exchange_count, 1)
        self.assertEqual(rma.state, "received")
        rma.with_user(self.accountant).action_refund()
        self.assertRecordValues(
            rma.move_ids,
            [{"move_type": "out_refund", "amount_untaxed": 60.0, "state": "posted"}],
        )
        self.assertEqual(rma.state, "processed")
        # the difference is no refund of the order line
        self.assertEqual(order.order_line.qty_invoiced, 10.0)

    def test_goods_bought_elsewhere(self):
        """No origin order: a plain receipt and a plain credit note at the
        price agreed on the line."""
        rma = (
            self.env["sale.flow.return"]
            .with_user(self.salesman)
            .create(
                {
                    "partner_id": self.customer.id,
                    "line_ids": [
                        Command.create(
                            {
                                "product_id": self.product.id,
                                "product_uom_qty": 1.0,
                                "price_unit": 80.0,
                                "reason_id": self.reason_defective.id,
                            }
                        )
                    ],
                }
            )
        )
        rma.action_request()
        rma.with_user(self.return_approver).action_approve()
        receipt = self._receipt(rma)
        self.assertRecordValues(
            receipt,
            [
                {
                    "location_id": self.customer.property_stock_customer.id,
                    "location_dest_id": self.quarantine.id,
                    "return_id": False,
                }
            ],
        )
        self._validate(receipt)
        self.assertEqual(rma.line_ids.qty_to_refund, 1.0)
        credit_note = self._refund(rma)
        # the salesperson sees it: it is made out for the return's salesperson
        self.assertRecordValues(
            credit_note,
            [
                {
                    "reversed_entry_id": False,
                    "amount_untaxed": 80.0,
                    "state": "posted",
                    "invoice_user_id": self.salesman.id,
                }
            ],
        )
        self.assertEqual(rma.state, "processed")

    def test_return_without_refund(self):
        order = self._sell(qty=10.0)
        rma = self._approved(
            [
                (
                    order.order_line,
                    1.0,
                    self.reason_defective,
                    {"operation": "return_no_refund"},
                )
            ]
        )
        receipt = self._receipt(rma)
        self.assertFalse(receipt.move_ids.to_refund)
        self._validate(receipt)
        self.assertEqual(rma.state, "processed")
        self.assertFalse(rma.move_ids)
        self.assertEqual(order.order_line.qty_delivered, 10.0)

    def test_create_return_in_the_form(self):
        order = self._sell(qty=10.0)
        action = order.with_user(self.salesman).action_flow_create_return()
        form = Form(
            self.env["sale.flow.return"]
            .with_user(self.salesman)
            .with_context(**action["context"])
        )
        with form.line_ids.edit(0) as line:
            line.product_uom_qty = 3.0
            line.reason_id = self.reason_overstock
        rma = form.save()
        self.assertRecordValues(
            rma.line_ids,
            [
                {
                    "sale_line_id": order.order_line.id,
                    "product_uom_qty": 3.0,
                    "operation": "refund",
                    "price_unit": 100.0,
                    "price_subtotal": 300.0,
                }
            ],
        )
        self.assertEqual(rma.sale_order_ids, order)
        rma.action_request()
        self.assertEqual(rma.state, "requested")
