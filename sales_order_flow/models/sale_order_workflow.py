"""Automatic order-to-cash workflow on sales orders (issue 13).

The profile of an order is its customer's, else its sales team's, else its
payment terms', else the company default. A cron runs the steps in batches:
confirm, invoice (validated deliveries or prepaid orders), send, release
prepaid deliveries. Each order runs in its own savepoint and is committed
alone (outside tests); a failure leaves its reason on the order and is
retried at the next run. A step is recorded once per order and key
(``sale.flow.workflow.step``) under a lock of the order, so it never runs
twice.
"""

import logging

import odoo
from odoo import api, fields, models

from ..utils.locking import lock_rows_for_retry
from .sale_order_recurrence import CONCURRENCY_ERRORS

_logger = logging.getLogger(__name__)


class SaleOrder(models.Model):
    _inherit = "sale.order"

    _flow_workflow_batch_size = 100

    # ------------------------------------------------------------------
    # ---- automatic workflow (issue 13) ----
    # ------------------------------------------------------------------
    flow_workflow_id = fields.Many2one(
        "sale.flow.workflow",
        string="Automatic Workflow",
        compute="_compute_flow_workflow_id",
        store=True,
        readonly=False,
        precompute=True,
        index="btree_not_null",
        ondelete="restrict",
        check_company=True,
        help="Profile of the automatic steps: the customer's, else the sales "
        "team's, else the payment terms', else the company default.",
    )
    flow_workflow_next_step = fields.Char(
        string="Next Automatic Step", compute="_compute_flow_workflow_next_step"
    )
    flow_workflow_step_ids = fields.One2many(
        "sale.flow.workflow.step", "order_id", string="Automatic Steps"
    )
    flow_workflow_prepaid_move_id = fields.Many2one(
        "account.move", string="Prepaid Invoice", copy=False, readonly=True
    )
    flow_workflow_released = fields.Boolean(
        string="Delivery Released",
        copy=False,
        readonly=True,
        help="Prepaid order: the invoice is paid, the deliveries may ship.",
    )
    flow_workflow_exception = fields.Text(
        string="Workflow Exception",
        copy=False,
        readonly=True,
        help="Why the last automatic step failed; it is retried at the next run.",
    )

    @api.depends("partner_id", "team_id", "payment_term_id", "company_id")
    def _compute_flow_workflow_id(self):
        defaults = {}
        for order in self:
            if order.state not in ("draft", "sent", False):
                continue
            company = order.company_id or self.env.company
            partner = order.partner_id.commercial_partner_id.with_company(company)
            profile = (
                partner.flow_workflow_id
                or order.team_id.flow_workflow_id
                or order.payment_term_id.with_company(company).flow_workflow_id
            )
            if not profile:
                if company.id not in defaults:
                    defaults[company.id] = self.env["sale.flow.workflow"].search(
                        [("company_id", "=", company.id), ("is_default", "=", True)],
                        limit=1,
                    )
                profile = defaults[company.id]
            order.flow_workflow_id = profile

    @api.depends(
        "flow_workflow_id",
        "state",
        "client_order_ref",
        "invoice_status",
        "flow_workflow_released",
        "flow_workflow_exception",
    )
    def _compute_flow_workflow_next_step(self):
        for order in self:
            order.flow_workflow_next_step = order._flow_workflow_describe_next()

    def _flow_workflow_describe_next(self):
        self.ensure_one()
        profile = self.flow_workflow_id
        if not profile:
            return False
        if self.flow_workflow_exception:
            return self.env._("Retry after the exception is solved")
        if self.state in ("draft", "sent"):
            if not profile.auto_confirm:
                return self.env._("Confirm by hand or on the portal")
            if not self.client_order_ref:
                return self.env._("Confirm when the customer's PO is entered")
            return self.env._("Confirm at the next run")
        if self.state != "sale":
            return False
        if profile.invoice_policy == "prepaid":
            if not self.flow_workflow_prepaid_move_id:
                return self.env._("Invoice the order at the next run")
            if not self.flow_workflow_released:
                return self.env._("Release the delivery once the invoice is paid")
        if profile.invoice_policy == "delivery" and self.invoice_status != "invoiced":
            return self.env._("Invoice each validated delivery")
        return self.env._("Nothing more")

    # ------------------------------------------------------------------
    # Running a step
    # ------------------------------------------------------------------
    def _flow_workflow_steps_done(self, keys):
        """Keys of ``keys`` already recorded for the orders of ``self``."""
        # sudo: step logs are read-only for users; a step runs once whoever
        # triggers it
        return set(
            self.env["sale.flow.workflow.step"]
            .sudo()
            .search_fetch(
                [("order_id", "in", self.ids), ("key", "in", list(keys))], ["key"]
            )
            .mapped("key")
        )

    def _flow_workflow_record(self, step, key, moves=None):
        self.ensure_one()
        # sudo: the step log is written by the workflow only
        self.env["sale.flow.workflow.step"].sudo().create(
            {
                "order_id": self.id,
                "step": step,
                "key": key,
                "move_ids": [(6, 0, moves.ids)] if moves else [],
            }
        )

    def _flow_workflow_run(self, method, label):
        """Run ``method`` (a method name) on each order of ``self`` in its own
        savepoint, after locking it; commit after each order outside tests.
        Returns the orders that failed."""
        failed = self.browse()
        for order in self:
            try:
                with self.env.cr.savepoint():
                    lock_rows_for_retry(self.env.cr, "sale_order", order.ids)
                    order.invalidate_recordset()
                    getattr(order, method)()
                    if order.flow_workflow_exception:
                        order.flow_workflow_exception = False
            except CONCURRENCY_ERRORS:
                raise
            except Exception as error:  # noqa: BLE001 - reported on the order
                _logger.info(
                    "Workflow step %s of %s failed: %s", label, order.name, error
                )
                order._flow_workflow_fail(label, error)
                failed |= order
            order._flow_workflow_commit()
        return failed

    def _flow_workflow_fail(self, label, error):
        self.ensure_one()
        reason = self._flow_error_text(error)
        text = self.env._("%(step)s: %(reason)s", step=label, reason=reason)
        self.flow_workflow_exception = text
        self.message_post(
            body=self.env._("Automatic workflow failed. %(text)s", text=text)
        )
        self._flow_exception_activity(self.env._("Automatic step failed"), text)

    def _flow_workflow_commit(self):
        if not odoo.modules.module.current_test:
            self.env.cr.commit()  # pylint: disable=invalid-commit

    def action_flow_workflow_retry(self):
        """Button: run the automatic steps of the order now."""
        self.check_access("write")
        # sudo: the steps run as the cron would, on orders the user may write
        self.sudo()._flow_workflow_process()
        return True

    # ------------------------------------------------------------------
    # Steps
    # ------------------------------------------------------------------
    def _flow_workflow_step_confirm(self):
        if (
            self.state in ("draft", "sent")
            and self.flow_workflow_id.auto_confirm
            and self.client_order_ref
            and not self._flow_confirmation_blockers()
            and "confirm" not in self._flow_workflow_steps_done(["confirm"])
        ):
            self.action_confirm()
            self._flow_workflow_record("confirm", "confirm")
            self.message_post(body=self.env._("Confirmed by the automatic workflow."))

    def _flow_workflow_step_invoice_delivery(self):
        pickings = self.picking_ids.filtered("flow_workflow_to_invoice")
        keys = {f"invoice:picking:{picking.id}" for picking in pickings}
        todo = keys - self._flow_workflow_steps_done(keys)
        moves = self.env["account.move"]
        if todo:
            moves = self.with_context(
                raise_if_nothing_to_invoice=False
            )._create_invoices()
            self._flow_workflow_finish_invoices(moves)
        for key in sorted(todo):
            self._flow_workflow_record("invoice", key, moves)
            moves = self.env["account.move"]  # one invoice for all, on the first
        pickings.flow_workflow_to_invoice = False

    def _flow_workflow_step_invoice_prepaid(self):
        if self.flow_workflow_prepaid_move_id or self._flow_workflow_steps_done(
            ["invoice:prepaid"]
        ):
            return
        lines = self.order_line.filtered(
            lambda line: (
                not line.display_type
                and not line.flow_recurrence_id
                and line.product_uom_qty > line.qty_invoiced
            )
        )
        moves = self.env["account.move"]
        if lines:
            values = self._prepare_invoice()
            values["invoice_line_ids"] = [
                (
                    0,
                    0,
                    line._prepare_invoice_line(
                        sequence=line.sequence,
                        quantity=line.product_uom_qty - line.qty_invoiced,
                    ),
                )
                for line in lines
            ]
            moves = self._create_account_invoices([values], final=False)
            self._flow_workflow_finish_invoices(moves)
        self.flow_workflow_prepaid_move_id = moves[:1]
        if not moves:
            self.flow_workflow_released = True
        self._flow_workflow_record("invoice", "invoice:prepaid", moves)

    def _flow_workflow_finish_invoices(self, moves):
        """Post (and queue for sending) the invoices as the profile says."""
        profile = self.flow_workflow_id
        if not moves or not profile.post_invoice:
            return
        moves.action_post()
        if profile.send_invoice:
            moves.flow_workflow_send_pending = True

    def _flow_workflow_step_send(self):
        moves = self.invoice_ids.filtered(
            lambda m: m.flow_workflow_send_pending and m.state == "posted"
        )
        keys = {f"send:{move.id}": move for move in moves}
        done = self._flow_workflow_steps_done(keys)
        todo = self.env["account.move"].union(
            *(move for key, move in keys.items() if key not in done)
        )
        if todo:
            # Odoo's Send & Print, with the customer's sending method and
            # the invoice mail template
            self.env["account.move.send"]._generate_and_send_invoices(todo)
            for move in todo:
                self._flow_workflow_record("send", f"send:{move.id}", move)
        moves.flow_workflow_send_pending = False

    def _flow_workflow_step_release(self):
        move = self.flow_workflow_prepaid_move_id
        if self.flow_workflow_released or move.payment_state not in (
            "paid",
            "in_payment",
        ):
            return
        self.flow_workflow_released = True
        self._flow_workflow_record("release", "release")
        self.message_post(
            body=self.env._(
                "Invoice %(invoice)s is paid: the delivery is released.",
                invoice=move.name,
            )
        )

    # ------------------------------------------------------------------
    # Cron
    # ------------------------------------------------------------------
    def _flow_workflow_candidates(self):
        """{step method: (label, domain)} in the order the steps run."""
        return {
            "_flow_workflow_step_confirm": (
                self.env._("Confirmation"),
                [
                    ("state", "in", ("draft", "sent")),
                    ("flow_workflow_id.auto_confirm", "=", True),
                    ("client_order_ref", "!=", False),
                    ("flow_approval_state", "in", ("not_required", "approved")),
                ],
            ),
            "_flow_workflow_step_invoice_delivery": (
                self.env._("Invoice of the delivery"),
                [
                    ("state", "=", "sale"),
                    ("picking_ids.flow_workflow_to_invoice", "=", True),
                ],
            ),
            "_flow_workflow_step_invoice_prepaid": (
                self.env._("Prepaid invoice"),
                [
                    ("state", "=", "sale"),
                    ("flow_workflow_id.invoice_policy", "=", "prepaid"),
                    ("flow_workflow_prepaid_move_id", "=", False),
                    ("flow_workflow_released", "=", False),
                ],
            ),
            "_flow_workflow_step_send": (
                self.env._("Sending the invoice"),
                [
                    ("state", "=", "sale"),
                    ("invoice_ids.flow_workflow_send_pending", "=", True),
                ],
            ),
            "_flow_workflow_step_release": (
                self.env._("Release of the delivery"),
                [
                    ("state", "=", "sale"),
                    ("flow_workflow_id.invoice_policy", "=", "prepaid"),
                    ("flow_workflow_released", "=", False),
                    (
                        "flow_workflow_prepaid_move_id.payment_state",
                        "in",
                        ("paid", "in_payment"),
                    ),
                ],
            ),
        }

    def _flow_workflow_process(self):
        """Run every step on the orders of ``self`` (the retry button)."""
        for method, (label, domain) in self._flow_workflow_candidates().items():
            orders = self.filtered_domain(domain)
            if orders:
                orders._flow_workflow_run(method, label)

    @api.model
    def _cron_flow_workflow(self, batch_size=None):
        """Run each automatic step on its orders, a batch at a time."""
        batch_size = batch_size or self._flow_workflow_batch_size
        done = 0
        for method, (label, domain) in self._flow_workflow_candidates().items():
            processed = []
            while True:
                orders = self.search(
                    [*domain, ("id", "not in", processed)], order="id", limit=batch_size
                )
                if not orders:
                    break
                processed += orders.ids
                orders._flow_workflow_run(method, label)
                done += len(orders)
                self.env["ir.cron"]._notify_progress(
                    done=done, remaining=self.search_count(domain)
                )
        return True

    # ------------------------------------------------------------------
    # Recurring invoices follow the profile
    # ------------------------------------------------------------------
    def _flow_recurring_post(self, moves):
        """Post the recurring invoices unless the order's profile says not to;
        queue them for sending when it says so."""
        by_order = {}
        for move in moves:
            order = move.line_ids.sale_line_ids.order_id[:1]
            by_order.setdefault(order, self.env["account.move"])
            by_order[order] |= move
        to_post = self.env["account.move"]
        to_send = self.env["account.move"]
        for order, order_moves in by_order.items():
            profile = order.flow_workflow_id
            if profile and not profile.post_invoice:
                continue
            to_post |= order_moves
            if profile.send_invoice:
                to_send |= order_moves
        to_post.action_post()
        to_send.flow_workflow_send_pending = True
