"""Stacked discounts, discount rules, free items and the explained price
of a line."""

from markupsafe import Markup

from odoo import api, fields, models
from odoo.tools import float_compare, float_round, html_sanitize
from odoo.tools.misc import formatLang

from ..utils import has_internal_key, internal_context
from .sale_flow_discount_mixin import FLOW_DISCOUNT_FIELDS


class SaleOrderLine(models.Model):
    _name = "sale.order.line"
    # sale.flow.discount.mixin: stacked discounts
    _inherit = ["sale.order.line", "sale.flow.discount.mixin"]

    # ------------------------------------------------------------------
    # ---- discounts (issue 3) ----
    # ------------------------------------------------------------------
    # Set while the discount rules write lines: no manual marking, no new pass.
    # Internal marker (utils/internal_context.py): RPC callers cannot set it.
    _FLOW_DISCOUNT_APPLYING_KEY = "sale_flow_discount_applying"
    # Line changes that may change which rules apply.
    _FLOW_DISCOUNT_RULE_TRIGGERS = frozenset(
        {
            "product_id",
            "product_uom_qty",
            "product_uom",
            "price_unit",
            "order_id",
            "display_type",
        }
    )

    # One truth for the discount: ``discount`` holds the exact effective
    # discount of the stack, not a 2-digit rounding of it. Core and other
    # modules read ``discount`` directly (amount to invoice, discount
    # allocation, UBL export, loyalty, sale.report's SQL...): routing each of
    # them through ``_flow_get_effective_discount()`` would mean overriding
    # code we do not own, module by module, and any new reader would disagree
    # again by a cent. ``digits=False`` keeps a NUMERIC column (no schema
    # change, no rewrite of existing rows) storing every significant digit;
    # the web client still shows 2 decimals (its default without digits).
    discount = fields.Float(digits=False)

    # Level 1 takes over Odoo's pricelist discount (see _compute_discount).
    # No default: a default would be taken as a given value on create.
    flow_discount_1 = fields.Float(
        default=None,
        compute="_compute_flow_discount_1",
        store=True,
        readonly=False,
        precompute=True,
        help="First cascading discount: the pricelist's discount unless a rule "
        "or the salesperson sets it.",
    )
    flow_discount_manual = fields.Boolean(
        string="Manual Discount",
        copy=True,
        help="The salesperson set the discounts of this line: discount rules "
        "leave it alone until its discounts are reset.",
    )
    flow_discount_1_rule_id = fields.Many2one(
        "sale.flow.discount.rule",
        string="Rule of Discount 1",
        ondelete="set null",
        readonly=True,
    )
    flow_discount_2_rule_id = fields.Many2one(
        "sale.flow.discount.rule",
        string="Rule of Discount 2",
        ondelete="set null",
        readonly=True,
    )
    flow_discount_3_rule_id = fields.Many2one(
        "sale.flow.discount.rule",
        string="Rule of Discount 3",
        ondelete="set null",
        readonly=True,
    )
    flow_discount_rule_ids = fields.Many2many(
        "sale.flow.discount.rule",
        string="Discount Rules",
        compute="_compute_flow_discount_rule_ids",
        help="Rules that gave this line its discounts or its free items.",
    )
    flow_is_free_item = fields.Boolean(
        string="Free Item",
        readonly=True,
        copy=False,
        help="Added by a free-item rule; updated or removed with the line it "
        "comes from.",
    )
    flow_free_rule_id = fields.Many2one(
        "sale.flow.discount.rule",
        string="Free Item Rule",
        readonly=True,
        copy=False,
        ondelete="set null",
    )
    flow_free_source_line_id = fields.Many2one(
        "sale.order.line",
        string="Free With",
        readonly=True,
        copy=False,
        index="btree_not_null",
        ondelete="cascade",
        help="The line whose quantity earns this free item.",
    )
    flow_free_line_ids = fields.One2many(
        "sale.order.line",
        "flow_free_source_line_id",
        string="Free Items",
        readonly=True,
    )
    flow_price_explanation = fields.Html(
        string="Price Explained",
        compute="_compute_flow_price_explanation",
        sanitize=True,
        help="How the net price was reached: list price, pricelist, agreement, "
        "each discount with the rule that gave it.",
    )

    # Quotation lines only (journal items may carry surcharges); values are
    # checked in Python first (_flow_discount_before_create/_write).
    _sql_constraints = [
        (
            "flow_discount_1_range",
            "CHECK(flow_discount_1 >= 0 AND flow_discount_1 <= 100)",
            "A discount must be between 0 and 100 %.",
        ),
        (
            "flow_discount_2_range",
            "CHECK(flow_discount_2 >= 0 AND flow_discount_2 <= 100)",
            "A discount must be between 0 and 100 %.",
        ),
        (
            "flow_discount_3_range",
            "CHECK(flow_discount_3 >= 0 AND flow_discount_3 <= 100)",
            "A discount must be between 0 and 100 %.",
        ),
    ]

    @api.depends("product_id", "product_uom", "product_uom_qty")
    def _compute_flow_discount_1(self):
        discount_enabled = self.env[
            "product.pricelist.item"
        ]._is_discount_feature_enabled()
        for line in self:
            if not line.product_id or line.display_type:
                line.flow_discount_1 = 0.0
                continue
            # Kept: set by hand, by a rule (applied again after the change) or
            # a free item.
            if (
                line.flow_discount_manual
                or line.flow_is_free_item
                or line.flow_discount_1_rule_id
            ):
                continue
            if not (line.order_id.pricelist_id and discount_enabled):
                continue
            if line.combo_item_id:
                line.flow_discount_1 = line._get_linked_line().flow_discount_1
                continue
            line.flow_discount_1 = line._flow_get_pricelist_discount()

    @api.depends(*FLOW_DISCOUNT_FIELDS)
    def _compute_discount(self):  # pylint: disable=missing-return
        # Odoo's pricelist discount now fills level 1 (_compute_flow_discount_1):
        # ``discount`` is the stack's exact effective discount.
        for line in self:
            line.discount = line._flow_get_effective_discount()

    @api.depends(
        "flow_discount_1_rule_id",
        "flow_discount_2_rule_id",
        "flow_discount_3_rule_id",
        "flow_free_line_ids.flow_free_rule_id",
    )
    def _compute_flow_discount_rule_ids(self):
        for line in self:
            line.flow_discount_rule_ids = (
                line.flow_discount_1_rule_id
                | line.flow_discount_2_rule_id
                | line.flow_discount_3_rule_id
                | line.flow_free_line_ids.flow_free_rule_id
            )

    @api.depends(
        "product_id",
        "price_unit",
        "product_uom_qty",
        "price_subtotal",
        "flow_discount_1",
        "flow_discount_2",
        "flow_discount_3",
        "flow_discount_manual",
        "flow_discount_1_rule_id",
        "flow_discount_2_rule_id",
        "flow_discount_3_rule_id",
        "flow_free_rule_id",
    )
    def _compute_flow_price_explanation(self):
        for line in self:
            if line.display_type or not line.product_id:
                line.flow_price_explanation = False
                continue
            line.flow_price_explanation = line._flow_render_price_explanation(
                line._flow_get_price_explanation()
            )

    @api.onchange("discount")
    def _onchange_flow_discount(self):
        # The plain discount column sets level 1, like writing ``discount``.
        # Typing the value it shows (2 decimals) keeps the stack.
        digits = self.env["decimal.precision"].precision_get("Discount")
        for line in self:
            effective = line._flow_get_effective_discount()
            if not float_compare(
                line.discount,
                float_round(effective, precision_digits=digits),
                precision_digits=digits,
            ):
                line.discount = effective
            else:
                line.update(
                    {
                        "flow_discount_1": line.discount,
                        "flow_discount_2": 0.0,
                        "flow_discount_3": 0.0,
                        "flow_discount_manual": True,
                    }
                )

    @api.onchange("flow_discount_2", "flow_discount_3")
    def _onchange_flow_discount_levels(self):
        # Levels 2 and 3 only change by hand or by rules (rules do not use
        # onchanges): a change here is the salesperson's.
        for line in self:
            origin = line._origin
            if (
                line.flow_discount_2 != origin.flow_discount_2
                or line.flow_discount_3 != origin.flow_discount_3
            ):
                line.flow_discount_manual = True

    # ------------------------------------------------------------------
    # CRUD hooks (called from create/write above)
    # ------------------------------------------------------------------
    @api.model
    def _flow_discount_before_create(self, vals_list):
        applying = has_internal_key(self.env, self._FLOW_DISCOUNT_APPLYING_KEY)
        result = []
        for vals in vals_list:
            vals = self._flow_prepare_discount_vals(vals, create=True)
            self._flow_check_discount_values(
                vals.get(fname) or 0.0 for fname in FLOW_DISCOUNT_FIELDS
            )
            if (
                not applying
                and "flow_discount_manual" not in vals
                and any(vals.get(fname) for fname in FLOW_DISCOUNT_FIELDS)
            ):
                # A discount given with the line is the salesperson's.
                vals = dict(vals, flow_discount_manual=True)
            result.append(vals)
        return result

    def _flow_discount_after_create(self, vals_list):
        if has_internal_key(self.env, self._FLOW_DISCOUNT_APPLYING_KEY):
            return
        # A line created with its pricelist's discount as level 1 (the form
        # sends it) was not discounted by hand.
        self._flow_unmark_pricelist_discount(
            self.filtered(
                lambda line: (
                    line.flow_discount_manual
                    and not line.flow_discount_2
                    and not line.flow_discount_3
                )
            )
        )
        if has_internal_key(self.env, self.order_id._FLOW_APPROVAL_SKIP_KEY):
            return  # the order's own create/write applies the rules once
        self.order_id._flow_apply_discount_rules()

    def _flow_discount_before_write(self, vals):
        vals = self._flow_prepare_discount_vals(self._flow_drop_shown_discount(vals))
        self._flow_check_discount_values(
            vals.get(fname) or 0.0 for fname in FLOW_DISCOUNT_FIELDS
        )
        if (
            has_internal_key(self.env, self._FLOW_DISCOUNT_APPLYING_KEY)
            or "flow_discount_manual" in vals
            or not any(fname in vals for fname in FLOW_DISCOUNT_FIELDS)
        ):
            return vals
        if self._FLOW_DISCOUNT_RULE_TRIGGERS.isdisjoint(vals) or any(
            vals.get(fname) for fname in ("flow_discount_2", "flow_discount_3")
        ):
            return dict(vals, flow_discount_manual=True)
        # A new product or quantity comes with the pricelist's discount in
        # level 1: checked after the write (_flow_discount_after_write).
        return dict(vals, flow_discount_manual=True)

    def _flow_discount_after_write(self, vals):
        if has_internal_key(self.env, self._FLOW_DISCOUNT_APPLYING_KEY):
            return
        if (
            vals.get("flow_discount_manual")
            and not self._FLOW_DISCOUNT_RULE_TRIGGERS.isdisjoint(vals)
            and not any(vals.get(f) for f in ("flow_discount_2", "flow_discount_3"))
        ):
            self._flow_unmark_pricelist_discount(self)
        if has_internal_key(self.env, self.order_id._FLOW_APPROVAL_SKIP_KEY):
            return  # the order's write applies the rules once
        if not self._FLOW_DISCOUNT_RULE_TRIGGERS.isdisjoint(vals):
            self.order_id._flow_apply_discount_rules()

    def _flow_unmark_pricelist_discount(self, lines):
        """Clear the manual mark of ``lines`` whose level 1 is just their
        pricelist's discount (only with pricelist discounts enabled)."""
        if (
            not lines
            or not self.env["product.pricelist.item"]._is_discount_feature_enabled()
        ):
            return
        lines = lines.filtered(lambda line: line.order_id.pricelist_id)
        to_unmark = lines.filtered(
            lambda line: (
                not float_compare(
                    line.flow_discount_1,
                    line._flow_get_pricelist_discount(),
                    precision_digits=2,
                )
            )
        )
        if to_unmark:
            to_unmark.with_context(
                **internal_context(self._FLOW_DISCOUNT_APPLYING_KEY)
            ).flow_discount_manual = False

    # ------------------------------------------------------------------
    # Business methods
    # ------------------------------------------------------------------
    def _flow_get_pricelist_discount(self):
        """The discount Odoo's pricelist shows on this line (0 to 100 %)."""
        self.ensure_one()
        if not self.product_id or not self.pricelist_item_id._show_discount():
            return 0.0
        line = self.with_company(self.company_id)
        pricelist_price = line._get_pricelist_price()
        base_price = line._get_pricelist_price_before_discount()
        if base_price <= 0:
            return 0.0  # surcharges and negative prices stay in the unit price
        discount = (base_price - pricelist_price) / base_price * 100
        return min(discount, 100.0) if discount > 0 else 0.0

    def _flow_get_product_qty(self):
        """Quantity of the line in its product's unit of measure."""
        self.ensure_one()
        product_uom = self.product_id.uom_id
        if not self.product_uom or not product_uom or self.product_uom == product_uom:
            return self.product_uom_qty
        return self.product_uom._compute_quantity(
            self.product_uom_qty, product_uom, round=False
        )

    def _flow_differs(self, fname, value):
        """Whether writing ``value`` in ``fname`` would change this line."""
        self.ensure_one()
        current = self[fname]
        field = self._fields[fname]
        if field.type == "many2one":
            return current.id != (value or False)
        if field.type == "float":
            return bool(float_compare(current, value, precision_digits=6))
        return current != value

    def _prepare_base_line_for_taxes_computation(self, **kwargs):
        # Amounts use the unrounded effective discount of the stack.
        self.ensure_one()
        if "discount" not in kwargs:
            kwargs["discount"] = self._flow_get_effective_discount()
        return super()._prepare_base_line_for_taxes_computation(**kwargs)

    @api.depends(*FLOW_DISCOUNT_FIELDS)
    def _compute_amount(self):  # pylint: disable=missing-return
        super()._compute_amount()

    def _prepare_invoice_line(self, **optional_values):
        values = super()._prepare_invoice_line(**optional_values)
        if not self.display_type:
            values.update({fname: self[fname] for fname in FLOW_DISCOUNT_FIELDS})
            values.pop("discount", None)
        return values

    def action_flow_reset_discount(self):
        """Forget the manual discounts of these lines and apply the rules."""
        self.order_id._flow_check_discount_rules_editable()
        self.order_id._flow_apply_discount_rules(reset_lines=self)
        self.order_id._flow_trigger_approval_evaluation()
        return True

    def action_flow_open_price_explanation(self):
        """The line's price explanation in a dialog (issue 11): lines are
        edited in place on desktop, where the line form is not opened."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Price Explained"),
            "res_model": "sale.order.line",
            "res_id": self.id,
            "view_mode": "form",
            "views": [
                (
                    self.env.ref(
                        "sales_order_flow.sale_order_line_view_form_price_explanation"
                    ).id,
                    "form",
                )
            ],
            "target": "new",
            "context": {"create": False, "edit": False},
        }

    def _flow_get_agreement_price_step(self):
        """Explanation step of a customer agreement price (hook).

        :return: None, or a dict like the steps of
            ``_flow_get_price_explanation()``.
        """
        self.ensure_one()
        return self._flow_agreement_price_step()

    def _flow_get_price_explanation(self):
        """How the line's net price was reached.

        :return: list of steps, each a dict with ``kind`` (``list_price``,
            ``pricelist``, ``agreement``, ``discount``, ``net_price``,
            ``subtotal``), ``label`` (translated), ``value`` (float: an amount in
            the order currency, or a % for discounts), ``display`` (formatted
            value) and, for discounts, ``level`` (1-3), ``source`` (``rule``,
            ``manual``, ``pricelist`` or ``free``) and ``rule_id`` (record or
            empty).
        """
        self.ensure_one()
        currency = self.currency_id or self.order_id.currency_id
        company = self.company_id or self.env.company

        def money(amount):
            return formatLang(self.env, amount, currency_obj=currency)

        list_price = self.product_id.lst_price
        if company.currency_id != currency:
            list_price = company.currency_id._convert(
                list_price,
                currency,
                company,
                self.order_id.date_order or fields.Date.context_today(self),
            )
        steps = [
            {
                "kind": "list_price",
                "label": self.env._("List price"),
                "value": list_price,
                "display": money(list_price),
            }
        ]
        pricelist = self.order_id.pricelist_id
        if pricelist and currency.compare_amounts(self.price_unit, list_price):
            steps.append(
                {
                    "kind": "pricelist",
                    "label": self.env._(
                        "Price of pricelist %(pricelist)s", pricelist=pricelist.name
                    ),
                    "value": self.price_unit,
                    "display": money(self.price_unit),
                }
            )
        elif currency.compare_amounts(self.price_unit, list_price):
            steps.append(
                {
                    "kind": "pricelist",
                    "label": self.env._("Unit price"),
                    "value": self.price_unit,
                    "display": money(self.price_unit),
                }
            )
        agreement = self._flow_get_agreement_price_step()
        if agreement:
            steps.append(agreement)
        for level, fname in enumerate(FLOW_DISCOUNT_FIELDS, start=1):
            value = self[fname]
            if not value:
                continue
            rule = self[f"{fname}_rule_id"]
            if self.flow_is_free_item:
                source = "free"
                origin = self.env._(
                    "free item (%(rule)s)",
                    rule=self.flow_free_rule_id.name or self.env._("rule"),
                )
            elif rule:
                source, origin = "rule", self.env._("rule %(rule)s", rule=rule.name)
            elif self.flow_discount_manual:
                source, origin = "manual", self.env._("manual")
            else:
                source, origin = "pricelist", self.env._("pricelist")
            steps.append(
                {
                    "kind": "discount",
                    "level": level,
                    "source": source,
                    "rule_id": rule,
                    "label": self.env._(
                        "Discount %(level)s (%(origin)s)", level=level, origin=origin
                    ),
                    "value": value,
                    "display": f"{self._flow_format_percent(value)} %",
                }
            )
        net = self.price_unit * (1 - self._flow_get_effective_discount() / 100.0)
        steps += [
            {
                "kind": "net_price",
                "label": self.env._("Net unit price"),
                "value": net,
                "display": money(net),
            },
            {
                "kind": "subtotal",
                "label": self.env._("Subtotal"),
                "value": self.price_subtotal,
                "display": money(self.price_subtotal),
            },
        ]
        return steps

    def _flow_render_price_explanation(self, steps):
        """Html table of ``steps``; every value is escaped by Markup."""
        rows = Markup("").join(
            Markup(
                '<tr class="o_flow_step_%s"><td>%s</td>'
                '<td class="text-end">%s</td></tr>'
            )
            % (step["kind"], step["label"], step["display"])
            for step in steps
        )
        return html_sanitize(
            Markup('<table class="table table-sm o_flow_price_explanation"><tbody>')
            + rows
            + Markup("</tbody></table>")
        )
