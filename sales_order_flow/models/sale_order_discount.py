"""Discount rules applied to the lines of a quotation."""

from collections import defaultdict

from odoo import fields, models
from odoo.exceptions import UserError

from ..utils import has_internal_key, internal_context
from .sale_flow_discount_mixin import FLOW_DISCOUNT_FIELDS


class SaleOrder(models.Model):
    _inherit = "sale.order"

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
        if has_internal_key(
            self.env, self.env["sale.order.line"]._FLOW_DISCOUNT_APPLYING_KEY
        ) or self._FLOW_DISCOUNT_ORDER_TRIGGERS.isdisjoint(vals):
            return
        self._flow_apply_discount_rules()

    def _recompute_prices(self):  # pylint: disable=missing-return
        """Odoo's "Update Prices" keeps our numbers.

        Odoo recomputes the unit prices, then writes ``discount = 0`` on every
        line and takes the pricelist's discount again: that would drop every
        stack, make free items paid and mark every line as discounted by hand.
        Here the unit prices are recomputed as Odoo does (agreed prices come
        from ``_get_display_price``), the stacks set by hand or by an
        agreement, the rule discounts and the free items' 100 % are kept, the
        manual marks stay as they were, level 1 is taken from the pricelist
        again where it came from it, then the discount rules are applied to
        the new prices.
        """
        Line = self.env["sale.order.line"]
        lines = self._get_update_prices_lines()
        kept_fields = [*FLOW_DISCOUNT_FIELDS, "flow_discount_manual"]
        kept = {line.id: {f: line[f] for f in kept_fields} for line in lines}
        writer = self._flow_discount_writer_context()
        super(SaleOrder, self.with_context(**writer))._recompute_prices()
        restore = defaultdict(lambda: Line)
        pricelist_lines = Line
        for line in lines:
            values = kept[line.id]
            if not (
                values["flow_discount_manual"]
                or line.flow_is_free_item
                or line.flow_discount_1_rule_id
            ):
                # Level 1 is the pricelist's: the new one is taken below.
                values = dict(values)
                del values["flow_discount_1"]
                pricelist_lines |= line
            values = {
                fname: value
                for fname, value in values.items()
                if line._flow_differs(fname, value)
            }
            if values:
                restore[tuple(sorted(values.items()))] |= line
        for values, group in restore.items():
            group.with_context(**writer).write(dict(values))
        if pricelist_lines:
            self.env.add_to_compute(
                pricelist_lines._fields["flow_discount_1"], pricelist_lines
            )
        self._flow_apply_discount_rules()
        self._flow_trigger_approval_evaluation()

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
                    self.env._(
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
        if self.state not in ("draft", "sent"):
            raise UserError(
                self.env._(
                    "Products can be suggested on quotations only: %(order)s is "
                    "confirmed or cancelled.",
                    order=self.name,
                )
            )
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
        # Internal markers (utils/internal_context.py): RPC callers cannot set them.
        return internal_context(
            self.env["sale.order.line"]._FLOW_DISCOUNT_APPLYING_KEY,
            self._FLOW_APPROVAL_SKIP_KEY,
        )

    def _flow_match_discount_rules(self, line, rules, matching_data, facts, cache):
        """Rules applying to ``line``.

        :return: (``{level: (percent, rule)}``, ``[(rule, free qty)]``)
        """
        self.ensure_one()
        rate = self.currency_rate or 1.0
        # Rule quantities are in the product's unit: 2 dozen are 24 units.
        qty = line._flow_get_product_qty()
        line_facts = {
            "product_id": line.product_id.id,
            "categ_path": line.product_id.categ_id.parent_path or "",
            "qty": qty,
            "amount": line.price_unit * line.product_uom_qty / rate,
        }
        taken, free = {}, []
        for rule in rules:
            if not rule._flow_matches(matching_data[rule.id], facts, line_facts):
                continue
            if rule.effect == "free":
                free_qty = rule._flow_get_free_qty(qty)
                if free_qty > 0:
                    free.append((rule, free_qty))
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
        # The amount is off per unit of the product; the unit price is per
        # unit of the line (a dozen: 12 times the amount).
        amount = cache[rule.id]
        product_uom = line.product_id.uom_id
        if line.product_uom and line.product_uom != product_uom:
            amount = product_uom._compute_price(amount, line.product_uom)
        digits = self.env["decimal.precision"].precision_get("Discount")
        return min(round(amount / line.price_unit * 100.0, digits), 100.0)

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
