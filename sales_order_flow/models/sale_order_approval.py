"""Internal approval of quotations (sale.flow.approval.rule)."""

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..utils import has_internal_key, lock_rows_for_retry

# Approval fields no user writes: only the approval methods do, under sudo()
# and after their own checks (see _flow_approval_before_write).
FLOW_APPROVAL_PROTECTED_FIELDS = frozenset(
    {"flow_approval_state", "flow_approval_snapshot"}
)


class SaleOrder(models.Model):
    _inherit = "sale.order"

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
    # Set while the order's own create/write runs, so line hooks leave the
    # evaluation to the order (once, after every line is written). Its value is
    # the addon's internal marker, checked by identity: an RPC caller cannot
    # send it (see utils/internal_context.py).
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
            raise UserError(self.env._("Unsupported search on the current approvers."))
        user_ids = self._flow_parse_approver_search_value(value)
        if not user_ids:
            # As Odoo does for "in" an empty list: nothing matches.
            return [("id", "=", False)]
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

    @api.model
    def _flow_parse_approver_search_value(self, value):
        """User ids of a search on the current approvers; anything but user
        ids (a name, False, a dict...) is refused before reaching the database."""

        def is_id(item):
            return isinstance(item, int) and not isinstance(item, bool)

        if is_id(value):
            return [value]
        if isinstance(value, list | tuple) and all(is_id(item) for item in value):
            return list(value)
        raise UserError(
            self.env._(
                "Search the current approvers by user: give user ids, not %(value)s.",
                value=repr(value),
            )
        )

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
        if has_internal_key(self.env, self._FLOW_APPROVAL_SKIP_KEY):
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
                {
                    "order_id": order.id,
                    "rule_id": rule.id,
                    "level": rule.level,
                    # explicit: no default_* of the caller's context applies
                    "state": "to_request",
                    "approved_user_id": False,
                    "rejected_user_id": False,
                }
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
                bodies[order.id] = self.env._(
                    "Approval needed (rules: %(rules)s): request approval before "
                    "sending or confirming.",
                    rules=", ".join(rules.mapped("name")),
                )
            else:
                free |= order
                if was != "not_required":
                    bodies[order.id] = self.env._(
                        "No approval rule applies any longer: approval is not required."
                    )
        # sudo: the approval fields are protected; their values come from the
        # rules evaluated above, not from the user.
        writer = orders.sudo()
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
        self._flow_lock_approval()
        # Rules may have changed since the last edit of the quotation.
        self._flow_evaluate_approval()
        for order in self:
            if order.state not in ("draft", "sent"):
                raise UserError(
                    self.env._(
                        "%(order)s is not a quotation any more: approval cannot be "
                        "requested.",
                        order=order.name,
                    )
                )
            if order.flow_approval_state in ("pending", "approved"):
                raise UserError(
                    self.env._(
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
            # sudo: protected fields; the user may write the order (checked
            # above) and the snapshot is computed here, not given by the user.
            order.sudo().write(
                {
                    "flow_approval_state": "pending",
                    "flow_approval_snapshot": order._flow_get_approval_snapshot(),
                }
            )
            approvals = order._flow_current_approvals()
            order._flow_schedule_approval_activities(approvals)
            order.message_post(
                body=self.env._(
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
        self._flow_lock_approval()
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
                user=self.env.user, feedback=self.env._("Approved")
            )
            body = self.env._(
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
                order._flow_close_approval_activities(
                    feedback=self.env._("Level approved")
                )
                order._flow_schedule_approval_activities(remaining)
                body = self.env._(
                    "%(body)s Next level %(level)s asked to %(users)s.",
                    body=body,
                    level=remaining[:1].level,
                    users=", ".join(remaining.approver_user_ids.mapped("name")),
                )
            else:
                order._flow_close_approval_activities(
                    feedback=self.env._("Order approved")
                )
                # sudo: the approver may not have write access to the
                # salesperson's quotation; only approval fields are written.
                order.sudo().write(
                    {
                        "flow_approval_state": "approved",
                        "flow_approval_snapshot": order._flow_get_approval_snapshot(),
                    }
                )
                body = self.env._("%(body)s The quotation is approved.", body=body)
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
            "name": self.env._("Reject Quotation"),
            "res_model": "sale.flow.approval.reject",
            "view_mode": "form",
            "target": "new",
            "context": {"default_order_id": self.id},
        }

    def _flow_reject(self, reason):
        """Reject the quotation as the current user (called by the wizard)."""
        self.ensure_one()
        if not (reason or "").strip():
            raise UserError(self.env._("Give the reason of the rejection."))
        self._flow_lock_approval()
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
        # sudo: the approver (checked above) may only read the salesperson's
        # quotation; only the approval state and activities are written
        order = self.sudo()
        order.activity_unlink([self._FLOW_APPROVAL_ACTIVITY])
        order.write({"flow_approval_state": "rejected"})
        order.activity_schedule(
            "mail.mail_activity_data_todo",
            summary=self.env._("Quotation rejected"),
            note=self.env._(
                "Rejected by %(user)s: %(reason)s",
                user=self.env.user.name,
                reason=reason,
            ),
            user_id=(self.user_id or self.create_uid).id,
        )
        order.message_post(
            body=self.env._(
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
    def _flow_lock_approval(self):
        """Lock the orders' rows until the transaction ends, so that two
        decisions on one quotation (two approvers of a level at once, a request
        while an approver decides) run one after the other: the second waits,
        then is retried by Odoo on fresh data (see lock_rows_for_retry)."""
        lock_rows_for_retry(self.env.cr, self._table, self.ids)

    def _flow_check_approver(self):
        """Return the current user's approvals of the level waiting for
        approval; raise a UserError naming who can decide otherwise."""
        self.ensure_one()
        if self.flow_approval_state != "pending":
            raise UserError(
                self.env._(
                    "%(order)s is not waiting for approval.",
                    order=self.name,
                )
            )
        current = self._flow_current_approvals()
        mine = current.filtered(lambda a: self.env.user in a.approver_user_ids)
        if not mine:
            raise UserError(
                self.env._(
                    "You cannot decide on %(order)s: level %(level)s waits for "
                    "%(users)s.",
                    order=self.name,
                    level=current[:1].level,
                    users=", ".join(current.approver_user_ids.mapped("name"))
                    or self.env._("no active approver (check the approval rules)"),
                )
            )
        return mine

    def _flow_schedule_approval_activities(self, approvals):
        """One approval activity per approver of ``approvals``."""
        self.ensure_one()
        note = self.env._(
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
                summary=self.env._("Approve %(order)s", order=self.name),
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
        cannot be sent, confirmed, signed or paid.

        The rules are evaluated again against the current lines first: the
        stored state is never trusted on its own.
        """
        self.ensure_one()
        if self.state not in ("draft", "sent"):
            return []
        # sudo: the outcome depends on the rules and the lines only, not on who
        # looks (a portal customer cannot read margins or rules); only the
        # approval fields are written, from the rules.
        self.sudo()._flow_evaluate_approval()
        state = self.flow_approval_state
        if state == "to_request":
            return [
                self.env._(
                    "%(order)s needs approval (%(rules)s): request approval and "
                    "wait for it.",
                    order=self.name,
                    rules=", ".join(self.flow_approval_ids.rule_id.mapped("name")),
                )
            ]
        if state == "pending":
            current = self._flow_current_approvals()
            return [
                self.env._(
                    "%(order)s is waiting for approval from %(users)s.",
                    order=self.name,
                    users=", ".join(current.approver_user_ids.mapped("name")),
                )
            ]
        if state == "rejected":
            return [
                self.env._(
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

    @api.model
    def _flow_approval_clean_context(self):
        """``self`` without context defaults for the protected approval fields
        (a create must not take them from the caller's context)."""
        keys = {f"default_{fname}" for fname in FLOW_APPROVAL_PROTECTED_FIELDS}
        if keys.isdisjoint(self.env.context):
            return self
        context = {k: v for k, v in self.env.context.items() if k not in keys}
        return self.with_env(self.env(context=context))

    def _flow_approval_before_write(self, vals):
        """Approval fields are written by the approval methods only (under
        sudo, after their own checks); a quotation is marked sent or confirmed
        only if the approval rules, evaluated now, allow it."""
        if self.env.su:
            return
        if not FLOW_APPROVAL_PROTECTED_FIELDS.isdisjoint(vals):
            raise UserError(
                self.env._(
                    "The approval state changes through Request Approval, Approve "
                    "and Reject only."
                )
            )
        # "Mark as sent", the send wizard (mark_so_as_sent) and a direct write
        # of the state all end here.
        if vals.get("state") in ("sent", "sale"):
            self.filtered(
                lambda o: o.state in ("draft", "sent")
            )._flow_check_approval_allows_sending()

    def _flow_approval_after_write(self, vals):
        if not self._FLOW_APPROVAL_TRIGGER_FIELDS.isdisjoint(vals) or (
            vals.get("state") == "draft"
        ):
            self._flow_trigger_approval_evaluation()
