"""Order lines placed against an agreement line: price and discounts."""

from odoo import api, fields, models
from odoo.tools import float_compare
from odoo.tools.misc import formatLang


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    # ------------------------------------------------------------------
    # ---- agreements (issue 4) ----
    # ------------------------------------------------------------------
    flow_agreement_line_id = fields.Many2one(
        "sale.flow.agreement.line",
        string="Agreement Line",
        compute="_compute_flow_agreement_line_id",
        store=True,
        readonly=False,
        precompute=True,
        index="btree_not_null",
        ondelete="restrict",
        copy=False,
        help="Agreement line the order line is placed against: the order's "
        "agreement, else the customer's active agreement covering the product.",
    )
    flow_agreement_id = fields.Many2one(
        related="flow_agreement_line_id.agreement_id",
        store=True,
        index="btree_not_null",
        string="Agreement",
    )

    @api.depends("product_id", "order_id.flow_agreement_id", "order_id.partner_id")
    def _compute_flow_agreement_line_id(self):
        Agreement = self.env["sale.flow.agreement"]
        todo = self.filtered(
            lambda line: (
                line.state in ("draft", "sent", False)
                and not line.display_type
                and not line.is_downpayment
                and not line.flow_is_free_item
            )
        )
        (self - todo).filtered(
            lambda line: not line.product_id
        ).flow_agreement_line_id = False
        candidates = None
        for order in todo.order_id:
            lines = todo.filtered(lambda line, order=order: line.order_id == order)
            products = lines.product_id
            if not products or not order.partner_id:
                lines.flow_agreement_line_id = False
                continue
            if order.flow_agreement_id:
                found = {}
                for product in products:
                    found[product.id] = order.flow_agreement_id.line_ids.filtered(
                        lambda a, product=product: a._flow_covers(product)
                    )[:1]
            else:
                if candidates is None:
                    candidates = Agreement._flow_get_candidate_lines(
                        todo.order_id.partner_id
                    )
                found = Agreement._flow_find_lines(
                    order.partner_id,
                    products,
                    date=fields.Date.context_today(self, order.date_order)
                    if order.date_order
                    else None,
                    company=order.company_id,
                    candidates=candidates,
                )
            for line in lines:
                line.flow_agreement_line_id = found.get(line.product_id.id, False)

    @api.depends("flow_agreement_line_id")
    def _compute_price_unit(self):  # pylint: disable=missing-return
        super()._compute_price_unit()

    def _get_display_price(self):
        # sudo: the agreed price applies whoever sells to the customer
        agreement_line = self.flow_agreement_line_id.sudo()
        if agreement_line and agreement_line._flow_has_agreed_price():
            return self._flow_get_agreed_price()
        return super()._get_display_price()

    def _flow_get_agreed_price(self):
        """The agreed price of the line's agreement line (per unit of the
        product, in the agreement's currency) per unit of the line, in the
        order's currency at the order date: a line in dozens gets 12 times
        the unit price."""
        self.ensure_one()
        # sudo: the agreed price applies whoever sells to the customer
        agreement_line = self.flow_agreement_line_id.sudo()
        price = agreement_line.price_unit
        product_uom = self.product_id.uom_id
        if self.product_uom and product_uom and self.product_uom != product_uom:
            price = product_uom._compute_price(price, self.product_uom)
        currency = self.currency_id or self.order_id.currency_id
        if currency and currency != agreement_line.currency_id:
            price = agreement_line.currency_id._convert(
                price,
                currency,
                self.company_id or self.env.company,
                self.order_id.date_order or fields.Date.context_today(self),
                round=False,
            )
        return price

    @api.onchange("product_id", "flow_agreement_line_id")
    def _onchange_flow_agreement_line_id(self):
        for line in self:
            if not line.flow_agreement_line_id:
                continue
            # sudo: the agreed pricing applies whoever sells to the customer
            pricing = line.flow_agreement_line_id.sudo()._flow_get_order_line_pricing(
                line
            )
            has_price = pricing.pop("price_unit", None) is not None
            line.update(pricing)
            if has_price:
                # the agreed price through the line's own price computation
                # (_get_display_price: currency, unit, taxes included)
                line.with_context(force_price_recomputation=True)._compute_price_unit()

    @api.onchange("product_uom_qty", "flow_agreement_line_id", "price_unit")
    def _onchange_flow_agreement_remaining(self):
        # sudo: what remains of the agreement is shown whoever sells
        agreement_line = self.flow_agreement_line_id.sudo()
        if not agreement_line or not self.product_id:
            return None
        request = self.order_id._flow_agreement_requests(self)[agreement_line]
        remaining = agreement_line._flow_get_consumption()[agreement_line.id][
            "remaining"
        ]
        if float_compare(request, remaining, precision_digits=2) <= 0:
            return None
        if agreement_line.max_enforced:
            message = self.env._(
                "Only %(remaining)s remains under agreement %(name)s and its "
                "maximum is enforced: the order cannot be confirmed as it is.",
                remaining=round(remaining, 2),
                name=agreement_line.agreement_id.name,
            )
        else:
            message = self.env._(
                "Only %(remaining)s remains under agreement %(name)s: this line "
                "goes beyond the commitment.",
                remaining=round(remaining, 2),
                name=agreement_line.agreement_id.name,
            )
        return {
            "warning": {"title": self.env._("Beyond the agreement"), "message": message}
        }

    def _flow_agreement_after_create(self, vals_list):
        """Lines placed against an agreement get its discounts, for the
        levels the creation values do not give (its price comes from
        ``_get_display_price``)."""
        for line, vals in zip(self, vals_list, strict=True):
            if not line.flow_agreement_line_id:
                continue
            # sudo: the agreed pricing applies whoever sells to the customer
            pricing = line.flow_agreement_line_id.sudo()._flow_get_order_line_pricing(
                line
            )
            pricing.pop("price_unit", None)
            pricing = {
                fname: value
                for fname, value in pricing.items()
                if fname not in vals and line._flow_differs(fname, value)
            }
            if pricing:
                line.write(pricing)

    def _flow_agreement_price_step(self):
        """Explanation step of the agreement's price (see
        ``_flow_get_agreement_price_step``)."""
        self.ensure_one()
        # sudo: the agreed price is explained whoever reads the line
        agreement_line = self.flow_agreement_line_id.sudo()
        if not agreement_line or not agreement_line._flow_has_agreed_price():
            return None
        currency = self.currency_id or self.order_id.currency_id
        return {
            "kind": "agreement",
            "label": self.env._(
                "Agreed price (%(agreement)s)",
                agreement=agreement_line.agreement_id.name,
            ),
            "value": self.price_unit,
            "display": formatLang(self.env, self.price_unit, currency_obj=currency),
        }
