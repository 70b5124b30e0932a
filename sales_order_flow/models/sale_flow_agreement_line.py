from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL, float_compare, format_amount, formatLang

DISCOUNT_FIELDS = ("discount_1", "discount_2", "discount_3")
CONSUMPTION_KEYS = (
    "qty_ordered",
    "amount_ordered",
    "qty_delivered",
    "amount_delivered",
    "qty_invoiced",
    "amount_invoiced",
    "qty_consumed",
    "amount_consumed",
)


class SaleFlowAgreementLine(models.Model):
    _name = "sale.flow.agreement.line"
    _description = "Sales Agreement Line"
    _order = "agreement_id, sequence, id"
    _check_company_auto = True

    agreement_id = fields.Many2one(
        "sale.flow.agreement",
        required=True,
        ondelete="cascade",
        index=True,
    )
    sequence = fields.Integer(default=10)
    company_id = fields.Many2one(related="agreement_id.company_id", store=True)
    currency_id = fields.Many2one(related="agreement_id.currency_id")
    state = fields.Selection(related="agreement_id.state")
    commitment_type = fields.Selection(
        [
            ("quantity", "Product Quantity"),
            ("value", "Product Value"),
            ("category_value", "Category Value"),
        ],
        required=True,
        default="quantity",
        help="Product Quantity: a quantity of a product. Product Value: an "
        "amount of a product. Category Value: an amount of any product of a "
        "category.",
    )
    product_id = fields.Many2one(
        "product.product",
        check_company=True,
        index="btree_not_null",
        domain=[("sale_ok", "=", True)],
    )
    categ_id = fields.Many2one("product.category", string="Product Category")
    product_uom_id = fields.Many2one(related="product_id.uom_id", string="Unit")
    qty_committed = fields.Float(
        string="Committed Quantity",
        digits="Product Unit of Measure",
        help="Quantity the customer commits to buy (in the product's unit).",
    )
    amount_committed = fields.Monetary(
        string="Committed Amount",
        help="Amount (untaxed) the customer commits to buy.",
    )
    price_unit = fields.Float(
        string="Agreed Price",
        digits="Product Price",
        help="Unit price of the orders under the agreement; empty: the pricelist "
        "gives the price.",
    )
    discount_1 = fields.Float(string="Disc. 1 (%)", digits="Discount")
    discount_2 = fields.Float(string="Disc. 2 (%)", digits="Discount")
    discount_3 = fields.Float(string="Disc. 3 (%)", digits="Discount")
    min_qty_calloff = fields.Float(
        string="Min per Call-off",
        help="Smallest quantity (quantity lines) or amount (value lines) of one "
        "call-off.",
    )
    max_qty_calloff = fields.Float(
        string="Max per Call-off",
        help="Largest quantity (quantity lines) or amount (value lines) of one "
        "call-off; 0: no limit.",
    )
    max_enforced = fields.Boolean(
        string="Maximum Enforced",
        help="Orders beyond what remains are refused; otherwise the salesperson "
        "is warned and the order notes it.",
    )
    price_fixed = fields.Boolean(
        help="Orders always use the agreed price, even when it is zero.",
    )
    schedule_ids = fields.One2many(
        "sale.flow.agreement.schedule", "line_id", string="Delivery Schedule", copy=True
    )
    # Consumption, in the line's unit: quantity for quantity lines, amount
    # (agreement currency, untaxed) for value lines.
    committed = fields.Float(compute="_compute_consumption")
    ordered = fields.Float(compute="_compute_consumption")
    delivered = fields.Float(compute="_compute_consumption")
    invoiced = fields.Float(
        compute="_compute_consumption",
        help="Posted invoices minus posted credit notes.",
    )
    consumed = fields.Float(
        compute="_compute_consumption",
        string="Used",
        help="Ordered, minus what returns and credit notes gave back.",
    )
    remaining = fields.Float(compute="_compute_consumption")
    consumption_percent = fields.Float(
        compute="_compute_consumption", string="Used (%)"
    )
    # The lines list (issue 11): one column per figure, in the line's unit,
    # formatted for the reader (quantities with their unit, values with the
    # currency; thousands separator and decimals of the user's language).
    commitment_label = fields.Char(
        string="Product / Category", compute="_compute_commitment_label"
    )
    committed_display = fields.Char(
        string="Committed (in Unit)", compute="_compute_consumption_display"
    )
    consumed_display = fields.Char(
        string="Used (in Unit)", compute="_compute_consumption_display"
    )
    remaining_display = fields.Char(
        string="Remaining (in Unit)", compute="_compute_consumption_display"
    )

    # Negative commitments are refused by _check_commitment, whose message
    # names the agreement and the line.
    _sql_constraints = [
        (
            "price_unit_positive",
            "CHECK(price_unit >= 0)",
            "An agreed price cannot be negative.",
        ),
        (
            "discount_range",
            "CHECK(discount_1 BETWEEN 0 AND 100 AND discount_2 BETWEEN 0 AND 100 "
            "AND discount_3 BETWEEN 0 AND 100)",
            "A discount must be between 0 and 100 %.",
        ),
        (
            "calloff_range",
            "CHECK(min_qty_calloff >= 0 AND max_qty_calloff >= 0)",
            "Call-off limits cannot be negative.",
        ),
    ]

    # ------------------------------------------------------------------
    # Compute methods
    # ------------------------------------------------------------------
    def _compute_display_name(self):
        for line in self:
            line.display_name = f"{line.agreement_id.name} - {line._flow_label()}"

    def _compute_consumption(self):
        consumption = self._flow_get_consumption()
        for line in self:
            values = consumption.get(line.id) or line._flow_empty_consumption()
            line.committed = values["committed"]
            line.ordered = values["ordered"]
            line.delivered = values["delivered"]
            line.invoiced = values["invoiced"]
            line.consumed = values["consumed"]
            line.remaining = values["remaining"]
            line.consumption_percent = values["percent"]

    @api.depends("commitment_type", "product_id", "categ_id")
    def _compute_commitment_label(self):
        for line in self:
            line.commitment_label = line._flow_label()

    @api.depends("commitment_type", "product_uom_id", "currency_id")
    def _compute_consumption_display(self):
        for line in self:
            line.committed_display = line._flow_format_figure(line.committed)
            line.consumed_display = line._flow_format_figure(line.consumed)
            line.remaining_display = line._flow_format_figure(line.remaining)

    def _flow_format_figure(self, value):
        """``value`` in the line's unit, as the user reads it: "50.00 Units"
        for a quantity line, "$ 5,000.00" for a value line."""
        self.ensure_one()
        if self.commitment_type == "quantity":
            quantity = formatLang(self.env, value, dp="Product Unit of Measure")
            return f"{quantity} {self.product_uom_id.name or ''}".strip()
        currency = self.currency_id or self.env.company.currency_id
        return format_amount(self.env, value, currency)

    # ------------------------------------------------------------------
    # Constraints and onchanges
    # ------------------------------------------------------------------
    @api.constrains(
        "commitment_type",
        "product_id",
        "categ_id",
        "qty_committed",
        "amount_committed",
        "min_qty_calloff",
        "max_qty_calloff",
    )
    def _check_commitment(self):
        for line in self:
            if line.qty_committed < 0 or line.amount_committed < 0:
                raise ValidationError(
                    self.env._(
                        "Agreement %(name)s: a commitment cannot be negative "
                        "(%(line)s).",
                        name=line.agreement_id.name,
                        line=line._flow_label(),
                    )
                )
            if line.commitment_type == "category_value" and not line.categ_id:
                raise ValidationError(
                    self.env._("A category value commitment needs a product category.")
                )
            if line.commitment_type != "category_value" and not line.product_id:
                raise ValidationError(
                    self.env._("A product commitment needs a product.")
                )
            if line.max_qty_calloff and line.min_qty_calloff > line.max_qty_calloff:
                raise ValidationError(
                    self.env._(
                        "%(line)s: the minimum per call-off exceeds the maximum.",
                        line=line._flow_label(),
                    )
                )
        self.agreement_id._flow_check_exclusive()

    @api.onchange("commitment_type")
    def _onchange_commitment_type(self):
        if self.commitment_type == "category_value":
            self.product_id = False
        else:
            self.categ_id = False

    # ------------------------------------------------------------------
    # Business methods
    # ------------------------------------------------------------------
    def _flow_label(self):
        self.ensure_one()
        if self.commitment_type == "category_value":
            return self.env._(
                "Category %(categ)s", categ=self.categ_id.display_name or ""
            )
        return self.product_id.display_name or ""

    def _flow_describe(self):
        self.ensure_one()
        return self.env._(
            "%(label)s, committed %(committed)s at %(price)s",
            label=self._flow_label(),
            committed=self._flow_get_committed(),
            price=self.price_unit,
        )

    @api.model
    def _flow_change_key(self, line):
        return (line.commitment_type, line.product_id.id, line.categ_id.id)

    @api.model
    def _flow_compared_fields(self):
        return [
            "qty_committed",
            "amount_committed",
            "price_unit",
            *DISCOUNT_FIELDS,
            "min_qty_calloff",
            "max_qty_calloff",
            "max_enforced",
            "price_fixed",
        ]

    def _flow_overlaps(self, others):
        """Whether a line of ``self`` and a line of ``others`` cover a common
        product (same product, product in the category, nested categories)."""

        def path(line):
            if line.commitment_type == "category_value":
                return line.categ_id.parent_path or ""
            return None

        for line in self:
            for other in others:
                mine, theirs = path(line), path(other)
                if mine is None and theirs is None:
                    if line.product_id == other.product_id:
                        return True
                elif mine is None:
                    if other._flow_covers(line.product_id):
                        return True
                elif theirs is None:
                    if line._flow_covers(other.product_id):
                        return True
                elif mine.startswith(theirs) or theirs.startswith(mine):
                    return True
        return False

    def _flow_covers(self, product):
        self.ensure_one()
        if self.commitment_type == "category_value":
            return bool(self.categ_id) and (
                product.categ_id.parent_path or ""
            ).startswith(self.categ_id.parent_path or "/")
        return self.product_id == product

    def _flow_get_committed(self):
        self.ensure_one()
        if self.commitment_type == "quantity":
            return self.qty_committed
        return self.amount_committed

    def _flow_get_effective_discount(self):
        self.ensure_one()
        remaining = 1.0
        for fname in DISCOUNT_FIELDS:
            remaining *= 1.0 - (self[fname] or 0.0) / 100.0
        return (1.0 - remaining) * 100.0

    def _flow_get_net_price(self, product=None):
        """Net unit price in the agreement's currency, per unit of the
        product."""
        self.ensure_one()
        price = self.price_unit
        if not price and not self.price_fixed:
            price = (product or self.product_id).lst_price
            company_currency = self.company_id.currency_id
            if price and company_currency and company_currency != self.currency_id:
                price = company_currency._convert(
                    price,
                    self.currency_id,
                    self.company_id,
                    fields.Date.context_today(self),
                    round=False,
                )
        return price * (1.0 - self._flow_get_effective_discount() / 100.0)

    def _flow_get_committed_value(self):
        """Commitment valued in money, for the agreement's total."""
        self.ensure_one()
        if self.commitment_type == "quantity":
            return self.qty_committed * self._flow_get_net_price()
        return self.amount_committed

    def _flow_has_agreed_price(self):
        self.ensure_one()
        return self.price_fixed or bool(self.price_unit)

    def _flow_prepare_order_line_values(self, qty, product=None):
        """Values of an order line placed under this agreement line (hook)."""
        self.ensure_one()
        product = product or self.product_id
        if not product:
            raise UserError(
                self.env._(
                    "Choose a product of %(line)s to order.", line=self._flow_label()
                )
            )
        values = {
            "product_id": product.id,
            "product_uom_qty": qty,
            "flow_agreement_line_id": self.id,
        }
        pricing = self._flow_get_order_line_pricing()
        # the order line computes the agreed price itself, in the order's
        # currency and its unit (sale.order.line._flow_get_agreed_price)
        pricing.pop("price_unit", None)
        values.update(pricing)
        return values

    def _flow_get_order_line_pricing(self, order_line=None):
        """Price and discounts an order line gets from this agreement line.

        The price is in ``order_line``'s currency and unit when it is given,
        else in the agreement's currency per unit of the product."""
        self.ensure_one()
        values = {}
        if self._flow_has_agreed_price():
            values["price_unit"] = (
                order_line._flow_get_agreed_price()
                if order_line and order_line.flow_agreement_line_id == self
                else self.price_unit
            )
        if any(self[fname] for fname in DISCOUNT_FIELDS) or values:
            values.update(
                {
                    "flow_discount_1": self.discount_1,
                    "flow_discount_2": self.discount_2,
                    "flow_discount_3": self.discount_3,
                    # discount rules leave agreement lines alone
                    "flow_discount_manual": True,
                }
            )
        return values

    def _flow_check_calloff_size(self, qty):
        self.ensure_one()
        size = qty
        if self.commitment_type != "quantity":
            size = qty * self._flow_get_net_price()
        self._flow_check_calloff_size_amount(size)

    def _flow_check_calloff_size_amount(self, size):
        """Refuse a call-off of ``size`` (in the line's unit) outside the
        line's minimum and maximum per call-off."""
        self.ensure_one()
        if (
            self.min_qty_calloff
            and float_compare(size, self.min_qty_calloff, precision_digits=2) < 0
        ):
            raise UserError(
                self.env._(
                    "%(line)s: at least %(min)s per call-off (%(size)s asked).",
                    line=self._flow_label(),
                    min=self.min_qty_calloff,
                    size=size,
                )
            )
        if (
            self.max_qty_calloff
            and float_compare(size, self.max_qty_calloff, precision_digits=2) > 0
        ):
            raise UserError(
                self.env._(
                    "%(line)s: at most %(max)s per call-off (%(size)s asked).",
                    line=self._flow_label(),
                    max=self.max_qty_calloff,
                    size=size,
                )
            )

    def _flow_empty_consumption(self):
        self.ensure_one()
        committed = self._flow_get_committed()
        values = dict.fromkeys(CONSUMPTION_KEYS, 0.0)
        values.update(
            committed=committed,
            ordered=0.0,
            delivered=0.0,
            invoiced=0.0,
            consumed=0.0,
            remaining=committed,
            percent=0.0,
        )
        return values

    def _flow_get_pending(self):
        """What quotations placed against the lines and not confirmed yet
        would use: ``{line id: quantity (quantity lines, in the product's
        unit) or untaxed amount (value lines, in the agreement's currency)}``.
        One search for all the lines."""
        lines = self.filtered("id")
        result = dict.fromkeys(lines.ids, 0.0)
        if not lines:
            return result
        # sudo: the customer reads these sums on its agreement, not the
        # quotations themselves (some may be the salesperson's drafts)
        order_lines = (
            self.env["sale.order.line"]
            .sudo()
            .search(
                [
                    ("flow_agreement_line_id", "in", lines.ids),
                    ("state", "in", ("draft", "sent")),
                    ("display_type", "=", False),
                ]
            )
        )
        today = fields.Date.context_today(self)
        for order_line in order_lines:
            line = order_line.flow_agreement_line_id
            if line.commitment_type == "quantity":
                result[line.id] += order_line.product_uom._compute_quantity(
                    order_line.product_uom_qty,
                    order_line.product_id.uom_id,
                    round=False,
                )
            else:
                result[line.id] += order_line.currency_id._convert(
                    order_line.price_subtotal,
                    line.currency_id,
                    line.company_id,
                    order_line.order_id.date_order or today,
                    round=False,
                )
        return result

    def _flow_get_consumption(self):
        """Consumption of the lines: ``{line id: {committed, ordered,
        delivered, invoiced, consumed, remaining, percent, qty_*, amount_*}}``.

        One SQL query for all the lines, whatever their number: confirmed
        order lines (ordered and delivered, converted to the product's unit),
        posted invoices minus credit notes, and done returns that update the
        order (``to_refund``; not the goods of an exchange, which are
        replaced). What returns give back, and what credit notes give back of
        the goods the customer kept (credited, not invoiced again, up to what
        was to invoice), is no longer used: a return and its credit note count
        once. Amounts are untaxed, in the agreement's currency (converted from
        the order's at the order date; invoices carry their order's currency).
        Read with SQL, so it does not depend on who reads it.
        """
        lines = self.filtered("id")
        if not lines:
            return {}
        self.env["sale.order.line"].flush_model()
        self.env["account.move.line"].flush_model()
        self.env["account.move"].flush_model(["state", "move_type"])
        self.env["stock.move"].flush_model()
        query = SQL(
            """
            WITH sol AS (
                SELECT l.id,
                       l.flow_agreement_line_id AS aline,
                       o.currency_id,
                       o.company_id,
                       o.date_order::date AS day,
                       lu.factor AS line_factor,
                       pu.factor AS product_factor,
                       l.product_uom_qty / lu.factor * pu.factor AS qty,
                       l.qty_delivered / lu.factor * pu.factor AS delivered,
                       l.price_subtotal AS amount,
                       COALESCE(pt.invoice_policy, 'order') AS policy
                  FROM sale_order_line l
                  JOIN sale_order o ON o.id = l.order_id
                  JOIN uom_uom lu ON lu.id = l.product_uom
                  JOIN product_product pp ON pp.id = l.product_id
                  JOIN product_template pt ON pt.id = pp.product_tmpl_id
                  JOIN uom_uom pu ON pu.id = pt.uom_id
                 WHERE l.flow_agreement_line_id IN %(ids)s
                   AND l.state = 'sale'
            ), inv AS (
                SELECT s.id,
                       SUM(CASE WHEN m.move_type = 'out_invoice' THEN 1 ELSE -1 END
                           * aml.quantity / COALESCE(au.factor, s.line_factor)
                           * s.product_factor) AS qty,
                       SUM(CASE WHEN m.move_type = 'out_refund'
                           THEN aml.quantity / COALESCE(au.factor, s.line_factor)
                                * s.product_factor ELSE 0 END) AS refunded,
                       SUM(CASE WHEN m.move_type = 'out_invoice' THEN 1 ELSE -1 END
                           * aml.price_subtotal) AS amount
                  FROM sol s
                  JOIN sale_order_line_invoice_rel rel ON rel.order_line_id = s.id
                  JOIN account_move_line aml ON aml.id = rel.invoice_line_id
                  JOIN account_move m ON m.id = aml.move_id
                  LEFT JOIN uom_uom au ON au.id = aml.product_uom_id
                 WHERE m.state = 'posted'
                   AND m.move_type IN ('out_invoice', 'out_refund')
                 GROUP BY s.id
            ), ret AS (
                SELECT s.id, SUM(sm.product_qty) AS qty
                  FROM sol s
                  JOIN stock_move sm ON sm.sale_line_id = s.id
                  JOIN stock_location dl ON dl.id = sm.location_dest_id
                 WHERE sm.state = 'done'
                   AND sm.origin_returned_move_id IS NOT NULL
                   AND sm.to_refund
                   AND dl.usage != 'customer'
                 GROUP BY s.id
            ), per_line AS (
                SELECT s.aline, s.currency_id, s.company_id, s.day,
                       s.qty, s.amount, s.delivered,
                       CASE WHEN s.qty != 0 THEN s.amount / s.qty ELSE 0 END
                           AS unit,
                       COALESCE(i.qty, 0) AS inv_qty,
                       COALESCE(i.amount, 0) AS inv_amount,
                       -- returned, plus what credit notes give back of the
                       -- goods kept: credited and not invoiced again, up to
                       -- what was to invoice (delivered, or ordered minus
                       -- returned); a return and its credit note count once,
                       -- a credit note whose quantity is invoiced again (the
                       -- reversal's "new invoice") gives nothing back
                       COALESCE(r.qty, 0) + LEAST(
                           COALESCE(i.refunded, 0),
                           GREATEST(
                               0,
                               CASE WHEN s.policy = 'delivery' THEN s.delivered
                                    ELSE s.qty - COALESCE(r.qty, 0) END
                               - COALESCE(i.qty, 0)
                           )
                       ) AS given_back
                  FROM sol s
                  LEFT JOIN inv i ON i.id = s.id
                  LEFT JOIN ret r ON r.id = s.id
            )
            SELECT aline, currency_id, company_id, day,
                   SUM(qty), SUM(amount),
                   SUM(delivered), SUM(delivered * unit),
                   SUM(inv_qty), SUM(inv_amount),
                   SUM(qty - given_back), SUM(amount - given_back * unit)
              FROM per_line
             GROUP BY aline, currency_id, company_id, day
            """,
            ids=tuple(lines.ids),
        )
        # Read before the query (reading may run queries of its own). sudo:
        # the agreements' currencies, whoever reads the consumption.
        agreement_currencies = {line.id: line.currency_id for line in lines.sudo()}
        self.env.cr.execute(query)
        raw = {}
        rates = {}
        Currency = self.env["res.currency"]
        Company = self.env["res.company"]
        for aline, currency_id, company_id, day, *sums in self.env.cr.fetchall():
            values = dict(
                zip(CONSUMPTION_KEYS, (float(v or 0.0) for v in sums), strict=True)
            )
            # Amounts are in the order's currency: count them in the
            # agreement's, at the order date (one rate per currency and day).
            to_currency = agreement_currencies[aline]
            if currency_id and currency_id != to_currency.id:
                key = (currency_id, to_currency.id, company_id, day)
                if key not in rates:
                    rates[key] = Currency._get_conversion_rate(
                        Currency.browse(currency_id),
                        to_currency,
                        Company.browse(company_id),
                        day,
                    )
                for name in CONSUMPTION_KEYS:
                    if name.startswith("amount_"):
                        values[name] *= rates[key]
            total = raw.setdefault(aline, dict.fromkeys(CONSUMPTION_KEYS, 0.0))
            for name, value in values.items():
                total[name] += value
        result = {}
        for line in lines:
            values = line._flow_empty_consumption()
            values.update(raw.get(line.id, {}))
            unit = "qty" if line.commitment_type == "quantity" else "amount"
            for key in ("ordered", "delivered", "invoiced", "consumed"):
                values[key] = values[f"{unit}_{key}"]
            committed = values["committed"]
            values["remaining"] = committed - values["consumed"]
            values["percent"] = (
                values["consumed"] / committed * 100.0 if committed else 0.0
            )
            result[line.id] = values
        return result
