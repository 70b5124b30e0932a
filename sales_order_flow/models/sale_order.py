from collections import defaultdict
from datetime import timedelta

from markupsafe import Markup

from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import (
    float_compare,
    format_date,
    format_datetime,
    html_sanitize,
)
from odoo.tools.misc import formatLang

from ..utils import lock_rows_for_retry
from .sale_flow_discount_mixin import FLOW_DISCOUNT_FIELDS


class SaleOrder(models.Model):
    _inherit = "sale.order"

    # ------------------------------------------------------------------
    # Fields: customer purchase order
    # ------------------------------------------------------------------
    flow_po_required = fields.Boolean(
        string="PO Required",
        related="partner_id.commercial_partner_id.flow_po_required",
    )
    flow_po_date = fields.Date(
        string="Customer PO Date",
        copy=False,
        tracking=True,
        help="Date of the customer's purchase order.",
    )
    flow_po_document = fields.Binary(
        string="Customer PO Document",
        attachment=True,
        copy=False,
        help="The customer's purchase order as they sent it (PDF or image).",
    )
    flow_po_document_name = fields.Char(string="Customer PO File Name", copy=False)

    # ------------------------------------------------------------------
    # Fields: validity
    # ------------------------------------------------------------------
    flow_expired = fields.Boolean(
        string="Expired",
        copy=False,
        index=True,
        tracking=True,
        readonly=True,
        help="Set by the daily check once the quotation's expiration date has "
        "passed; cleared when a new expiration date is given.",
    )

    # ------------------------------------------------------------------
    # Fields: approval (sale.flow.approval.rule)
    # ------------------------------------------------------------------
    flow_approval_state = fields.Selection(
        [
            ("not_required", "Not Required"),
            ("to_request", "Approval Needed"),
            ("pending", "Waiting Approval"),
            ("approved", "Approved"),
            ("rejected", "Rejected"),
        ],
        string="Approval",
        default="not_required",
        required=True,
        copy=False,
        readonly=True,
        index=True,
        tracking=True,
        help="Set by the approval rules each time lines, prices, discounts, "
        "customer, team or payment terms change. Approval Needed: a rule matches, "
        "ask for approval. Waiting Approval: approvers have been asked. A "
        "quotation needing approval cannot be sent, confirmed, signed or paid "
        "until every level has approved.",
    )
    flow_approval_ids = fields.One2many(
        "sale.flow.order.approval",
        "order_id",
        string="Approvals",
        copy=False,
        readonly=True,
        help="One line per approval rule the quotation matches, decided level "
        "by level.",
    )
    flow_approval_snapshot = fields.Json(
        string="Approved Figures",
        copy=False,
        readonly=True,
        help="Figures submitted for approval (discount, margins, amount, "
        "customer, payment terms): a later change making one of them worse "
        "resets the approval.",
    )
    flow_can_approve = fields.Boolean(
        string="Can Approve",
        compute="_compute_flow_can_approve",
        help="The current user is an approver of the level waiting for approval.",
    )
    flow_approver_user_ids = fields.Many2many(
        "res.users",
        string="Current Approvers",
        compute="_compute_flow_approver_user_ids",
        search="_search_flow_approver_user_ids",
        help="Users who may approve the level currently waiting for approval.",
    )

    # ------------------------------------------------------------------
    # Fields: revisions
    # ------------------------------------------------------------------
    # The links and the number are not copied: a plain "Duplicate" starts a new
    # original; only action_flow_new_revision() sets them.
    flow_revision_number = fields.Integer(
        string="Revision",
        copy=False,
        readonly=True,
        default=0,
        help="0 for the original quotation, then 1, 2, ... for each revision.",
    )
    flow_base_name = fields.Char(
        string="Base Number",
        compute="_compute_flow_base_name",
        store=True,
        recursive=True,
        index=True,
        help="The quotation number without its revision suffix; shared by all "
        "revisions of the same quotation.",
    )
    flow_previous_revision_id = fields.Many2one(
        comodel_name="sale.order",
        string="Previous Revision",
        copy=False,
        readonly=True,
        index="btree_not_null",
        help="The quotation this revision replaced.",
    )
    flow_next_revision_id = fields.Many2one(
        comodel_name="sale.order",
        string="Replaced By",
        copy=False,
        readonly=True,
        index="btree_not_null",
        help="The revision that replaced (and cancelled) this quotation.",
    )
    flow_revision_history_ids = fields.Many2many(
        comodel_name="sale.order",
        string="Revision History",
        compute="_compute_flow_revision_history_ids",
        help="Every revision of this quotation, the original first.",
    )
    flow_revision_count = fields.Integer(
        string="Revisions",
        compute="_compute_flow_revision_history_ids",
    )
    flow_revision_changes_html = fields.Html(
        string="What Changed",
        compute="_compute_flow_revision_changes_html",
        sanitize=True,
        help="Lines and terms that differ from the previous revision.",
    )

    # ------------------------------------------------------------------
    # Compute methods
    # ------------------------------------------------------------------
    @api.depends("company_id", "partner_id")
    def _compute_validity_date(self):  # pylint: disable=missing-return
        """A customer's own validity days override the company's."""
        super()._compute_validity_date()
        today = fields.Date.context_today(self)
        for order in self:
            days = order.partner_id.commercial_partner_id.flow_quotation_validity_days
            if days > 0:
                order.validity_date = today + timedelta(days)

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._flow_approval_before_write(vals)
        # Line hooks skip the approval evaluation; it runs once below.
        orders = super(
            SaleOrder, self.with_context(**{self._FLOW_APPROVAL_SKIP_KEY: True})
        ).create(vals_list)
        orders = orders.with_env(self.env)
        # Discount rules first: approval rules judge the resulting discounts.
        orders._flow_discount_after_create()
        orders._flow_approval_after_create()
        return orders

    def write(self, vals):
        self._flow_approval_before_write(vals)
        if vals.get("validity_date"):
            new_date = fields.Date.to_date(vals["validity_date"])
            if new_date >= fields.Date.context_today(self):
                vals = dict(vals, flow_expired=False)
        # Line hooks skip the approval evaluation; it runs once below.
        res = super(
            SaleOrder, self.with_context(**{self._FLOW_APPROVAL_SKIP_KEY: True})
        ).write(vals)
        self._flow_discount_after_write(vals)
        self._flow_approval_after_write(vals)
        return res

    # ------------------------------------------------------------------
    # Confirmation and portal checks
    # ------------------------------------------------------------------
    def _confirmation_error_message(self):
        error = super()._confirmation_error_message()
        if error:
            return error
        blockers = self._flow_confirmation_blockers()
        return "\n".join(blockers) if blockers else False

    def _flow_confirmation_blockers(self):
        """Return why this quotation cannot be confirmed now (translated texts).

        Used by the internal confirmation, the portal signature and payment, so
        one rule holds everywhere.
        """
        self.ensure_one()
        blockers = []
        if self.flow_po_required and not self.client_order_ref:
            blockers.append(
                _(
                    "%(customer)s requires a purchase order: enter the customer's "
                    "PO reference on %(order)s before confirming it.",
                    customer=self.partner_id.commercial_partner_id.display_name,
                    order=self.name,
                )
            )
        if self._flow_is_past_validity():
            blockers.append(
                _(
                    "%(order)s expired on %(date)s: give it a new expiration date "
                    "before confirming it.",
                    order=self.name,
                    date=self.validity_date,
                )
            )
        blockers += self._flow_approval_blockers()
        blockers += self._flow_agreement_blockers()
        return blockers

    def _flow_is_past_validity(self):
        self.ensure_one()
        return self.flow_expired or (
            self.validity_date and self.validity_date < fields.Date.context_today(self)
        )

    def _flow_portal_blockers(self):
        """Return, in the customer's words, why the quotation cannot be accepted
        or paid on the portal yet."""
        self.ensure_one()
        blockers = []
        if self.flow_po_required and not self.client_order_ref:
            blockers.append(
                _(
                    "Please enter your purchase order reference before accepting "
                    "this quotation."
                )
            )
        if self._flow_is_past_validity():
            blockers.append(
                _("This quotation has expired. Please ask us for a renewed offer.")
            )
        if self._flow_approval_blockers():
            blockers.append(
                _(
                    "This quotation is being reviewed on our side. You can accept "
                    "it as soon as it has been approved."
                )
            )
        return blockers

    def _has_to_be_signed(self):
        return super()._has_to_be_signed() and not self._flow_confirmation_blockers()

    def _has_to_be_paid(self):
        return super()._has_to_be_paid() and not self._flow_confirmation_blockers()

    # ------------------------------------------------------------------
    # Invoicing: the customer PO follows the order
    # ------------------------------------------------------------------
    def _prepare_invoice(self):
        values = super()._prepare_invoice()
        values["flow_po_date"] = self.flow_po_date
        if self.flow_po_document:
            values["flow_po_document"] = self.flow_po_document
            values["flow_po_document_name"] = self.flow_po_document_name
        return values

    # ------------------------------------------------------------------
    # Validity: daily expiry cron
    # ------------------------------------------------------------------
    @api.model
    def _cron_flow_expire_quotations(self):
        """Mark quotations past their validity as expired and, where the company
        asks for it, cancel those expired for longer than its grace days."""
        today = fields.Date.context_today(self)
        to_expire = self.search(
            [
                ("state", "in", ("draft", "sent")),
                ("flow_expired", "=", False),
                ("validity_date", "<", today),
            ]
        )
        if to_expire:
            to_expire.write({"flow_expired": True})
            to_expire._message_log_batch(
                bodies={
                    # env._: plain _() finds no language inside a comprehension
                    order.id: self.env._(
                        "This quotation expired on %(date)s.", date=order.validity_date
                    )
                    for order in to_expire
                }
            )
        expired = self.search(
            [
                ("state", "in", ("draft", "sent")),
                ("flow_expired", "=", True),
                ("company_id.flow_cancel_expired_quotations", "=", True),
            ]
        )
        to_cancel = expired.filtered(
            lambda o: (
                o.validity_date
                and o.validity_date
                + timedelta(days=o.company_id.flow_expiry_grace_days)
                < today
            )
        )
        if to_cancel:
            to_cancel._action_cancel()
            to_cancel._message_log_batch(
                bodies={
                    order.id: self.env._(
                        "Cancelled automatically: expired on %(date)s and not renewed "
                        "within %(days)s grace days.",
                        date=order.validity_date,
                        days=order.company_id.flow_expiry_grace_days,
                    )
                    for order in to_cancel
                }
            )
        return True

    # ------------------------------------------------------------------
    # Approval (business methods)
    # ------------------------------------------------------------------
    # Fields whose change may change the outcome of the approval rules.
    _FLOW_APPROVAL_TRIGGER_FIELDS = frozenset(
        {
            "partner_id",
            "payment_term_id",
            "team_id",
            "pricelist_id",
            "currency_id",
            "company_id",
            "order_line",
        }
    )
    _FLOW_APPROVAL_ACTIVITY = "sales_order_flow.mail_activity_type_sale_flow_approval"
    # Lets the approval methods write the protected approval fields.
    _FLOW_APPROVAL_WRITE_KEY = "sale_flow_approval_write"
    # Set while the order's own create/write runs, so line hooks leave the
    # evaluation to the order (once, after every line is written).
    _FLOW_APPROVAL_SKIP_KEY = "sale_flow_skip_approval_eval"

    @api.depends("flow_approval_state", "flow_approval_ids.state")
    @api.depends_context("uid")
    def _compute_flow_can_approve(self):
        for order in self:
            order.flow_can_approve = (
                order.flow_approval_state == "pending"
                and self.env.user in order.flow_approver_user_ids
            )

    @api.depends(
        "flow_approval_state",
        "flow_approval_ids.state",
        "flow_approval_ids.level",
        "flow_approval_ids.approver_user_ids",
    )
    def _compute_flow_approver_user_ids(self):
        for order in self:
            order.flow_approver_user_ids = (
                order._flow_current_approvals().approver_user_ids
                if order.flow_approval_state == "pending"
                else False
            )

    def _search_flow_approver_user_ids(self, operator, value):
        if operator not in ("in", "="):
            raise UserError(_("Unsupported search on the current approvers."))
        user_ids = [value] if isinstance(value, int) else list(value or [])
        # Approval lines are read with sudo: the search must see every approval
        # of the orders, whoever may read them (the order's own rules still
        # apply to the result).
        Approval = self.env["sale.flow.order.approval"].sudo()
        users = self.env["res.users"].browse(user_ids)
        mine = Approval.search(
            [
                ("state", "=", "pending"),
                ("order_id.flow_approval_state", "=", "pending"),
                "|",
                ("rule_id.approver_user_ids", "in", users.ids),
                ("rule_id.approver_group_id.users", "in", users.ids),
            ]
        )
        if not mine:
            return [("id", "=", False)]
        current_levels = dict(
            Approval._read_group(
                [("order_id", "in", mine.order_id.ids), ("state", "=", "pending")],
                ["order_id"],
                ["level:min"],
            )
        )
        order_ids = {
            approval.order_id.id
            for approval in mine
            if approval.level == current_levels.get(approval.order_id)
        }
        return [("id", "in", list(order_ids))]

    def _flow_current_approvals(self):
        """Pending approvals of the lowest pending level."""
        self.ensure_one()
        pending = self.flow_approval_ids.filtered(lambda a: a.state == "pending")
        if not pending:
            return pending
        level = min(pending.mapped("level"))
        return pending.filtered(lambda a: a.level == level)

    # ------------------------------------------------------------------
    # Approval: figures and evaluation
    # ------------------------------------------------------------------
    def _flow_get_approval_figures(self, line_values=None):
        """Return the figures the approval rules look at.

        :param line_values: optional list of dicts simulating the order lines
            (price simulation); each dict holds ``discount`` (%),
            ``price_subtotal`` (untaxed, order currency), ``margin`` (amount,
            order currency) and ``purchase_cost`` (cost price * quantity). When
            not given, the order's product lines are used (sections, notes and
            down payments are ignored).
        :return: dict with keys
            ``company_id`` (int),
            ``max_discount`` (float, %; highest line discount, 0 without lines),
            ``order_margin_percent`` (float %, as sale_margin's margin_percent
            * 100; None when there is nothing to compute it from),
            ``min_line_margin_percent`` (float %, lowest line margin; a line
            given away with a cost counts as -100 %; None without lines),
            ``amount_untaxed`` (float, converted to the company currency),
            ``partner_id`` (int, commercial partner),
            ``partner_category_ids`` (list of ints, tags of the customer and of
            its company),
            ``team_id`` (int or False),
            ``payment_term_id`` (int or False),
            ``payment_term_differs`` (bool, payment terms other than the
            customer's default).
        """
        self.ensure_one()
        if line_values is None:
            line_values = [
                {
                    # Free items given by discount rules are not a discount
                    # the salesperson grants.
                    "discount": 0.0 if line.flow_is_free_item else line.discount,
                    "price_subtotal": line.price_subtotal,
                    "margin": line.margin,
                    "purchase_cost": line.purchase_price * line.product_uom_qty,
                }
                for line in self.order_line
                if not line.display_type and not line.is_downpayment
            ]
        amount = sum(values["price_subtotal"] for values in line_values)
        margin = sum(values["margin"] for values in line_values)
        line_margins = []
        for values in line_values:
            if values["price_subtotal"]:
                line_margins.append(values["margin"] / values["price_subtotal"] * 100)
            elif values.get("purchase_cost", 0.0) > 0:
                line_margins.append(-100.0)
        if amount:
            order_margin = margin / amount * 100
        elif margin < 0:
            order_margin = -100.0
        else:
            order_margin = None
        company = self.company_id or self.env.company
        if self.currency_id and self.currency_id != company.currency_id:
            amount_company = self.currency_id._convert(
                amount,
                company.currency_id,
                company,
                self.date_order or fields.Date.context_today(self),
            )
        else:
            amount_company = amount
        partner = self.partner_id
        default_term = partner.with_company(company).property_payment_term_id
        return {
            "company_id": company.id,
            "max_discount": max(
                (values["discount"] or 0.0 for values in line_values), default=0.0
            ),
            "order_margin_percent": order_margin,
            "min_line_margin_percent": min(line_margins, default=None),
            "amount_untaxed": amount_company,
            "partner_id": partner.commercial_partner_id.id,
            "partner_category_ids": (
                partner.category_id | partner.commercial_partner_id.category_id
            ).ids,
            "team_id": self.team_id.id,
            "payment_term_id": self.payment_term_id.id,
            "payment_term_differs": self.payment_term_id != default_term,
        }

    def _flow_trigger_approval_evaluation(self):
        """Entry point of the CRUD hooks: evaluate unless the order's own
        create/write will do it once at its end."""
        if self.env.context.get(self._FLOW_APPROVAL_SKIP_KEY):
            return
        self._flow_evaluate_approval()

    def _flow_evaluate_approval(self):
        """Re-evaluate the approval rules of draft/sent quotations.

        The outcome is the set of matched rules. When it changes, the approval
        is reset (see ``_flow_reset_approval``). When it does not but the
        quotation was submitted or approved and a figure checked by its rules
        got worse than what was submitted (see ``_flow_is_worse_than_snapshot``),
        it is reset too. Queries do not grow with the number of lines: rules are
        searched once for all orders, lines are read in batch.
        """
        orders = self.filtered(lambda o: o.id and o.state in ("draft", "sent"))
        if not orders:
            return
        # sudo: which rules match must not depend on who edits the quotation
        # (portal, other departments); rules are configuration, not documents.
        Rule = self.env["sale.flow.approval.rule"].sudo()
        rules = Rule._get_candidate_rules(orders.company_id)
        to_reset = {}
        for order in orders:
            current = order.flow_approval_ids.rule_id
            if not rules and not current:
                continue
            figures = order._flow_get_approval_figures()
            matched = Rule._get_matching_rules(order, figures, rules=rules)
            if set(matched.ids) != set(current.ids):
                to_reset[order] = matched
            elif (
                matched
                and order.flow_approval_state in ("pending", "approved")
                and order._flow_is_worse_than_snapshot(figures, matched)
            ):
                to_reset[order] = matched
        if to_reset:
            self._flow_reset_approval(to_reset)

    def _flow_is_worse_than_snapshot(self, figures, rules):
        """Whether ``figures`` are worse than the submitted ones, on what
        ``rules`` check (a lower discount raises the amount, which matters only
        to amount rules)."""
        self.ensure_one()
        snapshot = self.flow_approval_snapshot or {}
        if not snapshot:
            return True
        if figures["partner_id"] != snapshot.get("partner_id"):
            return True

        def lower(value, reference):
            if reference is None:
                return False
            return value is None or round(value - reference, 4) < 0

        discount_up = round(
            figures["max_discount"] - (snapshot.get("max_discount") or 0.0), 4
        )
        if any(rules.mapped("check_discount")) and discount_up > 0:
            return True
        margin_rules = rules.filtered("check_margin")
        if "order" in margin_rules.mapped("margin_scope") and lower(
            figures["order_margin_percent"], snapshot.get("order_margin_percent")
        ):
            return True
        if "line" in margin_rules.mapped("margin_scope") and lower(
            figures["min_line_margin_percent"],
            snapshot.get("min_line_margin_percent"),
        ):
            return True
        if (
            any(rules.mapped("check_amount"))
            and self.company_id.currency_id.compare_amounts(
                figures["amount_untaxed"], snapshot.get("amount_untaxed") or 0.0
            )
            > 0
        ):
            return True
        return bool(
            any(rules.mapped("check_payment_term"))
            and figures["payment_term_id"] != snapshot.get("payment_term_id")
        )

    def _flow_get_approval_snapshot(self):
        self.ensure_one()
        figures = self._flow_get_approval_figures()
        return {
            key: figures[key]
            for key in (
                "max_discount",
                "order_margin_percent",
                "min_line_margin_percent",
                "amount_untaxed",
                "partner_id",
                "payment_term_id",
            )
        } | {"rule_ids": self.flow_approval_ids.rule_id.ids}

    def _flow_reset_approval(self, matched_by_order):
        """Replace the approvals of the given orders by the newly matched rules.

        :param matched_by_order: {sale.order record: matched rules recordset}
        """
        orders = self.browse([order.id for order in matched_by_order])
        # sudo: approval lines are read-only for salespeople; the rules were
        # evaluated above, the user only edited their quotation.
        orders.flow_approval_ids.sudo().unlink()
        orders.sudo().activity_unlink([self._FLOW_APPROVAL_ACTIVITY])
        self.env["sale.flow.order.approval"].sudo().create(
            [
                {"order_id": order.id, "rule_id": rule.id, "level": rule.level}
                for order, rules in matched_by_order.items()
                for rule in rules
            ]
        )
        bodies = {}
        needing, free = self.browse(), self.browse()
        for order, rules in matched_by_order.items():
            was = order.flow_approval_state
            if rules:
                needing |= order
                bodies[order.id] = _(
                    "Approval needed (rules: %(rules)s): request approval before "
                    "sending or confirming.",
                    rules=", ".join(rules.mapped("name")),
                )
            else:
                free |= order
                if was != "not_required":
                    bodies[order.id] = _(
                        "No approval rule applies any longer: approval is not required."
                    )
        writer = orders.with_context(**{self._FLOW_APPROVAL_WRITE_KEY: True})
        if needing:
            writer.filtered(lambda o: o in needing).write(
                {"flow_approval_state": "to_request", "flow_approval_snapshot": False}
            )
        if free:
            writer.filtered(lambda o: o in free).write(
                {
                    "flow_approval_state": "not_required",
                    "flow_approval_snapshot": False,
                }
            )
        if bodies:
            self.browse(list(bodies))._message_log_batch(bodies=bodies)

    # ------------------------------------------------------------------
    # Approval: actions
    # ------------------------------------------------------------------
    def action_flow_request_approval(self):
        """Ask the approvers of the first level: they get an activity."""
        self.check_access("write")
        # Rules may have changed since the last edit of the quotation.
        self._flow_evaluate_approval()
        for order in self:
            if order.state not in ("draft", "sent"):
                raise UserError(
                    _(
                        "%(order)s is not a quotation any more: approval cannot be "
                        "requested.",
                        order=order.name,
                    )
                )
            if order.flow_approval_state in ("pending", "approved"):
                raise UserError(
                    _(
                        "Approval of %(order)s has already been requested.",
                        order=order.name,
                    )
                )
        orders = self.filtered(
            lambda o: o.flow_approval_state in ("to_request", "rejected")
        )
        if not orders:
            return True
        # sudo: approval lines are read-only for salespeople; the user may write
        # the order (checked above).
        orders.flow_approval_ids.sudo().write(
            {
                "state": "pending",
                "approved_user_id": False,
                "approved_date": False,
                "rejected_user_id": False,
                "rejected_date": False,
                "reject_reason": False,
            }
        )
        for order in orders:
            order.with_context(**{self._FLOW_APPROVAL_WRITE_KEY: True}).write(
                {
                    "flow_approval_state": "pending",
                    "flow_approval_snapshot": order._flow_get_approval_snapshot(),
                }
            )
            approvals = order._flow_current_approvals()
            order._flow_schedule_approval_activities(approvals)
            order.message_post(
                body=_(
                    "Approval requested from %(users)s (level %(level)s: %(rules)s).",
                    users=", ".join(approvals.approver_user_ids.mapped("name")),
                    level=approvals[:1].level,
                    rules=", ".join(approvals.rule_id.mapped("name")),
                ),
                subtype_xmlid="mail.mt_note",
            )
        return True

    def action_flow_approve(self):
        """Approve, as the current user, the rules of the level waiting for
        approval; the next level is asked once this one is complete."""
        now = fields.Datetime.now()
        for order in self:
            mine = order._flow_check_approver()
            # sudo: approval lines are written only here, once the user is
            # checked to be an approver of the current level.
            mine.sudo().write(
                {
                    "state": "approved",
                    "approved_user_id": self.env.uid,
                    "approved_date": now,
                }
            )
            order._flow_close_approval_activities(
                user=self.env.user, feedback=_("Approved")
            )
            body = _(
                "Approved by %(user)s (level %(level)s: %(rules)s).",
                user=self.env.user.name,
                level=mine[:1].level,
                rules=", ".join(mine.rule_id.mapped("name")),
            )
            remaining = order._flow_current_approvals()
            if remaining and remaining[:1].level == mine[:1].level:
                pass  # other rules of this level still wait for their approvers
            elif remaining:
                # Level complete: the others asked at this level are done too.
                order._flow_close_approval_activities(feedback=_("Level approved"))
                order._flow_schedule_approval_activities(remaining)
                body = _(
                    "%(body)s Next level %(level)s asked to %(users)s.",
                    body=body,
                    level=remaining[:1].level,
                    users=", ".join(remaining.approver_user_ids.mapped("name")),
                )
            else:
                order._flow_close_approval_activities(feedback=_("Order approved"))
                # sudo: the approver may not have write access to the
                # salesperson's quotation; only approval fields are written.
                approver_writer = order.sudo().with_context(
                    **{self._FLOW_APPROVAL_WRITE_KEY: True}
                )
                approver_writer.write(
                    {
                        "flow_approval_state": "approved",
                        "flow_approval_snapshot": order._flow_get_approval_snapshot(),
                    }
                )
                body = _("%(body)s The quotation is approved.", body=body)
            # sudo: approvers may only read the quotation; the message is still
            # authored by them.
            order.sudo().message_post(body=body, subtype_xmlid="mail.mt_note")
        return True

    def action_flow_reject(self):
        """Open the wizard asking why the quotation is rejected."""
        self.ensure_one()
        self._flow_check_approver()
        return {
            "type": "ir.actions.act_window",
            "name": _("Reject Quotation"),
            "res_model": "sale.flow.approval.reject",
            "view_mode": "form",
            "target": "new",
            "context": {"default_order_id": self.id},
        }

    def _flow_reject(self, reason):
        """Reject the quotation as the current user (called by the wizard)."""
        self.ensure_one()
        if not (reason or "").strip():
            raise UserError(_("Give the reason of the rejection."))
        mine = self._flow_check_approver()
        # sudo: see action_flow_approve; the user is an approver of the level.
        mine.sudo().write(
            {
                "state": "rejected",
                "rejected_user_id": self.env.uid,
                "rejected_date": fields.Datetime.now(),
                "reject_reason": reason,
            }
        )
        self._flow_close_approval_activities(user=self.env.user, feedback=reason)
        order = self.sudo()
        order.activity_unlink([self._FLOW_APPROVAL_ACTIVITY])
        order.with_context(**{self._FLOW_APPROVAL_WRITE_KEY: True}).write(
            {"flow_approval_state": "rejected"}
        )
        order.activity_schedule(
            "mail.mail_activity_data_todo",
            summary=_("Quotation rejected"),
            note=_(
                "Rejected by %(user)s: %(reason)s",
                user=self.env.user.name,
                reason=reason,
            ),
            user_id=(self.user_id or self.create_uid).id,
        )
        order.message_post(
            body=_(
                "Rejected by %(user)s (level %(level)s: %(rules)s). Reason: %(reason)s",
                user=self.env.user.name,
                level=mine[:1].level,
                rules=", ".join(mine.rule_id.mapped("name")),
                reason=reason,
            ),
            subtype_xmlid="mail.mt_note",
        )
        return True

    # ------------------------------------------------------------------
    # Approval: helpers
    # ------------------------------------------------------------------
    def _flow_check_approver(self):
        """Return the current user's approvals of the level waiting for
        approval; raise a UserError naming who can decide otherwise."""
        self.ensure_one()
        if self.flow_approval_state != "pending":
            raise UserError(
                _(
                    "%(order)s is not waiting for approval.",
                    order=self.name,
                )
            )
        current = self._flow_current_approvals()
        mine = current.filtered(lambda a: self.env.user in a.approver_user_ids)
        if not mine:
            raise UserError(
                _(
                    "You cannot decide on %(order)s: level %(level)s waits for "
                    "%(users)s.",
                    order=self.name,
                    level=current[:1].level,
                    users=", ".join(current.approver_user_ids.mapped("name"))
                    or _("no active approver (check the approval rules)"),
                )
            )
        return mine

    def _flow_schedule_approval_activities(self, approvals):
        """One approval activity per approver of ``approvals``."""
        self.ensure_one()
        note = _(
            "Please approve or reject %(order)s (rules: %(rules)s).",
            order=self.name,
            rules=", ".join(approvals.rule_id.mapped("name")),
        )
        # sudo: approvers are assigned activities on a quotation the requesting
        # user (or the previous approver) may not be allowed to write.
        order = self.sudo()
        for user in approvals.approver_user_ids:
            order.activity_schedule(
                self._FLOW_APPROVAL_ACTIVITY,
                summary=_("Approve %(order)s", order=self.name),
                note=note,
                user_id=user.id,
            )

    def _flow_close_approval_activities(self, user=None, feedback=None):
        # sudo: approvers close activities on quotations they may only read.
        self.sudo().activity_feedback(
            [self._FLOW_APPROVAL_ACTIVITY],
            user_id=user.id if user else None,
            feedback=feedback,
        )

    def _flow_approval_blockers(self):
        """Reasons coming from approval rules: a quotation needing approval
        cannot be sent, confirmed, signed or paid."""
        self.ensure_one()
        if self.state not in ("draft", "sent"):
            return []
        state = self.flow_approval_state
        if state == "to_request":
            return [
                _(
                    "%(order)s needs approval (%(rules)s): request approval and "
                    "wait for it.",
                    order=self.name,
                    rules=", ".join(self.flow_approval_ids.rule_id.mapped("name")),
                )
            ]
        if state == "pending":
            current = self._flow_current_approvals()
            return [
                _(
                    "%(order)s is waiting for approval from %(users)s.",
                    order=self.name,
                    users=", ".join(current.approver_user_ids.mapped("name")),
                )
            ]
        if state == "rejected":
            return [
                _(
                    "%(order)s was rejected by its approvers: change it and "
                    "request approval again.",
                    order=self.name,
                )
            ]
        return []

    def _flow_check_approval_allows_sending(self):
        for order in self:
            blockers = order._flow_approval_blockers()
            if blockers:
                raise UserError("\n".join(blockers))

    def action_quotation_send(self):
        self._flow_check_approval_allows_sending()
        return super().action_quotation_send()

    def action_quotation_sent(self):
        self._flow_check_approval_allows_sending()
        return super().action_quotation_sent()

    def _flow_approval_after_create(self):
        self._flow_evaluate_approval()

    def _flow_approval_before_write(self, vals):
        """Approval fields are written by the approval methods only."""
        if (
            {"flow_approval_state", "flow_approval_snapshot"} & set(vals)
            and not self.env.context.get(self._FLOW_APPROVAL_WRITE_KEY)
            and not self.env.su
        ):
            raise UserError(
                _(
                    "The approval state changes through Request Approval, Approve "
                    "and Reject only."
                )
            )

    def _flow_approval_after_write(self, vals):
        if not self._FLOW_APPROVAL_TRIGGER_FIELDS.isdisjoint(vals) or (
            vals.get("state") == "draft"
        ):
            self._flow_trigger_approval_evaluation()

    # ------------------------------------------------------------------
    # Revisions (business methods)
    # ------------------------------------------------------------------
    @api.depends("name", "flow_previous_revision_id.flow_base_name")
    def _compute_flow_base_name(self):
        for order in self:
            previous = order.flow_previous_revision_id
            order.flow_base_name = previous.flow_base_name if previous else order.name

    @api.depends("flow_base_name", "company_id")
    def _compute_flow_revision_history_ids(self):
        # One search for the whole batch, grouped by (base name, company).
        keys = {
            (order.flow_base_name, order.company_id.id)
            for order in self
            if order.flow_base_name
        }
        history = defaultdict(lambda: self.browse())
        if keys:
            revisions = self.search(
                [
                    ("flow_base_name", "in", list({key[0] for key in keys})),
                    ("company_id", "in", list({key[1] for key in keys})),
                ],
                order="flow_revision_number, id",
            )
            for revision in revisions:
                history[revision.flow_base_name, revision.company_id.id] |= revision
        for order in self:
            orders = history[order.flow_base_name, order.company_id.id]
            order.flow_revision_history_ids = orders
            order.flow_revision_count = len(orders)

    @api.depends(
        "flow_previous_revision_id",
        "order_line.product_id",
        "order_line.product_uom_qty",
        "order_line.price_unit",
        "order_line.discount",
        "payment_term_id",
        "pricelist_id",
        "validity_date",
        "commitment_date",
        "client_order_ref",
        "fiscal_position_id",
        "partner_shipping_id",
    )
    def _compute_flow_revision_changes_html(self):
        for order in self:
            if order.flow_previous_revision_id:
                order.flow_revision_changes_html = order._flow_render_revision_changes(
                    order._flow_get_revision_changes()
                )
            else:
                order.flow_revision_changes_html = False

    def action_flow_new_revision(self):
        """Replace this quotation by its next revision and open the new one.

        The new revision is a copy (lines included) named ``<base>-R<n>`` with a
        fresh validity date; this quotation is cancelled and both are linked.
        """
        self.ensure_one()
        self._flow_check_can_revise()
        new_revision = self.copy(self._prepare_flow_revision_values())
        self.flow_next_revision_id = new_revision
        self._action_cancel()
        self.message_post(
            body=_(
                "Replaced by revision %(revision)s.",
                revision=new_revision._get_html_link(),
            ),
            subtype_xmlid="mail.mt_note",
        )
        new_revision.message_post(
            body=_(
                "Revision %(number)s of %(base)s, replacing %(previous)s.",
                number=new_revision.flow_revision_number,
                base=new_revision.flow_base_name,
                previous=self._get_html_link(),
            ),
            subtype_xmlid="mail.mt_note",
        )
        return {
            "type": "ir.actions.act_window",
            "name": new_revision.name,
            "res_model": "sale.order",
            "res_id": new_revision.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "current",
        }

    def action_flow_view_revisions(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Revisions of %(base)s", base=self.flow_base_name),
            "res_model": "sale.order",
            "view_mode": "list,form",
            "views": [(False, "list"), (False, "form")],
            "domain": [("id", "in", self.flow_revision_history_ids.ids)],
            "context": {"create": False},
        }

    def _flow_check_can_revise(self):
        """Raise a UserError unless every order of ``self`` may be revised: an
        open quotation that was sent, approved or has expired."""
        for order in self:
            if order.state not in ("draft", "sent") or order.flow_next_revision_id:
                raise UserError(
                    _(
                        "Only an open quotation can be revised: %(order)s is "
                        "%(state)s.",
                        order=order.name,
                        state=dict(
                            order._fields["state"]._description_selection(self.env)
                        ).get(order.state),
                    )
                )
            if not (
                order.state == "sent"
                or order.flow_approval_state == "approved"
                or order._flow_is_past_validity()
            ):
                raise UserError(
                    _(
                        "%(order)s cannot be revised: a new revision is made from "
                        "a quotation that was sent to the customer, approved or "
                        "has expired. Edit this draft directly instead.",
                        order=order.name,
                    )
                )

    def _prepare_flow_revision_values(self):
        """Values of the copy that becomes the next revision (hook)."""
        self.ensure_one()
        number = self.flow_revision_number + 1
        base = self.flow_base_name or self.name
        # A revision is the same offer: unlike a plain duplicate it keeps the
        # customer's reference, PO and committed dates (fields not copied).
        lines = self._get_copiable_order_lines()
        line_commands = []
        for line, line_values in zip(lines, lines.copy_data(), strict=True):
            line_values["flow_commitment_date"] = line.flow_commitment_date
            line_commands.append(Command.create(line_values))
        return {
            "name": f"{base}-R{number}",
            "flow_revision_number": number,
            "flow_previous_revision_id": self.id,
            "client_order_ref": self.client_order_ref,
            "commitment_date": self.commitment_date,
            "flow_po_date": self.flow_po_date,
            "flow_po_document": self.flow_po_document,
            "flow_po_document_name": self.flow_po_document_name,
            "order_line": line_commands,
        }

    @api.model
    def _flow_get_revision_compared_terms(self):
        """Order fields compared between revisions (hook)."""
        return [
            "payment_term_id",
            "pricelist_id",
            "validity_date",
            "commitment_date",
            "client_order_ref",
            "fiscal_position_id",
            "partner_shipping_id",
        ]

    def _flow_get_revision_changes(self):
        """What changed between this revision and its predecessor.

        :return: list of dicts ``{kind, label, old, new}`` where ``kind`` is
            ``added``, ``removed``, ``changed`` (a line) or ``term``, and
            ``old``/``new`` are formatted strings ("" when there is none).
        """
        self.ensure_one()
        previous = self.flow_previous_revision_id
        if not previous:
            return []
        return self._flow_get_line_changes(previous) + self._flow_get_term_changes(
            previous
        )

    def _flow_get_line_changes(self, previous):
        # Read the lines of both orders in one go: no query per line.
        all_lines = previous.order_line | self.order_line
        # _origin: lines being edited in a form are already in memory.
        all_lines._origin.fetch(
            [
                "order_id",
                "sequence",
                "display_type",
                "is_downpayment",
                "product_id",
                "product_uom",
                "product_uom_qty",
                "price_unit",
                "discount",
            ]
        )
        all_lines.product_id.fetch(["display_name"])
        all_lines.product_uom.fetch(["name"])

        def by_product(order):
            groups = defaultdict(list)
            for line in order.order_line:
                if not line.display_type and not line.is_downpayment:
                    groups[line.product_id].append(line)
            return groups

        old_groups, new_groups = by_product(previous), by_product(self)
        products = list(new_groups) + [p for p in old_groups if p not in new_groups]
        changes = []
        for product in products:
            old_lines, new_lines = old_groups.get(product, []), new_groups.get(product)
            new_lines = new_lines or []
            # Lines of the same product are matched in order of appearance.
            for old_line, new_line in zip(old_lines, new_lines, strict=False):
                changes += self._flow_compare_lines(old_line, new_line)
            for line in new_lines[len(old_lines) :]:
                changes.append(
                    {
                        "kind": "added",
                        "label": line.product_id.display_name,
                        "old": "",
                        "new": self._flow_format_line(line),
                    }
                )
            for line in old_lines[len(new_lines) :]:
                changes.append(
                    {
                        "kind": "removed",
                        "label": line.product_id.display_name,
                        "old": self._flow_format_line(line),
                        "new": "",
                    }
                )
        return changes

    def _flow_compare_lines(self, old_line, new_line):
        product = new_line.product_id.display_name
        changes = []
        compared = [
            ("product_uom_qty", _("%(product)s: quantity", product=product)),
            ("price_unit", _("%(product)s: unit price", product=product)),
            ("discount", _("%(product)s: discount", product=product)),
        ]
        for field_name, label in compared:
            old_value, new_value = old_line[field_name], new_line[field_name]
            if (
                float_compare(
                    old_value, new_value, precision_digits=self._flow_digits(field_name)
                )
                != 0
            ):
                changes.append(
                    {
                        "kind": "changed",
                        "label": label,
                        "old": self._flow_format_line_value(old_line, field_name),
                        "new": self._flow_format_line_value(new_line, field_name),
                    }
                )
        return changes

    def _flow_digits(self, field_name):
        precision = {
            "product_uom_qty": "Product Unit of Measure",
            "price_unit": "Product Price",
            "discount": "Discount",
        }[field_name]
        return self.env["decimal.precision"].precision_get(precision)

    def _flow_format_line_value(self, line, field_name):
        value = line[field_name]
        if field_name == "product_uom_qty":
            quantity = formatLang(self.env, value, dp="Product Unit of Measure")
            return f"{quantity} {line.product_uom.name or ''}".strip()
        if field_name == "price_unit":
            return formatLang(
                self.env,
                value,
                dp="Product Price",
                currency_obj=line.order_id.currency_id,
            )
        return f"{formatLang(self.env, value, dp='Discount')} %"

    def _flow_format_line(self, line):
        if line.discount:
            return _(
                "%(quantity)s × %(price)s, discount %(discount)s",
                quantity=self._flow_format_line_value(line, "product_uom_qty"),
                price=self._flow_format_line_value(line, "price_unit"),
                discount=self._flow_format_line_value(line, "discount"),
            )
        return _(
            "%(quantity)s × %(price)s",
            quantity=self._flow_format_line_value(line, "product_uom_qty"),
            price=self._flow_format_line_value(line, "price_unit"),
        )

    def _flow_get_term_changes(self, previous):
        changes = []
        for field_name in self._flow_get_revision_compared_terms():
            field = self._fields[field_name]
            if previous[field_name] == self[field_name]:
                continue
            changes.append(
                {
                    "kind": "term",
                    "label": field._description_string(self.env),
                    "old": previous._flow_format_term(field_name),
                    "new": self._flow_format_term(field_name),
                }
            )
        return changes

    def _flow_format_term(self, field_name):
        value = self[field_name]
        field_type = self._fields[field_name].type
        if not value:
            return ""
        if field_type == "many2one":
            return value.display_name
        if field_type == "date":
            return format_date(self.env, value)
        if field_type == "datetime":
            return format_datetime(self.env, value, tz=self.env.user.tz or "UTC")
        return str(value)

    def _flow_render_revision_changes(self, changes):
        """Html table of ``changes``; every value is escaped by Markup."""
        if not changes:
            return Markup("<p>%s</p>") % _(
                "Nothing changed since the previous revision."
            )
        kinds = {
            "added": _("Added"),
            "removed": _("Removed"),
            "changed": _("Changed"),
            "term": _("Terms"),
        }
        rows = Markup("").join(
            Markup("<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>")
            % (
                kinds.get(change["kind"], change["kind"]),
                change["label"],
                change["old"] or "—",
                change["new"] or "—",
            )
            for change in changes
        )
        header = Markup("<tr><th>%s</th><th>%s</th><th>%s</th><th>%s</th></tr>") % (
            _("Change"),
            _("What"),
            _("Before"),
            _("After"),
        )
        return html_sanitize(
            Markup('<table class="table table-sm o_flow_revision_changes">')
            + Markup("<thead>%s</thead><tbody>%s</tbody></table>") % (header, rows)
        )

    # ------------------------------------------------------------------
    # Commissions (issue 5): what the quotation would bring its agents
    # ------------------------------------------------------------------
    flow_commission_currency_id = fields.Many2one(
        related="company_id.currency_id", string="Commission Currency"
    )
    flow_commission_amount = fields.Monetary(
        string="Expected Commission",
        currency_field="flow_commission_currency_id",
        compute="_compute_flow_commission_amount",
        help="Commissions the order would bring its agents once invoiced as it "
        "is, by today's plans and volumes, in the company's currency.",
    )

    @api.depends(
        "order_line.price_subtotal",
        "order_line.product_id",
        "order_line.product_uom_qty",
        "order_line.discount",
        "order_line.purchase_price",
        "order_line.flow_agreement_id",
        "partner_id",
        "team_id",
        "user_id",
        "date_order",
    )
    def _compute_flow_commission_amount(self):
        infos = []
        owners = []
        today = fields.Date.context_today(self)
        for order in self:
            company = order.company_id or self.env.company
            # one rate per order, not one conversion per line
            rate = (
                1.0
                if order.currency_id == company.currency_id or not order.currency_id
                else order.currency_id._get_conversion_rate(
                    order.currency_id,
                    company.currency_id,
                    company,
                    order.date_order or today,
                )
            )
            for line in order.order_line:
                if line.display_type or not line.product_id:
                    continue
                infos.append(
                    {
                        "company_id": company.id,
                        "date": today,
                        "partner_id": order.partner_id.commercial_partner_id.id,
                        "team_id": order.team_id.id,
                        "user_id": order.user_id.id,
                        "product_id": line.product_id.id,
                        "agreement_id": line.flow_agreement_id.id,
                        "quantity": line.product_uom_qty,
                        "discount": line.discount,
                        "amount": line.price_subtotal * rate,
                        "cost": line.purchase_price * line.product_uom_qty * rate,
                    }
                )
                owners.append(order)
        totals = defaultdict(float)
        if infos:
            # sudo: salespeople see what they would earn; the engine reads plans
            # and the agents' volumes, which they cannot all read
            results = (
                self.env["sale.flow.commission.plan"]
                .sudo()
                ._flow_compute_commissions(infos)
            )
            for order, commissions in zip(owners, results, strict=True):
                totals[order] += sum(c["amount"] for c in commissions)
        for order in self:
            order.flow_commission_amount = totals[order]

    # ------------------------------------------------------------------
    # ---- discounts (issue 3) ----
    # ------------------------------------------------------------------
    # Order changes that may change which discount rules apply.
    _FLOW_DISCOUNT_ORDER_TRIGGERS = frozenset(
        {"order_line", "partner_id", "pricelist_id", "date_order", "company_id"}
    )

    def _flow_discount_after_create(self):
        self._flow_apply_discount_rules()

    def _flow_discount_after_write(self, vals):
        if self.env.context.get(
            "sale_flow_discount_applying"
        ) or self._FLOW_DISCOUNT_ORDER_TRIGGERS.isdisjoint(vals):
            return
        self._flow_apply_discount_rules()

    def _get_copiable_order_lines(self):
        # Free items are not copied: the rules give them again to the copy.
        return (
            super()
            ._get_copiable_order_lines()
            .filtered(lambda line: not line.flow_is_free_item)
        )

    def _flow_check_discount_rules_editable(self):
        for order in self:
            if order.state not in ("draft", "sent"):
                raise UserError(
                    _(
                        "Discounts of %(order)s cannot be recomputed: it is not a "
                        "quotation any more.",
                        order=order.name,
                    )
                )

    def action_flow_recompute_discounts(self):
        """Apply the discount rules again; lines discounted by hand are kept."""
        self.check_access("write")
        self._flow_check_discount_rules_editable()
        self._flow_apply_discount_rules()
        self._flow_trigger_approval_evaluation()
        return True

    def action_flow_reset_discounts(self):
        """Forget every manual discount and apply the discount rules."""
        self.check_access("write")
        self._flow_check_discount_rules_editable()
        self._flow_apply_discount_rules(reset_lines=self.order_line)
        self._flow_trigger_approval_evaluation()
        return True

    def action_flow_open_product_suggestions(self):
        """Products the customer often buys, to add in one click."""
        self.ensure_one()
        wizard = self.env["sale.flow.product.suggestion"].create({"order_id": self.id})
        return wizard._flow_get_action()

    def _flow_get_discount_order_facts(self, lines):
        """What the discount rules check on the order (see
        ``sale.flow.discount.rule._flow_matches``)."""
        self.ensure_one()
        partner = self.partner_id
        rate = self.currency_rate or 1.0
        amount = sum(line.price_unit * line.product_uom_qty for line in lines)
        return {
            "company_id": self.company_id.id,
            "partner_id": partner.commercial_partner_id.id,
            "partner_category_ids": set(
                (partner.category_id | partner.commercial_partner_id.category_id).ids
            ),
            "pricelist_id": self.pricelist_id.id,
            "date": fields.Date.context_today(self, self.date_order)
            if self.date_order
            else fields.Date.context_today(self),
            "amount": amount / rate,
        }

    def _flow_apply_discount_rules(self, reset_lines=None):
        """Apply the discount rules to the lines of draft/sent quotations.

        Rules are searched once for all orders and matched in memory, so the
        number of queries does not grow with the number of lines. For each
        line, rules apply in priority order: the first rule giving a level
        keeps it, an exclusive rule stops the ones after it. Lines marked as
        discounted by hand are skipped, unless they are in ``reset_lines``
        (their manual mark is then cleared and levels no rule gives are
        emptied). Free-item lines are created, updated or removed to follow
        the quantities of their lines.
        """
        orders = self.filtered(lambda o: o.id and o.state in ("draft", "sent"))
        if not orders:
            return
        reset_lines = reset_lines or self.env["sale.order.line"]
        # sudo: which rules apply must not depend on who edits the quotation;
        # rules are configuration, readable by every salesperson anyway.
        Rule = self.env["sale.flow.discount.rule"].sudo()
        rules = Rule._flow_get_candidate_rules(orders.company_id)
        all_lines = orders.order_line
        rule_fields = [f"{fname}_rule_id" for fname in FLOW_DISCOUNT_FIELDS]
        if not rules and not any(
            line.flow_is_free_item or any(line[f] for f in rule_fields)
            for line in all_lines
        ):
            if reset_lines:
                reset_lines.with_context(**self._flow_discount_writer_context()).write(
                    {
                        "flow_discount_manual": False,
                        **dict.fromkeys(FLOW_DISCOUNT_FIELDS, 0.0),
                    }
                )
            return
        matching_data = rules._flow_prepare_matching_data()
        all_lines.product_id.categ_id.fetch(["parent_path"])
        writes = defaultdict(lambda: self.env["sale.order.line"])
        pricelist_lines = self.env["sale.order.line"]
        free_wanted = {}
        free_kept = set()
        for order in orders:
            lines = order.order_line.filtered(
                lambda line: (
                    not line.display_type
                    and not line.is_downpayment
                    and not line.flow_is_free_item
                    and line.product_id
                )
            )
            facts = order._flow_get_discount_order_facts(lines)
            fixed_cache = {}
            for line in lines:
                reset = line in reset_lines
                if line.flow_discount_manual and not reset:
                    free_kept.update(
                        (line.id, free.flow_free_rule_id.id)
                        for free in line.flow_free_line_ids
                    )
                    continue
                taken, free = order._flow_match_discount_rules(
                    line, rules, matching_data, facts, fixed_cache
                )
                vals = {}
                for level, fname in enumerate(FLOW_DISCOUNT_FIELDS, start=1):
                    rule_fname = f"{fname}_rule_id"
                    if level in taken:
                        percent, rule = taken[level]
                        vals[fname], vals[rule_fname] = percent, rule.id
                    elif reset or line[rule_fname]:
                        vals[fname], vals[rule_fname] = 0.0, False
                        if level == 1:
                            pricelist_lines |= line
                if reset:
                    vals["flow_discount_manual"] = False
                vals = {
                    key: value
                    for key, value in vals.items()
                    if line._flow_differs(key, value)
                }
                if vals:
                    writes[tuple(sorted(vals.items()))] |= line
                for rule, qty in free:
                    free_wanted[line.id, rule.id] = (line, rule, qty)
        writer = self._flow_discount_writer_context()
        for vals, lines in writes.items():
            lines.with_context(**writer).write(dict(vals))
        if pricelist_lines:
            # Level 1 falls back to the pricelist's discount.
            self.env.add_to_compute(
                pricelist_lines._fields["flow_discount_1"], pricelist_lines
            )
        orders._flow_sync_free_items(free_wanted, free_kept)

    def _flow_discount_writer_context(self):
        return {
            "sale_flow_discount_applying": True,
            self._FLOW_APPROVAL_SKIP_KEY: True,
        }

    def _flow_match_discount_rules(self, line, rules, matching_data, facts, cache):
        """Rules applying to ``line``.

        :return: (``{level: (percent, rule)}``, ``[(rule, free qty)]``)
        """
        self.ensure_one()
        rate = self.currency_rate or 1.0
        line_facts = {
            "product_id": line.product_id.id,
            "categ_path": line.product_id.categ_id.parent_path or "",
            "qty": line.product_uom_qty,
            "amount": line.price_unit * line.product_uom_qty / rate,
        }
        taken, free = {}, []
        for rule in rules:
            if not rule._flow_matches(matching_data[rule.id], facts, line_facts):
                continue
            if rule.effect == "free":
                qty = rule._flow_get_free_qty(line.product_uom_qty)
                if qty > 0:
                    free.append((rule, qty))
            else:
                level = int(rule.level)
                if level in taken:
                    continue  # a rule of higher priority gave this level
                percent = self._flow_get_rule_percent(rule, line, cache)
                if percent <= 0:
                    continue
                taken[level] = (percent, rule)
            if rule.exclusive:
                break
        return taken, free

    def _flow_get_rule_percent(self, rule, line, cache):
        """Percentage a rule gives to ``line``; an amount off per unit is
        converted into a percentage of the unit price (rounded to the
        "Discount" precision, capped at 100 %)."""
        if rule.effect == "percent":
            return rule.discount_percent
        if rule.id not in cache:
            cache[rule.id] = rule.currency_id._convert(
                rule.fixed_amount,
                self.currency_id,
                self.company_id,
                self.date_order or fields.Date.context_today(self),
            )
        if line.price_unit <= 0:
            return 0.0
        digits = self.env["decimal.precision"].precision_get("Discount")
        return min(round(cache[rule.id] / line.price_unit * 100.0, digits), 100.0)

    def _flow_sync_free_items(self, wanted, kept):
        """Create, update and remove free-item lines.

        :param wanted: ``{(source line id, rule id): (line, rule, qty)}``
        :param kept: keys of free items to leave as they are (their line is
            discounted by hand)
        """
        Line = self.env["sale.order.line"]
        existing = {
            (free.flow_free_source_line_id.id, free.flow_free_rule_id.id): free
            for free in self.order_line
            if free.flow_is_free_item
        }
        writer = self._flow_discount_writer_context()
        to_unlink = Line.browse(
            [
                free.id
                for key, free in existing.items()
                if key not in wanted and key not in kept
            ]
        )
        updates = defaultdict(lambda: Line)
        to_create = []
        for key, (line, rule, qty) in wanted.items():
            free = existing.get(key)
            if free:
                # Only what changed: a new product recomputes the whole line.
                values = {}
                if free.product_id != rule.free_product_id:
                    values["product_id"] = rule.free_product_id.id
                if free.product_uom_qty != qty:
                    values["product_uom_qty"] = qty
                if values:
                    updates[tuple(sorted(values.items()))] |= free
            else:
                to_create.append(self._flow_prepare_free_item_values(line, rule, qty))
        for values, lines in updates.items():
            lines.with_context(**writer).write(dict(values))
        if to_create:
            Line.with_context(**writer).create(to_create)
        if to_unlink:
            to_unlink.with_context(**writer).unlink()

    def _flow_prepare_free_item_values(self, line, rule, qty):
        """Values of the free-item line ``rule`` adds for ``line`` (hook)."""
        return {
            "order_id": line.order_id.id,
            "sequence": line.sequence,
            "product_id": rule.free_product_id.id,
            "product_uom_qty": qty,
            "flow_discount_1": 100.0,
            "flow_discount_2": 0.0,
            "flow_discount_3": 0.0,
            "flow_discount_manual": False,
            "flow_is_free_item": True,
            "flow_free_rule_id": rule.id,
            "flow_free_source_line_id": line.id,
        }

    # ------------------------------------------------------------------
    # ---- agreements (issue 4) ----
    # ------------------------------------------------------------------
    flow_agreement_id = fields.Many2one(
        "sale.flow.agreement",
        string="Agreement",
        index="btree_not_null",
        tracking=True,
        check_company=True,
        domain="[('state', '=', 'active'), ('commercial_partner_id', '=', "
        "flow_commercial_partner_id), ('company_id', '=', company_id)]",
        help="Framework agreement the order is placed against: its prices, "
        "discounts and terms apply. Empty: each product finds the customer's "
        "active agreement covering it, if any.",
    )
    flow_commercial_partner_id = fields.Many2one(
        related="partner_id.commercial_partner_id", string="Customer Entity"
    )

    @api.onchange("flow_agreement_id")
    def _onchange_flow_agreement_id(self):
        agreement = self.flow_agreement_id
        if not agreement:
            return
        for fname, value in self._flow_get_agreement_terms(agreement).items():
            self[fname] = value
        for line in self.order_line:
            line._onchange_flow_agreement_line_id()

    def _flow_get_agreement_terms(self, agreement):
        """Order values an agreement sets (hook)."""
        values = {}
        if agreement.pricelist_id:
            values["pricelist_id"] = agreement.pricelist_id
        if agreement.payment_term_id:
            values["payment_term_id"] = agreement.payment_term_id
        if agreement.partner_shipping_id:
            values["partner_shipping_id"] = agreement.partner_shipping_id
        if agreement.incoterm_id and "incoterm" in self._fields:
            values["incoterm"] = agreement.incoterm_id
        return values

    def action_confirm(self):
        # Lock the enforced agreement lines and check again what remains, so
        # two confirmations at once cannot overrun a maximum together.
        self._flow_lock_agreement_lines()
        self._flow_check_agreement_limits()
        res = super().action_confirm()
        self._flow_note_agreement_overruns()
        return res

    def _flow_agreement_requests(self, lines=None):
        """What the order lines ask of each agreement line, in its unit
        (product unit for quantity lines, untaxed amount for value lines):
        ``{agreement line: amount}``."""
        requests = {}
        for line in lines if lines is not None else self.order_line:
            # sudo: the agreement's limits hold whoever sells to the customer
            agreement_line = line.flow_agreement_line_id.sudo()
            if not agreement_line or line.display_type:
                continue
            requests.setdefault(agreement_line, 0.0)
            if agreement_line.commitment_type == "quantity":
                requests[agreement_line] += line.product_uom._compute_quantity(
                    line.product_uom_qty, line.product_id.uom_id
                )
            else:
                requests[agreement_line] += line.price_subtotal
        return requests

    def _flow_agreement_blockers(self, requests=None):
        """Why the order cannot be confirmed under its agreements."""
        self.ensure_one()
        requests = self._flow_agreement_requests() if requests is None else requests
        if not requests:
            return []
        blockers = []
        agreement_lines = self.env["sale.flow.agreement.line"].sudo().concat(*requests)
        consumption = agreement_lines._flow_get_consumption()
        day = fields.Date.context_today(self, self.date_order)
        for agreement_line, request in requests.items():
            agreement = agreement_line.agreement_id
            if agreement.state != "active" or not (
                agreement.date_start <= day <= agreement.date_end
            ):
                blockers.append(
                    _(
                        "Agreement %(name)s is not active on %(date)s: remove it "
                        "from %(order)s.",
                        name=agreement.name,
                        date=day,
                        order=self.name,
                    )
                )
                continue
            try:
                agreement_line._flow_check_calloff_size_amount(request)
            except UserError as error:
                blockers.append(error.args[0])
            remaining = consumption[agreement_line.id]["remaining"]
            if (
                agreement_line.max_enforced
                and float_compare(request, remaining, precision_digits=2) > 0
            ):
                blockers.append(
                    _(
                        "%(line)s: %(order)s asks %(request)s but only "
                        "%(remaining)s remains under agreement %(name)s, whose "
                        "maximum is enforced.",
                        line=agreement_line._flow_label(),
                        order=self.name,
                        request=round(request, 2),
                        remaining=round(remaining, 2),
                        name=agreement.name,
                    )
                )
        return blockers

    def _flow_lock_agreement_lines(self):
        # sudo: the agreement's limits hold whoever sells to the customer
        lines = self.order_line.flow_agreement_line_id.sudo().filtered("max_enforced")
        if not lines:
            return
        # what remains of the lines is checked after this, under the lock
        lock_rows_for_retry(self.env.cr, "sale_flow_agreement_line", lines.ids)

    def _flow_check_agreement_limits(self):
        """All the orders confirmed together, against what remains."""
        requests = self._flow_agreement_requests(
            self.filtered(lambda o: o.state in ("draft", "sent")).order_line
        )
        enforced = {
            line: request for line, request in requests.items() if line.max_enforced
        }
        if not enforced or len(self) == 1:
            return  # a single order is checked by its confirmation blockers
        consumption = (
            self.env["sale.flow.agreement.line"]
            .concat(*enforced)
            ._flow_get_consumption()
        )
        for line, request in enforced.items():
            remaining = consumption[line.id]["remaining"]
            if float_compare(request, remaining, precision_digits=2) > 0:
                raise UserError(
                    _(
                        "%(line)s: these orders ask %(request)s together but only "
                        "%(remaining)s remains under agreement %(name)s.",
                        line=line._flow_label(),
                        request=round(request, 2),
                        remaining=round(remaining, 2),
                        name=line.agreement_id.name,
                    )
                )

    def _flow_note_agreement_overruns(self):
        """Note on the order when it goes beyond what remained of a line
        whose maximum is not enforced; check the consumption threshold."""
        # sudo: the agreement's limits and activities hold whoever sells
        lines = self.order_line.flow_agreement_line_id.sudo()
        if not lines:
            return
        lines.agreement_id._flow_invalidate_consumption()
        consumption = lines._flow_get_consumption()
        for order in self:
            over = [
                line
                for line in order.order_line.flow_agreement_line_id.sudo()
                if float_compare(
                    consumption[line.id]["remaining"], 0.0, precision_digits=2
                )
                < 0
            ]
            if over:
                order.message_post(
                    body=_(
                        "Beyond the agreement: %(lines)s now exceed what was "
                        "committed.",
                        lines=", ".join(line.display_name for line in over),
                    ),
                    subtype_xmlid="mail.mt_note",
                )
        lines.agreement_id._flow_check_threshold()
