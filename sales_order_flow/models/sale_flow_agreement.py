import math
from datetime import timedelta

from markupsafe import Markup

from odoo import Command, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import float_compare, html_sanitize

from ..utils import lock_keys_for_retry, run_isolated, schedule_failure_activity

# What an order line was confirmed with, kept when its agreement is amended.
ORDER_LINE_PRICE_FIELDS = (
    "price_unit",
    "technical_price_unit",
    "discount",
    "flow_discount_1",
    "flow_discount_2",
    "flow_discount_3",
    "flow_discount_manual",
)
DISCOUNT_LEVELS = ("flow_discount_1", "flow_discount_2", "flow_discount_3")


class SaleFlowAgreement(models.Model):
    """Framework agreement with a customer: agreed products, quantities or
    values over a period, prices, discounts and terms.

    Orders are placed against it (``sale.order.flow_agreement_id`` and
    ``sale.order.line.flow_agreement_line_id``); its consumption is computed
    from them in a constant number of queries (see
    ``sale.flow.agreement.line._flow_get_consumption``).
    """

    _name = "sale.flow.agreement"
    _description = "Sales Agreement"
    _inherit = ["portal.mixin", "mail.thread", "mail.activity.mixin"]
    _order = "date_start desc, id desc"
    _check_company_auto = True

    name = fields.Char(
        string="Number",
        required=True,
        readonly=True,
        copy=False,
        default=lambda self: self.env._("New"),
        index="trigram",
    )
    title = fields.Char(help="Short description of the agreement.")
    state = fields.Selection(
        [
            ("draft", "Draft"),
            ("active", "Active"),
            ("expired", "Expired"),
            ("closed", "Closed"),
            ("cancelled", "Cancelled"),
        ],
        default="draft",
        required=True,
        copy=False,
        readonly=True,
        index=True,
        tracking=True,
        help="Only active agreements can be ordered against. Agreements expire "
        "by the daily check once their end date has passed.",
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        required=True,
        tracking=True,
        index=True,
        check_company=True,
        help="Every contact of this customer's company orders under the agreement.",
    )
    commercial_partner_id = fields.Many2one(
        related="partner_id.commercial_partner_id",
        store=True,
        index=True,
        string="Customer Entity",
    )
    user_id = fields.Many2one(
        "res.users",
        string="Salesperson",
        default=lambda self: self.env.user,
        tracking=True,
        index=True,
        help="Receives the call-off requests and the activities of the agreement.",
    )
    team_id = fields.Many2one("crm.team", string="Sales Team", check_company=True)
    company_id = fields.Many2one(
        "res.company",
        required=True,
        index=True,
        default=lambda self: self.env.company,
    )
    currency_id = fields.Many2one(
        "res.currency",
        required=True,
        default=lambda self: self.env.company.currency_id,
        help="Currency of the agreed prices and values.",
    )
    date_start = fields.Date(
        string="Valid From",
        required=True,
        default=fields.Date.context_today,
        tracking=True,
    )
    date_end = fields.Date(string="Valid Until", required=True, tracking=True)
    pricelist_id = fields.Many2one(
        "product.pricelist",
        check_company=True,
        help="Pricelist of the orders placed under the agreement (for products "
        "without an agreed price).",
    )
    payment_term_id = fields.Many2one(
        "account.payment.term", string="Payment Terms", check_company=True
    )
    partner_shipping_id = fields.Many2one(
        "res.partner",
        string="Delivery Address",
        check_company=True,
        help="Delivery address of the orders placed under the agreement.",
    )
    lead_time = fields.Integer(
        string="Lead Time (days)",
        help="Days between a call-off and its delivery, used for the delivery "
        "date of call-offs.",
    )
    incoterm_id = fields.Many2one("account.incoterms")
    terms = fields.Html(string="Terms and Conditions", sanitize=True)
    exclusive = fields.Boolean(
        help="Only one exclusive agreement may cover a product of a customer at "
        "a time.",
    )
    amount_committed = fields.Monetary(
        string="Committed Value",
        tracking=True,
        help="Total value the customer commits to buy over the agreement, "
        "whatever the products (optional).",
    )
    rebate_program_id = fields.Many2one(
        "sale.flow.rebate.program",
        check_company=True,
        help="Rebate program the customer earns under this agreement.",
    )
    allow_confirmed_calloff = fields.Boolean(
        string="Portal Call-offs Confirmed",
        help="Call-offs the customer requests on the portal become confirmed "
        "orders instead of quotations for the salesperson.",
    )
    threshold_percent = fields.Float(
        string="Alert Threshold (%)",
        default=80.0,
        help="The salesperson gets an activity once a line or the agreement "
        "uses this share of its commitment.",
    )
    expiry_notice_days = fields.Integer(
        string="Expiry Notice (days)",
        default=30,
        help="The salesperson gets an activity this many days before the end.",
    )
    flow_threshold_notified = fields.Boolean(copy=False, readonly=True)
    flow_expiry_notified = fields.Boolean(copy=False, readonly=True)
    line_ids = fields.One2many(
        "sale.flow.agreement.line", "agreement_id", string="Lines", copy=True
    )
    order_line_ids = fields.One2many(
        "sale.order.line", "flow_agreement_id", string="Order Lines", readonly=True
    )
    order_count = fields.Integer(compute="_compute_order_count", string="Orders")
    invoice_count = fields.Integer(compute="_compute_order_count", string="Invoices")
    flow_commission_rule_count = fields.Integer(
        string="Commission Rules",
        compute="_compute_flow_commission_rule_count",
        groups="sales_team.group_sale_salesman",
        help="Commission rules that apply to what is sold under this agreement.",
    )
    # Revisions
    version = fields.Integer(default=1, copy=False, readonly=True)
    previous_version_id = fields.Many2one(
        "sale.flow.agreement", copy=False, readonly=True, index="btree_not_null"
    )
    next_version_id = fields.Many2one(
        "sale.flow.agreement",
        string="Replaced By",
        copy=False,
        readonly=True,
        index="btree_not_null",
    )
    amendment_note = fields.Html(
        string="What Changed",
        copy=False,
        readonly=True,
        help="Differences with the previous version, recorded when amending.",
    )
    # Consumption (agreement total, in the agreement's currency)
    amount_total_committed = fields.Monetary(
        string="Total Commitment",
        compute="_compute_consumption",
        help="Committed value, else the sum of the lines' commitments valued at "
        "their agreed net prices.",
    )
    amount_ordered = fields.Monetary(compute="_compute_consumption", string="Ordered")
    amount_delivered = fields.Monetary(
        compute="_compute_consumption", string="Delivered"
    )
    amount_invoiced = fields.Monetary(compute="_compute_consumption", string="Invoiced")
    amount_consumed = fields.Monetary(
        compute="_compute_consumption",
        string="Used",
        help="Ordered, minus what returns and credit notes gave back.",
    )
    amount_remaining = fields.Monetary(
        compute="_compute_consumption", string="Remaining"
    )
    consumption_percent = fields.Float(
        compute="_compute_consumption", string="Used (%)"
    )

    # Dates and the committed value are checked in Python (constraints below):
    # their messages name the agreement and the dates.
    _sql_constraints = [
        (
            "threshold_range",
            "CHECK(threshold_percent >= 0 AND threshold_percent <= 100)",
            "The alert threshold is a percentage between 0 and 100.",
        ),
    ]

    # ------------------------------------------------------------------
    # Compute methods
    # ------------------------------------------------------------------
    def _compute_access_url(self):  # pylint: disable=missing-return
        super()._compute_access_url()
        for agreement in self:
            agreement.access_url = f"/my/agreements/{agreement.id}"

    def _compute_order_count(self):
        # sudo: counts of the documents placed under the agreement, whoever
        # sold them (smart buttons, one agreement at a time in the form)
        for agreement in self:
            lines = agreement.sudo().order_line_ids
            agreement.order_count = len(lines.order_id)
            agreement.invoice_count = len(
                lines.invoice_lines.move_id.filtered(
                    lambda m: m.move_type in ("out_invoice", "out_refund")
                )
            )

    @api.depends("line_ids", "amount_committed")
    def _compute_consumption(self):
        consumption = self.line_ids._flow_get_consumption()
        for agreement in self:
            totals = dict.fromkeys(
                ("committed", "ordered", "delivered", "invoiced", "consumed"), 0.0
            )
            for line in agreement.line_ids:
                values = consumption.get(line.id, {})
                totals["committed"] += line._flow_get_committed_value()
                for key in ("ordered", "delivered", "invoiced", "consumed"):
                    totals[key] += values.get(f"amount_{key}", 0.0)
            committed = agreement.amount_committed or totals["committed"]
            agreement.amount_total_committed = committed
            agreement.amount_ordered = totals["ordered"]
            agreement.amount_delivered = totals["delivered"]
            agreement.amount_invoiced = totals["invoiced"]
            agreement.amount_consumed = totals["consumed"]
            agreement.amount_remaining = committed - totals["consumed"]
            agreement.consumption_percent = (
                totals["consumed"] / committed * 100.0 if committed else 0.0
            )

    # ------------------------------------------------------------------
    # Constraints
    # ------------------------------------------------------------------
    @api.constrains("date_start", "date_end")
    def _check_dates(self):
        for agreement in self:
            if agreement.date_end < agreement.date_start:
                raise ValidationError(
                    self.env._(
                        "Agreement %(name)s ends (%(end)s) before it starts "
                        "(%(start)s).",
                        name=agreement.name,
                        end=agreement.date_end,
                        start=agreement.date_start,
                    )
                )

    @api.constrains("amount_committed")
    def _check_amount_committed(self):
        for agreement in self:
            if agreement.amount_committed < 0:
                raise ValidationError(
                    self.env._(
                        "The committed value of agreement %(name)s cannot be negative.",
                        name=agreement.name,
                    )
                )

    @api.constrains(
        "exclusive", "state", "date_start", "date_end", "partner_id", "line_ids"
    )
    def _check_exclusive(self):
        self._flow_check_exclusive()

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("name", self.env._("New")) == self.env._("New"):
                vals["name"] = self.env["ir.sequence"].with_company(
                    vals.get("company_id") or self.env.company.id
                ).next_by_code("sale.flow.agreement") or self.env._("New")
        return super().create(vals_list)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_used(self):
        for agreement in self:
            if agreement.state not in ("draft", "cancelled"):
                raise UserError(
                    self.env._(
                        "Agreement %(name)s has been active: close or cancel it "
                        "instead of deleting it.",
                        name=agreement.name,
                    )
                )

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_activate(self):
        for agreement in self:
            if agreement.state != "draft":
                raise UserError(
                    self.env._(
                        "Only draft agreements can be activated (%(name)s).",
                        name=agreement.name,
                    )
                )
            if not agreement.line_ids and not agreement.amount_committed:
                raise UserError(
                    self.env._(
                        "Agreement %(name)s commits nothing: add lines or a "
                        "committed value first.",
                        name=agreement.name,
                    )
                )
        self.write({"state": "active"})
        return True

    def action_close(self):
        self.filtered(lambda a: a.state in ("active", "expired")).write(
            {"state": "closed"}
        )
        return True

    def action_cancel(self):
        for agreement in self:
            if agreement.order_line_ids.filtered(lambda line: line.state == "sale"):
                raise UserError(
                    self.env._(
                        "Agreement %(name)s has confirmed orders: close it instead "
                        "of cancelling it.",
                        name=agreement.name,
                    )
                )
        self.write({"state": "cancelled"})
        return True

    def action_draft(self):
        self.filtered(lambda a: a.state == "cancelled").write({"state": "draft"})
        return True

    def action_open_calloff(self):
        self.ensure_one()
        if self.state != "active":
            raise UserError(
                self.env._("Call-offs are placed on active agreements only.")
            )
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Call-off"),
            "res_model": "sale.flow.agreement.calloff",
            "view_mode": "form",
            "target": "new",
            "context": {"default_agreement_id": self.id},
        }

    def _compute_flow_commission_rule_count(self):
        counts = dict(
            self.env["sale.flow.commission.rule"]._read_group(
                [("agreement_id", "in", self.ids)], ["agreement_id"], ["__count"]
            )
        )
        for agreement in self:
            agreement.flow_commission_rule_count = counts.get(agreement, 0)

    def action_view_commission_rules(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Commission Rules"),
            "res_model": "sale.flow.commission.rule",
            "view_mode": "list,form",
            "domain": [("agreement_id", "=", self.id)],
            "context": {"default_agreement_id": self.id},
        }

    def action_view_orders(self):
        self.ensure_one()
        orders = self.order_line_ids.order_id
        action = self.env["ir.actions.act_window"]._for_xml_id("sale.action_orders")
        action.update(
            domain=[("id", "in", orders.ids)],
            context={"create": False},
        )
        return action

    def action_view_invoices(self):
        self.ensure_one()
        moves = self.order_line_ids.invoice_lines.move_id.filtered(
            lambda m: m.move_type in ("out_invoice", "out_refund")
        )
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account.action_move_out_invoice_type"
        )
        action.update(domain=[("id", "in", moves.ids)], context={"create": False})
        return action

    def action_amend(self):
        """Create the next version of an active agreement, to edit; the
        current one is closed when the new one is activated."""
        self.ensure_one()
        if self.state != "active":
            raise UserError(self.env._("Only active agreements can be amended."))
        if self.next_version_id and self.next_version_id.state == "draft":
            new = self.next_version_id
        else:
            base = self.name.split("/v")[0] if "/v" in self.name else self.name
            new = self.copy(
                {
                    "name": f"{base}/v{self.version + 1}",
                    "version": self.version + 1,
                    "previous_version_id": self.id,
                    "date_start": max(self.date_start, fields.Date.context_today(self)),
                }
            )
            self.next_version_id = new
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": new.id,
            "view_mode": "form",
        }

    # ------------------------------------------------------------------
    # Business methods
    # ------------------------------------------------------------------
    def write(self, vals):
        res = super().write(vals)
        if vals.get("state") == "active":
            self._flow_on_activated()
        return res

    def _flow_on_activated(self):
        """A new version replaces the previous one: order lines move to it,
        the previous is closed and the changes are recorded."""
        for agreement in self.filtered("previous_version_id"):
            previous = agreement.previous_version_id
            agreement.amendment_note = agreement._flow_render_changes(
                agreement._flow_get_changes(previous)
            )
            agreement._flow_take_over_order_lines(previous)
            agreement._flow_take_over_commission_rules(previous)
            if previous.state == "active":
                previous.state = "closed"
            previous.message_post(
                body=self.env._(
                    "Replaced by version %(version)s (%(name)s).",
                    version=agreement.version,
                    name=agreement.name,
                )
            )
            agreement.message_post(body=agreement.amendment_note)

    def _flow_take_over_order_lines(self, previous):
        """Order lines of ``previous`` move to the matching lines of this
        version, so what was used stays used after an amendment.

        Confirmed orders keep the prices and discounts they were confirmed
        with (core recomputes the price of any uninvoiced line whose agreement
        line changes: the price fields of those lines are protected); only
        their consumption moves. Quotations follow the new version's price
        and discounts, unless they were changed by hand."""
        self.ensure_one()
        Line = self.env["sale.flow.agreement.line"]
        key = Line._flow_change_key
        new_lines = {key(line): line for line in self.line_ids}
        # sudo: order lines of every salesperson move with the agreement
        order_lines = (
            self.env["sale.order.line"]
            .sudo()
            .search([("flow_agreement_line_id", "in", previous.line_ids.ids)])
        )
        if not order_lines:
            return
        SaleLine = order_lines.browse()
        kept_fields = [
            SaleLine._fields[fname]
            for fname in ORDER_LINE_PRICE_FIELDS
            if fname in SaleLine._fields
        ]
        confirmed = order_lines.filtered(
            lambda line: line.state not in ("draft", "sent")
        )
        with self.env.protecting(kept_fields, confirmed):
            for old_line, lines in order_lines.grouped(
                "flow_agreement_line_id"
            ).items():
                new_line = new_lines.get(key(old_line))
                if not new_line:
                    continue
                old_pricing = old_line._flow_get_order_line_pricing()
                lines.write({"flow_agreement_line_id": new_line.id})
                for line in lines - confirmed:
                    pricing = new_line._flow_get_order_line_pricing(line)
                    pricing.pop("price_unit", None)
                    updates = {
                        fname: value
                        for fname, value in pricing.items()
                        if fname in DISCOUNT_LEVELS
                        and not line._flow_differs(fname, old_pricing.get(fname, 0.0))
                        and line._flow_differs(fname, value)
                    }
                    if updates:
                        line.write(updates)
        # The orders name the new version too, without their lines being
        # recomputed.
        orders = order_lines.order_id.filtered(
            lambda o: o.flow_agreement_id == previous
        )
        moved = order_lines.filtered(
            lambda line: line.flow_agreement_line_id in self.line_ids
        )
        with self.env.protecting(
            [*kept_fields, SaleLine._fields["flow_agreement_line_id"]], moved
        ):
            orders.write({"flow_agreement_id": self.id})

    def _flow_take_over_commission_rules(self, previous):
        """Commission rules naming ``previous`` name this version: what is
        sold under the amended agreement keeps its commission terms."""
        self.ensure_one()
        # sudo: whoever activates the new version need not manage commissions
        rules = (
            self.env["sale.flow.commission.rule"]
            .sudo()
            .with_context(active_test=False)
            .search([("agreement_id", "=", previous.id)])
        )
        rules.write({"agreement_id": self.id})

    def _flow_get_changes(self, previous):
        """What differs from ``previous``: a list of translated sentences."""
        changes = []
        key = self.env["sale.flow.agreement.line"]._flow_change_key
        old = {key(line): line for line in previous.line_ids}
        new = {key(line): line for line in self.line_ids}
        for k, line in new.items():
            if k not in old:
                changes.append(
                    self.env._("Line added: %(line)s", line=line._flow_describe())
                )
                continue
            for fname in line._flow_compared_fields():
                if line[fname] != old[k][fname]:
                    changes.append(
                        self.env._(
                            "%(line)s: %(field)s %(old)s → %(new)s",
                            line=line._flow_label(),
                            field=line._fields[fname].get_description(self.env)[
                                "string"
                            ],
                            old=old[k][fname],
                            new=line[fname],
                        )
                    )
        for k, line in old.items():
            if k not in new:
                changes.append(
                    self.env._("Line removed: %(line)s", line=line._flow_describe())
                )
        for fname in (
            "date_end",
            "amount_committed",
            "payment_term_id",
            "pricelist_id",
            "incoterm_id",
            "exclusive",
        ):
            if self[fname] != previous[fname]:
                changes.append(
                    self.env._(
                        "%(field)s: %(old)s → %(new)s",
                        field=self._fields[fname].get_description(self.env)["string"],
                        old=previous[fname].display_name
                        if isinstance(previous[fname], models.BaseModel)
                        else previous[fname],
                        new=self[fname].display_name
                        if isinstance(self[fname], models.BaseModel)
                        else self[fname],
                    )
                )
        if html_sanitize(self.terms or "") != html_sanitize(previous.terms or ""):
            changes.append(self.env._("Terms and conditions changed."))
        return changes

    def _flow_render_changes(self, changes):
        if not changes:
            return Markup("<p>%s</p>") % self.env._(
                "No change from the previous version."
            )
        return Markup("<p>%s</p><ul>%s</ul>") % (
            self.env._(
                "Changes from version %(version)s:",
                version=self.previous_version_id.version,
            ),
            Markup("").join(Markup("<li>%s</li>") % change for change in changes),
        )

    def _flow_check_exclusive(self):
        """Refuse two exclusive agreements covering the same product of the
        same customer over overlapping dates. The customer's agreements are
        locked first, so two transactions cannot both pass the check."""
        agreements = self.filtered(
            lambda a: a.exclusive and a.state in ("draft", "active")
        )
        if not agreements:
            return
        partner_ids = tuple(agreements.commercial_partner_id.ids)
        self.env.flush_all()
        # A transaction that started before this one commits cannot see this
        # agreement, but fails on the customer's lock and is retried, then sees
        # it. The addon's own lock row, not the customer's: other writes on the
        # customer (its phone, its orders) are not blocked.
        lock_keys_for_retry(self.env.cr, "exclusive_agreements", partner_ids)
        others = (
            self.search(
                [
                    ("id", "not in", agreements.ids),
                    ("exclusive", "=", True),
                    ("state", "in", ("draft", "active")),
                    ("commercial_partner_id", "in", partner_ids),
                ]
            )
            | agreements
        )
        for agreement in agreements:
            for other in others:
                if (
                    other == agreement
                    or other.commercial_partner_id != agreement.commercial_partner_id
                    or other.date_start > agreement.date_end
                    or other.date_end < agreement.date_start
                    or other == agreement.previous_version_id
                    or other.previous_version_id == agreement
                ):
                    continue
                if agreement.line_ids._flow_overlaps(other.line_ids):
                    raise ValidationError(
                        self.env._(
                            "Agreements %(one)s and %(other)s are both exclusive "
                            "for %(customer)s over overlapping dates and cover the "
                            "same products.",
                            one=agreement.name,
                            other=other.name,
                            customer=agreement.commercial_partner_id.display_name,
                        )
                    )

    @api.model
    def _flow_get_candidate_lines(self, partners):
        """Lines of the active agreements of ``partners``' commercial
        entities, best first (exclusive, then the most recent start): one
        search for a whole batch of orders.

        sudo: the customer's agreed prices apply whoever sells to it, even a
        salesperson who cannot open the agreement.
        """
        commercials = partners.commercial_partner_id
        if not commercials:
            return self.env["sale.flow.agreement.line"].sudo()
        lines = (
            self.env["sale.flow.agreement.line"]
            .sudo()
            .search(
                [
                    ("agreement_id.commercial_partner_id", "in", commercials.ids),
                    ("agreement_id.state", "=", "active"),
                ]
            )
        )
        return lines.sorted(
            lambda line: (
                not line.agreement_id.exclusive,
                -line.agreement_id.date_start.toordinal(),
                line.agreement_id.id,
                line.sequence,
                line.id,
            )
        )

    @api.model
    def _flow_find_lines(
        self, partner, products, date=None, company=None, candidates=None
    ):
        """Agreement lines of the customer's active agreements covering
        ``products`` at ``date``: ``{product id: agreement line}``.

        An agreement chosen on the order is preferred by the caller; here
        exclusive agreements come first, then the most recent start.
        ``candidates``: from ``_flow_get_candidate_lines`` (searched if not
        given).
        """
        date = date or fields.Date.context_today(self)
        commercial = partner.commercial_partner_id
        if candidates is None:
            candidates = self._flow_get_candidate_lines(partner)
        lines = candidates.filtered(
            lambda line: (
                line.agreement_id.commercial_partner_id == commercial
                and line.agreement_id.date_start <= date <= line.agreement_id.date_end
                and (not company or line.agreement_id.company_id == company)
            )
        )
        result = {}
        for product in products:
            for line in lines:
                if line._flow_covers(product):
                    result[product.id] = line
                    break
        return result

    def _flow_prepare_order_values(self, lines_values, date=None, partner=None):
        """Values of an order placed under the agreement (hook).

        :param lines_values: list of (agreement line, quantity or amount)
        """
        self.ensure_one()
        partner = partner or self.partner_id
        values = {
            "partner_id": partner.id,
            "company_id": self.company_id.id,
            "flow_agreement_id": self.id,
            "user_id": self.user_id.id,
            "team_id": self.team_id.id or False,
            "origin": self.name,
            "order_line": [],
        }
        if self.pricelist_id:
            values["pricelist_id"] = self.pricelist_id.id
        if self.payment_term_id:
            values["payment_term_id"] = self.payment_term_id.id
        if self.partner_shipping_id:
            values["partner_shipping_id"] = self.partner_shipping_id.id
        if date:
            values["commitment_date"] = fields.Datetime.to_datetime(date)
        elif self.lead_time:
            values["commitment_date"] = fields.Datetime.now() + timedelta(
                days=self.lead_time
            )
        if self.incoterm_id and "incoterm" in self.env["sale.order"]._fields:
            values["incoterm"] = self.incoterm_id.id
        for line, qty in lines_values:
            values["order_line"].append(
                Command.create(line._flow_prepare_order_line_values(qty))
            )
        return values

    def _flow_check_calloff(self, lines_values):
        """Refuse a call-off outside min/max per call-off or beyond what
        remains of an enforced line (translated UserError)."""
        self.ensure_one()
        if self.state != "active":
            raise UserError(
                self.env._("Agreement %(name)s is not active.", name=self.name)
            )
        for _line, qty in lines_values:
            if (
                not math.isfinite(qty)
                or float_compare(qty, 0.0, precision_digits=6) <= 0
            ):
                raise UserError(
                    self.env._("Call-off quantities must be positive numbers.")
                )
        consumption = self.line_ids._flow_get_consumption()
        for line, qty in lines_values:
            line._flow_check_calloff_size(qty)
            if line.max_enforced:
                remaining = consumption.get(line.id, {}).get(
                    "remaining", line._flow_get_committed()
                )
                if line.commitment_type == "quantity":
                    request = qty
                else:
                    request = qty * line._flow_get_net_price()
                if float_compare(request, remaining, precision_digits=2) > 0:
                    raise UserError(
                        self.env._(
                            "%(line)s: %(request)s requested, only %(remaining)s "
                            "remains under agreement %(name)s.",
                            line=line._flow_label(),
                            request=request,
                            remaining=remaining,
                            name=self.name,
                        )
                    )

    def _flow_create_calloff(
        self, lines_values, date=None, confirm=False, partner=None, order_values=None
    ):
        """Create (and optionally confirm) the order of a call-off. A refused
        call-off (limits, or a confirmation refused for a missing PO, an
        approval...) raises and leaves no order behind.

        :param order_values: more values of the order (e.g. the customer's PO
            reference given on the portal)
        """
        self.ensure_one()
        self._flow_check_calloff(lines_values)
        values = self._flow_prepare_order_values(
            lines_values, date=date, partner=partner
        )
        values.update(order_values or {})
        with self.env.cr.savepoint():
            order = self.env["sale.order"].create(values)
            if confirm:
                order.action_confirm()
        return order

    # ------------------------------------------------------------------
    # Crons
    # ------------------------------------------------------------------
    _flow_cron_batch_size = 100

    @api.model
    def _cron_flow_expire_agreements(self):
        """Expire agreements past their end date; warn salespeople before
        the end and when consumption reaches the agreement's threshold.

        By batches, each in its own savepoint: a batch that fails is run again
        agreement by agreement, and an agreement that fails gets an activity
        while the others go on."""
        today = fields.Date.context_today(self)
        expired = self.search([("state", "=", "active"), ("date_end", "<", today)])
        run_isolated(
            self.env,
            expired,
            self._flow_expire,
            self._flow_cron_reporter(self.env._("Expiring the agreement failed")),
            label="Agreement expiry",
            batch_size=self._flow_cron_batch_size,
        )
        active = self.search([("state", "=", "active")])
        ending = active.filtered(
            lambda a: (
                not a.flow_expiry_notified
                and a.date_end - timedelta(days=a.expiry_notice_days) <= today
            )
        )
        run_isolated(
            self.env,
            ending,
            self._flow_notify_ending,
            self._flow_cron_reporter(
                self.env._("The end-of-agreement reminder failed")
            ),
            label="Agreement end reminders",
            batch_size=self._flow_cron_batch_size,
        )
        run_isolated(
            self.env,
            active,
            lambda agreements: agreements._flow_check_threshold(),
            self._flow_cron_reporter(
                self.env._("Checking the agreement's consumption failed")
            ),
            label="Agreement thresholds",
            batch_size=self._flow_cron_batch_size,
        )
        return True

    @api.model
    def _flow_expire(self, agreements):
        agreements.write({"state": "expired"})
        agreements._message_log_batch(
            bodies={
                agreement.id: self.env._(
                    "Expired on %(date)s.", date=agreement.date_end
                )
                for agreement in agreements
            }
        )

    @api.model
    def _flow_notify_ending(self, agreements):
        today = fields.Date.context_today(self)
        for agreement in agreements:
            agreement.activity_schedule(
                "mail.mail_activity_data_todo",
                date_deadline=min(agreement.date_end, today + timedelta(days=1)),
                summary=self.env._("Agreement ends soon"),
                note=self.env._(
                    "Agreement %(name)s ends on %(date)s: prepare its renewal.",
                    name=agreement.name,
                    date=agreement.date_end,
                ),
                user_id=agreement.user_id.id or self.env.uid,
            )
        agreements.write({"flow_expiry_notified": True})

    @api.model
    def _flow_cron_reporter(self, what):
        """``on_failure`` of the agreement crons: an activity for the
        agreement's salesperson with ``what`` failed and why."""

        def report(agreement, reason):
            agreement._flow_notify_cron_failure(
                self.env._("%(what)s: %(reason)s", what=what, reason=reason)
            )

        return report

    def _flow_notify_cron_failure(self, note, summary=None):
        self.ensure_one()
        schedule_failure_activity(
            self,
            self.user_id,
            summary or self.env._("Scheduled action failed"),
            note,
        )

    def _flow_check_threshold(self):
        """Activity to the salesperson once the agreement or one of its lines
        uses its threshold (once per agreement)."""
        agreements = self.filtered(
            lambda a: a.state == "active" and not a.flow_threshold_notified
        )
        if not agreements:
            return
        agreements._flow_invalidate_consumption()
        consumption = agreements.line_ids._flow_get_consumption()
        reached = self.browse()
        for agreement in agreements:
            percents = [agreement.consumption_percent] + [
                consumption.get(line.id, {}).get("percent", 0.0)
                for line in agreement.line_ids
            ]
            if max(percents) >= agreement.threshold_percent:
                reached |= agreement
        for agreement in reached:
            agreement.activity_schedule(
                "mail.mail_activity_data_todo",
                summary=self.env._("Agreement consumption threshold reached"),
                note=self.env._(
                    "Agreement %(name)s has used %(percent)s %% or more of a "
                    "commitment.",
                    name=agreement.name,
                    percent=agreement.threshold_percent,
                ),
                user_id=agreement.user_id.id or self.env.uid,
            )
        reached.write({"flow_threshold_notified": True})

    @api.model
    def _cron_flow_schedule_calloffs(self):
        """Draft call-offs for the delivery schedule lines that are due: one
        per agreement and date, each in its own savepoint. A call-off that
        fails, or a scheduled product that cannot be sold any more (archived,
        no longer sold, the line now a category commitment), is left out with
        an activity for the agreement's salesperson; the others are created."""
        today = fields.Date.context_today(self)
        due = self.env["sale.flow.agreement.schedule"].search(
            [
                ("order_id", "=", False),
                ("date", "<=", today + timedelta(days=1)),
                ("line_id.agreement_id.state", "=", "active"),
            ],
            order="date, id",
        )
        by_key = {}
        for schedule in due:
            by_key.setdefault(
                (schedule.line_id.agreement_id, schedule.date),
                self.env["sale.flow.agreement.schedule"],
            )
            by_key[schedule.line_id.agreement_id, schedule.date] |= schedule

        def create_calloffs(batch):
            for agreement, date, schedules in batch:
                agreement._flow_create_scheduled_calloff(schedules, date)

        def report(unit, reason):
            agreement, date, _schedules = unit
            agreement._flow_notify_cron_failure(
                self.env._(
                    "The scheduled call-off of %(date)s was not created: %(reason)s",
                    date=date,
                    reason=reason,
                )
            )

        run_isolated(
            self.env,
            [
                (agreement, date, schedules)
                for (agreement, date), schedules in by_key.items()
            ],
            create_calloffs,
            report,
            label="Scheduled call-offs",
        )
        return True

    def _flow_create_scheduled_calloff(self, schedules, date):
        """The draft call-off of ``schedules`` (due on ``date``), without the
        products that cannot be sold any more (an activity says which)."""
        self.ensure_one()
        unsellable = schedules.filtered(
            lambda s: (
                not s.line_id.product_id
                or not s.line_id.product_id.active
                or not s.line_id.product_id.sale_ok
            )
        )
        if unsellable:
            self._flow_notify_cron_failure(
                self.env._(
                    "Scheduled deliveries of %(date)s not called off: %(lines)s "
                    "cannot be sold any more (archived, not for sale, or the "
                    "line is no longer for a product). Update the schedule.",
                    date=date,
                    lines=", ".join(
                        unsellable.line_id.mapped(lambda line: line._flow_label())
                    ),
                ),
                summary=self.env._("Scheduled call-off skipped"),
            )
        schedules -= unsellable
        if not schedules:
            return self.env["sale.order"]
        order = self.env["sale.order"].create(
            self._flow_prepare_order_values(
                [(s.line_id, s.quantity) for s in schedules], date=date
            )
        )
        schedules.write({"order_id": order.id})
        order.message_post(
            body=self.env._(
                "Draft call-off from the delivery schedule of %(name)s.",
                name=self.name,
            )
        )
        return order

    def _flow_invalidate_consumption(self):
        """Forget the consumption read so far (it has no stored
        dependencies): orders, deliveries or invoices changed it."""
        self.invalidate_recordset(
            [
                "amount_total_committed",
                "amount_ordered",
                "amount_delivered",
                "amount_invoiced",
                "amount_consumed",
                "amount_remaining",
                "consumption_percent",
            ]
        )
        self.line_ids.invalidate_recordset(
            [
                "committed",
                "ordered",
                "delivered",
                "invoiced",
                "consumed",
                "remaining",
                "consumption_percent",
            ]
        )

    def _get_report_base_filename(self):
        self.ensure_one()
        return self.env._("Agreement %(name)s", name=self.name)
