from odoo import Command, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import float_compare, float_is_zero
from odoo.tools.misc import format_date

from ..utils import lock_rows_for_retry
from ..utils.internal_context import has_internal_key, internal_context
from .sale_flow_return_line import ACTIVE_STATES

RETURN_STATES = [
    ("draft", "Draft"),
    ("requested", "Requested"),
    ("approved", "Approved"),
    ("received_partial", "Partly Received"),
    ("received", "Received"),
    ("processed", "Processed"),
    ("done", "Done"),
    ("rejected", "Rejected"),
    ("cancelled", "Cancelled"),
]
APPROVER_GROUP = "sales_order_flow.group_sale_flow_return_approver"
# Written only by the return's own steps (buttons), never directly: a direct
# write (RPC, import, a kanban drop) would skip the approval and the checks.
WORKFLOW_FIELDS = ("state", "date_approved", "approved_by_id", "auto_approved")
WORKFLOW_KEY = "sale_flow_return_workflow"
INVOICE_GROUP = "account.group_account_invoice"


class SaleFlowReturn(models.Model):
    _name = "sale.flow.return"
    _description = "Return (RMA)"
    _inherit = ["portal.mixin", "mail.thread", "mail.activity.mixin"]
    _order = "date_request desc, id desc"
    _check_company_auto = True

    name = fields.Char(
        string="Number", required=True, readonly=True, copy=False, default="/"
    )
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    partner_id = fields.Many2one(
        "res.partner",
        string="Contact",
        required=True,
        tracking=True,
        check_company=True,
    )
    commercial_partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        compute="_compute_commercial_partner_id",
        store=True,
        index=True,
    )
    user_id = fields.Many2one(
        "res.users",
        string="Salesperson",
        default=lambda self: self.env.user,
        tracking=True,
    )
    date_request = fields.Datetime(
        string="Request Date", default=fields.Datetime.now, required=True
    )
    date_approved = fields.Datetime(readonly=True, copy=False)
    approved_by_id = fields.Many2one("res.users", readonly=True, copy=False)
    auto_approved = fields.Boolean(readonly=True, copy=False)
    sale_order_ids = fields.Many2many(
        "sale.order",
        "sale_flow_return_sale_order_rel",
        "return_id",
        "order_id",
        string="Origin Orders",
        domain="[('partner_id', 'child_of', commercial_partner_id), "
        "('state', '=', 'sale')]",
        check_company=True,
    )
    invoice_ids = fields.Many2many(
        "account.move",
        "sale_flow_return_account_move_rel",
        "return_id",
        "move_id",
        string="Origin Invoices",
        domain="[('move_type', '=', 'out_invoice'), ('state', '=', 'posted'), "
        "('commercial_partner_id', '=', commercial_partner_id)]",
        check_company=True,
        help="The customer's invoices the goods were billed on: their lines are "
        "credited when the return is refunded.",
    )
    line_ids = fields.One2many(
        "sale.flow.return.line", "return_id", string="Lines", copy=True
    )
    state = fields.Selection(
        RETURN_STATES,
        default="draft",
        required=True,
        tracking=True,
        copy=False,
        group_expand="_read_group_expand_states",
    )
    state_reason = fields.Text(
        string="Rejection/Cancellation Reason",
        copy=False,
        help="Why the request is rejected or cancelled (required to do so).",
    )
    comment = fields.Text(help="The customer's description of the problem.")
    return_location_id = fields.Many2one(
        "stock.location",
        default=lambda self: self.env.company.flow_return_location_id,
        domain="[('usage', '=', 'internal')]",
        check_company=True,
    )
    picking_ids = fields.One2many(
        "stock.picking", "flow_return_id", string="Transfers", readonly=True
    )
    receipt_count = fields.Integer(compute="_compute_counts")
    exchange_count = fields.Integer(compute="_compute_counts")
    move_ids = fields.One2many(
        "account.move", "flow_return_id", string="Credit Notes", readonly=True
    )
    credit_note_count = fields.Integer(compute="_compute_counts")
    # whether Refund has something to credit now (shows the button)
    refund_due = fields.Boolean(string="Refund", compute="_compute_refund_due")
    amount_untaxed = fields.Monetary(
        string="Value", compute="_compute_amount_untaxed", store=True
    )

    @api.model
    def _read_group_expand_states(self, states, domain):
        """Groups by state in the workflow's order (kanban columns), not
        alphabetically; only the states that have returns."""
        return [key for key, _label in self._fields["state"].selection if key in states]

    @api.depends("partner_id")
    def _compute_commercial_partner_id(self):
        for rma in self:
            rma.commercial_partner_id = rma.partner_id.commercial_partner_id

    @api.depends("line_ids.price_subtotal")
    def _compute_amount_untaxed(self):
        for rma in self:
            rma.amount_untaxed = sum(rma.line_ids.mapped("price_subtotal"))

    @api.depends("picking_ids.picking_type_code", "move_ids")
    def _compute_counts(self):
        for rma in self:
            codes = rma.picking_ids.mapped("picking_type_code")
            rma.receipt_count = codes.count("incoming")
            rma.exchange_count = codes.count("outgoing")
            rma.credit_note_count = len(rma.move_ids)

    @api.depends("line_ids.qty_to_refund", "line_ids.exchange_difference_due")
    def _compute_refund_due(self):
        for rma in self:
            rma.refund_due = any(
                line.qty_to_refund or line.exchange_difference_due
                for line in rma.line_ids
            )

    def _compute_access_url(self):
        result = super()._compute_access_url()
        for rma in self:
            rma.access_url = f"/my/returns/{rma.id}"
        return result

    @api.model_create_multi
    def create(self, vals_list):
        if not has_internal_key(self.env, WORKFLOW_KEY):
            for vals in vals_list:
                values = {
                    field: vals.get(field, self.env.context.get(f"default_{field}"))
                    for field in WORKFLOW_FIELDS
                }
                if values["state"] not in (None, False, "draft") or any(
                    values[field] for field in WORKFLOW_FIELDS[1:]
                ):
                    raise UserError(self._flow_workflow_message())
        for vals in vals_list:
            if vals.get("name", "/") == "/":
                company = self.env["res.company"].browse(
                    vals.get("company_id") or self.env.company.id
                )
                vals["name"] = self._flow_next_number(company)
        return super().create(vals_list)

    def write(self, vals):
        if not has_internal_key(self.env, WORKFLOW_KEY) and any(
            field in vals for field in WORKFLOW_FIELDS
        ):
            raise UserError(self._flow_workflow_message())
        return super().write(vals)

    def _flow_workflow_message(self):
        return self.env._(
            "The status of a return changes only through its buttons (Request, "
            "Approve, Reject, Refund, Cancel, Close): they run the checks and "
            "approvals a direct change would skip."
        )

    def _flow_write_workflow(self, vals):
        """Write the workflow fields: only the return's own steps call this,
        after their checks."""
        return self.with_context(**internal_context(WORKFLOW_KEY)).write(vals)

    @api.model
    def _flow_next_number(self, company):
        """RMA/<year>/0001, numbered per company: each company gets its own
        sequence on its first return."""
        # sudo: numbering is not a right of the user creating the request
        Sequence = self.env["ir.sequence"].sudo()
        sequence = Sequence.search(
            [("code", "=", "sale.flow.return"), ("company_id", "=", company.id)],
            limit=1,
        )
        if not sequence:
            sequence = Sequence.create(
                {
                    "name": f"Returns ({company.name})",
                    "code": "sale.flow.return",
                    "prefix": "RMA/%(year)s/",
                    "padding": 4,
                    "company_id": company.id,
                    "use_date_range": True,
                }
            )
        return sequence.next_by_id()

    def _get_report_base_filename(self):
        self.ensure_one()
        return self.env._("Return %(name)s", name=self.name)

    # ------------------------------------------------------------------
    # Policy
    # ------------------------------------------------------------------
    def _flow_auto_approve_amount(self):
        """Amount under which the request is approved automatically: the
        customer's policy, else the lowest of its lines' category policies
        and the company's; 0: never."""
        self.ensure_one()
        partner = self.commercial_partner_id
        if partner.flow_return_policy:
            return partner.flow_return_auto_approve_amount
        amounts = [line._flow_policy()["auto_approve_amount"] for line in self.line_ids]
        return min(amounts) if amounts else 0.0

    # ------------------------------------------------------------------
    # Checks
    # ------------------------------------------------------------------
    def _flow_check_state(self, states, action):
        for rma in self:
            if rma.state not in states:
                raise UserError(
                    self.env._(
                        "Return %(name)s is %(state)s: it cannot be %(action)s.",
                        name=rma.name,
                        state=dict(
                            self._fields["state"]._description_selection(self.env)
                        )[rma.state],
                        action=action,
                    )
                )

    def _flow_check_request(self):
        """Everything a request needs, per line, before it leaves draft."""
        attachment_counts = dict(
            self.env["ir.attachment"]._read_group(
                [("res_model", "=", self._name), ("res_id", "in", self.ids)],
                ["res_id"],
                ["__count"],
            )
        )
        for rma in self:
            if not rma.line_ids:
                raise UserError(
                    self.env._("Return %(name)s has no line.", name=rma.name)
                )
            other_customers = rma.sale_order_ids.filtered(
                lambda o, rma=rma: (
                    o.partner_id.commercial_partner_id != rma.commercial_partner_id
                )
            )
            if other_customers:
                raise UserError(
                    self.env._(
                        "Return %(name)s: order %(order)s is not of %(customer)s.",
                        name=rma.name,
                        order=other_customers[0].name,
                        customer=rma.commercial_partner_id.display_name,
                    )
                )
            other_invoices = rma.invoice_ids.filtered(
                lambda m, rma=rma: (
                    m.commercial_partner_id != rma.commercial_partner_id
                    or m.move_type != "out_invoice"
                    or m.state != "posted"
                )
            )
            if other_invoices:
                raise UserError(
                    self.env._(
                        "Return %(name)s: %(invoice)s is not a posted invoice of "
                        "%(customer)s.",
                        name=rma.name,
                        invoice=other_invoices[0].display_name,
                        customer=rma.commercial_partner_id.display_name,
                    )
                )
            reasons = rma.line_ids.reason_id
            if not rma.comment and any(reasons.mapped("comment_required")):
                raise UserError(
                    self.env._(
                        "Return %(name)s: the reason %(reason)s needs a comment.",
                        name=rma.name,
                        reason=reasons.filtered("comment_required")[0].name,
                    )
                )
            if not attachment_counts.get(rma.id) and any(
                reasons.mapped("photo_required")
            ):
                raise UserError(
                    self.env._(
                        "Return %(name)s: the reason %(reason)s needs a photo or a "
                        "document attached.",
                        name=rma.name,
                        reason=reasons.filtered("photo_required")[0].name,
                    )
                )
        self.line_ids._flow_check_returnable()

    # ------------------------------------------------------------------
    # Workflow
    # ------------------------------------------------------------------
    def action_request(self):
        """Salesperson (or portal): submit the request. Approved at once when
        it is worth no more than the policy's auto-approval amount."""
        # Odoo's own message for a return the user may read but not change
        # (a salesperson's colleague's), before the checks read its origin
        self.check_access("write")
        self._flow_check_state(("draft",), self.env._("requested"))
        self._flow_check_request()
        self._flow_write_workflow(
            {"state": "requested", "date_request": fields.Datetime.now()}
        )
        for rma in self:
            threshold = rma._flow_auto_approve_amount()
            if threshold and (
                float_compare(
                    rma.amount_untaxed,
                    threshold,
                    precision_rounding=rma.currency_id.rounding,
                )
                <= 0
            ):
                rma.message_post(
                    body=self.env._(
                        "Approved automatically: %(amount)s is within the "
                        "auto-approval amount of %(threshold)s.",
                        amount=rma.amount_untaxed,
                        threshold=threshold,
                    )
                )
                rma._flow_approve(auto=True)
            else:
                rma.message_post(body=self.env._("Return requested."))
                # the team leader approves when they may; else the approvers
                # find it under "To Approve"
                leader = rma.user_id.sale_team_id.user_id
                if leader and leader.has_group(APPROVER_GROUP):
                    rma._flow_schedule(
                        "mail_activity_type_sale_flow_return_approve", leader
                    )
        return True

    def action_approve(self):
        if not self.env.user.has_group(APPROVER_GROUP):
            raise AccessError(
                self.env._("Only a returns approver can approve a return.")
            )
        self._flow_check_state(("requested",), self.env._("approved"))
        for rma in self:
            rma._flow_approve()
        return True

    def _flow_approve(self, auto=False):
        """Approve: receipts through Odoo's return of the deliveries,
        replacements due at approval, activities for the next teams. Called
        after the caller's own check (approver, or the auto-approval policy)."""
        self.ensure_one()
        with self.env.cr.savepoint():
            self._flow_write_workflow(
                {
                    "state": "approved",
                    "date_approved": fields.Datetime.now(),
                    "approved_by_id": self.env.user.id,
                    "auto_approved": auto,
                }
            )
            self._flow_activity_done("mail_activity_type_sale_flow_return_approve")
            receipt_lines = self.line_ids.filtered(lambda line: line.needs_receipt)
            receipts = receipt_lines._flow_create_receipts()
            early = self.line_ids.filtered(
                lambda line: (
                    line.operation == "exchange"
                    and (
                        line.reason_id.exchange_before_receipt or not line.needs_receipt
                    )
                )
            )
            early._flow_create_replacements()
            if receipts:
                self.message_post(
                    body=self.env._(
                        "Approved; receipt %(names)s to receive.",
                        names=", ".join(receipts.mapped("name")),
                    )
                )
                self._flow_schedule(
                    "mail_activity_type_sale_flow_return_receive",
                    self.company_id.flow_return_logistics_user_id,
                )
            if any(line.qty_to_refund for line in self.line_ids):
                self._flow_schedule(
                    "mail_activity_type_sale_flow_return_refund",
                    self.company_id.flow_return_finance_user_id,
                )
            self._flow_update_state()

    def action_reject(self):
        if not self.env.user.has_group(APPROVER_GROUP):
            raise AccessError(
                self.env._("Only a returns approver can reject a return.")
            )
        self._flow_check_state(("requested",), self.env._("rejected"))
        self._flow_check_reason()
        self._flow_write_workflow({"state": "rejected"})
        self._flow_activity_done("mail_activity_type_sale_flow_return_approve")
        for rma in self:
            rma.message_post(
                body=self.env._("Rejected: %(reason)s", reason=rma.state_reason)
            )
        return True

    def _flow_cancel_states(self):
        return ("draft", "requested", "approved")

    def _flow_cancel_blocked(self):
        """Whether goods or money already moved: then the return stays."""
        self.ensure_one()
        return bool(
            self.move_ids or self.picking_ids.filtered(lambda p: p.state == "done")
        )

    def action_cancel(self):
        self.check_access("write")
        self._flow_check_state(self._flow_cancel_states(), self.env._("cancelled"))
        self._flow_check_reason()
        for rma in self:
            if rma._flow_cancel_blocked():
                raise UserError(
                    self.env._(
                        "Return %(name)s already has goods received or a credit "
                        "note: it cannot be cancelled.",
                        name=rma.name,
                    )
                )
        with self.env.cr.savepoint():
            # sudo: cancelling the request cancels the receipts it created,
            # whoever of the sales team cancels it (checked above)
            self.picking_ids.filtered(
                lambda p: p.state not in ("done", "cancel")
            ).sudo().action_cancel()
            self._flow_write_workflow({"state": "cancelled"})
            self.activity_unlink(
                [
                    "sales_order_flow.mail_activity_type_sale_flow_return_approve",
                    "sales_order_flow.mail_activity_type_sale_flow_return_receive",
                    "sales_order_flow.mail_activity_type_sale_flow_return_refund",
                ]
            )
        for rma in self:
            rma.message_post(
                body=self.env._("Cancelled: %(reason)s", reason=rma.state_reason)
            )
        return True

    def action_draft(self):
        self._flow_check_state(("rejected", "cancelled"), self.env._("reset"))
        self._flow_write_workflow({"state": "draft"})
        return True

    def action_done(self):
        self._flow_check_state(("processed",), self.env._("closed"))
        self._flow_write_workflow({"state": "done"})
        return True

    def _flow_check_reason(self):
        for rma in self:
            if not (rma.state_reason or "").strip():
                raise UserError(
                    self.env._(
                        "Return %(name)s: write why in the Rejection/Cancellation "
                        "Reason field (Comment tab) first.",
                        name=rma.name,
                    )
                )

    def _flow_schedule(self, xmlid, user):
        for rma in self:
            rma.activity_schedule(
                f"sales_order_flow.{xmlid}",
                user_id=(user or rma.user_id or self.env.user).id,
            )

    def _flow_activity_done(self, xmlid):
        self.activity_feedback([f"sales_order_flow.{xmlid}"])

    def _flow_update_state(self):
        """State from the lines: received (partly / fully) once the receipts
        are validated, processed once every line's operation is complete.
        Schedules the finance activity when goods to refund arrive."""
        for rma in self:
            if rma.state not in ("approved", "received_partial", "received"):
                continue
            lines = rma.line_ids
            # replacements due once the goods are back
            lines.filtered(
                lambda line: (
                    line.operation == "exchange"
                    and line.receipt_complete
                    and not line.exchange_move_ids
                )
            )._flow_create_replacements()
            receipt_lines = lines.filtered("needs_receipt")
            state = "approved"
            if receipt_lines:
                if all(line.receipt_complete for line in receipt_lines):
                    state = "received"
                elif any(receipt_lines.mapped("qty_received")):
                    state = "received_partial"
            if all(line.processed for line in lines):
                state = "processed"
            if state == rma.state:
                continue
            previous = rma.state
            rma._flow_write_workflow({"state": state})
            if state in ("received", "processed") and previous in (
                "approved",
                "received_partial",
            ):
                rma._flow_activity_done("mail_activity_type_sale_flow_return_receive")
            if state in ("received_partial", "received"):
                rma.message_post(body=self.env._("Goods received."))
                if any(line.qty_to_refund for line in lines) and not (
                    rma.activity_ids.filtered(
                        lambda a: (
                            a.activity_type_id
                            == self.env.ref(
                                "sales_order_flow.mail_activity_type_sale_flow_return_refund"
                            )
                        )
                    )
                ):
                    rma._flow_schedule(
                        "mail_activity_type_sale_flow_return_refund",
                        rma.company_id.flow_return_finance_user_id,
                    )
            if state == "processed":
                rma._flow_activity_done("mail_activity_type_sale_flow_return_refund")
                rma.message_post(body=self.env._("Return processed."))

    def _flow_create_picking(self, picking_type, source, dest, move_values):
        """A transfer of the return from ``source`` to ``dest``, one move per
        values dict of ``move_values`` (name and locations filled in),
        confirmed and reserved."""
        self.ensure_one()
        # sudo: the return's step (approval, receipt, repair: checked by the
        # caller) creates the transfer for logistics, as the stock user would
        return (
            self.env["stock.picking"]
            .sudo()
            .with_company(self.company_id)
            .create(
                {
                    "picking_type_id": picking_type.id,
                    "partner_id": self.partner_id.id,
                    "location_id": source.id,
                    "location_dest_id": dest.id,
                    "origin": self.name,
                    "flow_return_id": self.id,
                    "move_ids": [
                        Command.create(
                            {
                                "name": self.name,
                                "location_id": source.id,
                                "location_dest_id": dest.id,
                                **values,
                            }
                        )
                        for values in move_values
                    ],
                }
            )
            ._flow_confirm()
        )

    # ------------------------------------------------------------------
    # Finance
    # ------------------------------------------------------------------
    def action_refund(self):
        """Accountant: credit note of what is due (received quantities, or the
        requested ones where nothing comes back), against the original invoice
        lines through Odoo's reversal, with the restocking fees; and the
        exchanges' price differences. Each line is refunded once: its row is
        locked and its refunded quantity read again under the lock."""
        if not self.env.user.has_group(INVOICE_GROUP):
            raise AccessError(self.env._("Only an accountant can refund a return."))
        self._flow_check_state(
            ("approved", "received_partial", "received"), self.env._("refunded")
        )
        lock_rows_for_retry(self.env.cr, "sale_flow_return_line", self.line_ids.ids)
        self.line_ids.invalidate_recordset(["qty_refunded", "exchange_invoiced"])
        moves = self.env["account.move"]
        for rma in self:
            rma = rma.with_company(rma.company_id)
            lines = rma.line_ids.filtered("qty_to_refund")
            differences = rma.line_ids.filtered("exchange_difference_due")
            if not lines and not differences:
                raise UserError(
                    self.env._(
                        "Return %(name)s has nothing to refund now: no received "
                        "or refundable quantity is left to credit.",
                        name=rma.name,
                    )
                )
            with self.env.cr.savepoint():
                new_moves = lines._flow_create_credit_notes()
                new_moves |= differences._flow_create_difference_moves()
                new_moves.action_post()
                # sudo: an accountant (checked above) refunds any return, also
                # one of a salesperson they may not otherwise change; the
                # credit notes are made with their own rights
                rma = rma.sudo()
                rma.message_post(
                    body=self.env._(
                        "Credit note %(names)s created.",
                        names=", ".join(new_moves.mapped("name")),
                    )
                )
                rma._flow_update_state()
            moves |= new_moves
        return moves._get_records_action(
            name=self.env._("Credit Notes"), context=self._flow_credit_notes_context()
        )

    # ------------------------------------------------------------------
    # Smart buttons
    # ------------------------------------------------------------------
    def action_view_receipts(self):
        return self._flow_pickings_action("incoming", self.env._("Receipts"))

    def action_view_exchanges(self):
        return self._flow_pickings_action("outgoing", self.env._("Replacements"))

    def _flow_pickings_action(self, code, name):
        pickings = self.picking_ids.filtered(lambda p: p.picking_type_code == code)
        return pickings._get_records_action(name=name)

    def action_view_credit_notes(self):
        return self.move_ids._get_records_action(
            name=self.env._("Credit Notes"), context=self._flow_credit_notes_context()
        )

    def _flow_credit_notes_context(self):
        # the invoice list shows its Customer and Invoice Date columns only
        # for a customer move type
        return {**self.env.context, "default_move_type": "out_refund"}

    @api.model
    def _flow_new_return_action(self, partner, lines, **defaults):
        """The form of a new return of ``partner`` pre-filled with ``lines``
        (line commands) and ``defaults`` (``sale_order_ids=[ids]``, ...), as
        "Create Return" opens it from an order, a delivery or an invoice."""
        context = {
            "default_partner_id": partner.id,
            "default_line_ids": lines,
        }
        context.update({f"default_{name}": value for name, value in defaults.items()})
        return {
            "type": "ir.actions.act_window",
            "res_model": "sale.flow.return",
            "view_mode": "form",
            "name": self.env._("New Return"),
            "context": context,
        }

    @api.model
    def _flow_returns_action(self, returns, default=None):
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "sales_order_flow.sale_flow_return_action"
        )
        action["domain"] = [("id", "in", returns.ids)]
        action["context"] = dict(default or {})
        return action

    @api.model
    def _flow_lines_from_moves(self, moves):
        """Return line values from done outgoing moves (delivered to the
        customer): what is still returnable, one line per move (per lot of a
        tracked move)."""
        return [
            Command.create(row["values"])
            for row in self._flow_returnable_rows(moves)
            if row["returnable"]
        ]

    @api.model
    def _flow_returnable_rows(self, moves):
        """What can still be returned of ``moves``: one row per done move
        delivered to the customer (per lot when tracked), in the product's
        unit, as ``{key, move, sale_line, lot, uom, delivered, other,
        returnable, date, age, window, expired, values}``. ``other`` is what
        Odoo's own returns and the active return requests already take of
        the move, capped by what the order line still allows (delivered minus
        returned or requested, the check of ``action_request``); ``expired``
        when the delivery is older than the line's return window."""
        moves = moves.filtered(
            lambda m: m.state == "done" and m.location_dest_id.usage == "customer"
        )
        if not moves:
            return []
        ReturnLine = self.env["sale.flow.return.line"]
        # sudo: every active request on these deliveries counts, whoever made
        # it (the records are only summed here, nothing of them is shown)
        requested = ReturnLine.sudo().search(
            [("move_id", "in", moves.ids), ("state", "in", ACTIVE_STATES)]
        )
        pending = ReturnLine._flow_pending_quantities(moves.sale_line_id)
        today = fields.Date.context_today(self)
        rows = []
        for move in moves.sorted(lambda m: (m.date, m.id)):
            product = move.product_id
            unit = product.uom_id
            rounding = unit.rounding

            def in_unit(qty, uom, unit=unit):
                return uom._compute_quantity(qty, unit)

            # Odoo's own returns of the move; the receipts of our requests are
            # counted by the requests themselves
            odoo_returns = move.returned_move_ids.filtered(
                lambda m: m.state != "cancel" and not m.flow_return_line_id
            )
            move_requests = requested.filtered(lambda r, move=move: r.move_id == move)
            left_move = (
                in_unit(move.quantity, move.product_uom)
                - sum(odoo_returns.mapped("product_qty"))
                - sum(
                    in_unit(r.product_uom_qty, r.product_uom_id) for r in move_requests
                )
            )
            sale_line = move.sale_line_id
            left_line = None
            if sale_line:
                left_line = in_unit(
                    sale_line.qty_delivered - pending[sale_line.id],
                    sale_line.product_uom,
                )
            lots = (
                move.move_line_ids.lot_id
                if product.tracking != "none"
                else self.env["stock.lot"]
            )
            # the move's date is when it was delivered (done)
            date = move.date.date()
            # the policy of a line of this customer and product (not saved)
            policy = ReturnLine.new(
                {
                    "return_id": self.new(
                        {
                            "partner_id": (
                                sale_line.order_id.partner_id or move.partner_id
                            ).id,
                            "company_id": move.company_id.id,
                        }
                    ),
                    "product_id": product.id,
                }
            )._flow_policy()
            window = policy["window_days"]
            age = (today - date).days
            for lot in lots or [lots]:
                if lot:
                    delivered = sum(
                        in_unit(ml.quantity, ml.product_uom_id)
                        for ml in move.move_line_ids
                        if ml.lot_id == lot
                    )
                    left = (
                        delivered
                        - sum(
                            in_unit(ml.quantity, ml.product_uom_id)
                            for ml in odoo_returns.move_line_ids
                            if ml.lot_id == lot
                        )
                        - sum(
                            in_unit(r.product_uom_qty, r.product_uom_id)
                            for r in move_requests
                            if r.lot_id == lot
                        )
                    )
                    left = min(left, left_move)
                else:
                    delivered = in_unit(move.quantity, move.product_uom)
                    left = left_move
                if left_line is not None:
                    left = min(left, left_line)
                left = max(left, 0.0)
                if float_is_zero(left, precision_rounding=rounding):
                    left = 0.0
                rows.append(
                    {
                        "key": f"qty_{move.id}_{lot.id}" if lot else f"qty_{move.id}",
                        "move": move,
                        "sale_line": sale_line,
                        "lot": lot,
                        "uom": unit,
                        "delivered": delivered,
                        "other": delivered - left,
                        "returnable": left,
                        "date": date,
                        "age": age,
                        "window": window,
                        "expired": age > window,
                        "values": {
                            "product_id": product.id,
                            "product_uom_qty": left,
                            "product_uom_id": unit.id,
                            "sale_line_id": sale_line.id,
                            "move_id": move.id,
                            "lot_id": lot.id,
                        },
                    }
                )
        return rows

    @api.model
    def _flow_returnable_status(self, rows):
        """``{open, message}`` of rows of ``_flow_returnable_rows``: open when
        something can be requested now, else why not, in the customer's words
        (the window that is over, with its figures, or nothing left)."""
        if any(row["returnable"] and not row["expired"] for row in rows):
            return {"open": True, "message": False}
        expired = [row for row in rows if row["returnable"]]
        if expired:
            row = expired[0]
            return {
                "open": False,
                "message": self.env._(
                    "The return window is over: delivered on %(date)s, %(age)s "
                    "days ago; returns are accepted within %(window)s days.",
                    date=format_date(self.env, row["date"]),
                    age=row["age"],
                    window=row["window"],
                ),
            }
        if rows:
            return {
                "open": False,
                "message": self.env._(
                    "Nothing left to return: everything delivered is already "
                    "returned or requested."
                ),
            }
        return {
            "open": False,
            "message": self.env._("Nothing of this delivery can be returned."),
        }
