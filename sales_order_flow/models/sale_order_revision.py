"""Quotation revisions: S00012-R1, the history and what changed."""

from collections import defaultdict

from markupsafe import Markup

from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import (
    float_compare,
    format_date,
    format_datetime,
    html_sanitize,
)
from odoo.tools.misc import formatLang


class SaleOrder(models.Model):
    _inherit = "sale.order"

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
            body=self.env._(
                "Replaced by revision %(revision)s.",
                revision=new_revision._get_html_link(),
            ),
            subtype_xmlid="mail.mt_note",
        )
        new_revision.message_post(
            body=self.env._(
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
            "name": self.env._("Revisions of %(base)s", base=self.flow_base_name),
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
                    self.env._(
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
                    self.env._(
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
            ("product_uom_qty", self.env._("%(product)s: quantity", product=product)),
            ("price_unit", self.env._("%(product)s: unit price", product=product)),
            ("discount", self.env._("%(product)s: discount", product=product)),
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
            return self.env._(
                "%(quantity)s × %(price)s, discount %(discount)s",
                quantity=self._flow_format_line_value(line, "product_uom_qty"),
                price=self._flow_format_line_value(line, "price_unit"),
                discount=self._flow_format_line_value(line, "discount"),
            )
        return self.env._(
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
            return Markup("<p>%s</p>") % self.env._(
                "Nothing changed since the previous revision."
            )
        kinds = {
            "added": self.env._("Added"),
            "removed": self.env._("Removed"),
            "changed": self.env._("Changed"),
            "term": self.env._("Terms"),
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
            self.env._("Change"),
            self.env._("What"),
            self.env._("Before"),
            self.env._("After"),
        )
        return html_sanitize(
            Markup('<table class="table table-sm o_flow_revision_changes">')
            + Markup("<thead>%s</thead><tbody>%s</tbody></table>") % (header, rows)
        )
