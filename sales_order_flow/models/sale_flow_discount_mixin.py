from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL, float_compare, float_round
from odoo.tools.sql import column_exists, table_exists

# Stack levels, in the order they cascade.
FLOW_DISCOUNT_FIELDS = ("flow_discount_1", "flow_discount_2", "flow_discount_3")


class SaleFlowDiscountMixin(models.AbstractModel):
    """Three cascading discounts on a document line.

    Odoo's ``discount`` holds the exact effective discount 1 - Π(1 - dᵢ),
    ``_flow_get_effective_discount()`` (the models using the mixin give their
    ``discount`` field ``digits=False``): 10 + 5 + 3 % is 17.065 %, shown
    17.07 %, and a 100.00 price becomes 82.94 (not 82.93) in the line, in
    Odoo's amount to invoice, discount allocation, reports and exports alike.
    Writing ``discount`` alone sets level 1 and clears levels 2 and 3.
    """

    _name = "sale.flow.discount.mixin"
    _description = "Sales Flow Stacked Discounts"

    flow_discount_1 = fields.Float(
        string="Disc. 1 (%)",
        digits="Discount",
        default=0.0,
        help="First cascading discount.",
    )
    flow_discount_2 = fields.Float(
        string="Disc. 2 (%)",
        digits="Discount",
        default=0.0,
        help="Second cascading discount, applied on the price after the first.",
    )
    flow_discount_3 = fields.Float(
        string="Disc. 3 (%)",
        digits="Discount",
        default=0.0,
        help="Third cascading discount, applied on the price after the first two.",
    )
    flow_discount_display = fields.Char(
        string="Discounts",
        compute="_compute_flow_discount_display",
        help="The cascading discounts, e.g. 10 + 5 + 2 %.",
    )

    # Whether existing discounts are brought into 0-100 % when the levels are
    # created (models refusing other values).
    _flow_clamp_existing_discounts = True

    def _auto_init(self):
        # Existing lines keep their discount as level 1, without rewriting the
        # table: ADD COLUMN with a constant default only records the default
        # (PostgreSQL >= 11), so lines without discount (most journal items)
        # are not touched, and one UPDATE gives level 1 to the lines having a
        # discount. The columns existing, the ORM does not compute level 1 of
        # every existing row either.
        cr = self.env.cr
        if (
            not self._abstract
            and table_exists(cr, self._table)
            and not column_exists(cr, self._table, "flow_discount_1")
        ):
            table = SQL.identifier(self._table)
            for fname in FLOW_DISCOUNT_FIELDS:
                column = SQL.identifier(fname)
                cr.execute(
                    SQL("ALTER TABLE %s ADD COLUMN %s numeric DEFAULT 0", table, column)
                )
                cr.execute(
                    SQL("ALTER TABLE %s ALTER COLUMN %s DROP DEFAULT", table, column)
                )
            value = SQL("discount")
            if self._flow_clamp_existing_discounts:
                value = SQL("LEAST(GREATEST(discount, 0), 100)")
            cr.execute(
                SQL(
                    "UPDATE %s SET flow_discount_1 = %s "
                    "WHERE discount IS NOT NULL AND discount != 0",
                    table,
                    value,
                )
            )
        return super()._auto_init()

    def init(self):
        super().init()
        if self._abstract:
            return
        # Lines stored while ``discount`` was rounded to 2 decimals: the
        # stacked ones (the only ones that can differ) get the exact value.
        # Reads the table, writes only the lines that differ (not by float
        # noise, which would rewrite them on every update).
        exact = SQL(
            "ROUND(100 * (1 - (1 - COALESCE(flow_discount_1, 0) / 100.0)"
            " * (1 - COALESCE(flow_discount_2, 0) / 100.0)"
            " * (1 - COALESCE(flow_discount_3, 0) / 100.0)), 10)"
        )
        self.env.cr.execute(
            SQL(
                "UPDATE %(table)s SET discount = %(exact)s "
                "WHERE (COALESCE(flow_discount_2, 0) != 0 "
                "OR COALESCE(flow_discount_3, 0) != 0) "
                "AND ABS(COALESCE(discount, 0) - %(exact)s) > 0.0000001",
                table=SQL.identifier(self._table),
                exact=exact,
            )
        )

    @api.depends(*FLOW_DISCOUNT_FIELDS)
    def _compute_flow_discount_display(self):
        for line in self:
            line.flow_discount_display = line._flow_format_discount_stack()

    @api.constrains(*FLOW_DISCOUNT_FIELDS)
    def _check_flow_discount_range(self):
        for line in self._flow_get_range_checked_lines():
            line._flow_check_discount_values(line._flow_get_discount_stack())

    def _flow_get_range_checked_lines(self):
        """Lines whose discounts must be between 0 and 100 % (hook)."""
        return self

    @api.model
    def _flow_check_discount_values(self, discounts):
        """Refuse a discount out of 0-100 % with a message the user reads
        (before the database would refuse it)."""
        for discount in discounts:
            if discount and (discount < 0.0 or discount > 100.0):
                raise ValidationError(
                    self.env._(
                        "A discount must be between 0 and 100 %% (%(value)s %% given).",
                        value=self._flow_format_percent(discount),
                    )
                )

    # ------------------------------------------------------------------
    # Business methods
    # ------------------------------------------------------------------
    def _flow_get_discount_stack(self):
        self.ensure_one()
        return [self[fname] or 0.0 for fname in FLOW_DISCOUNT_FIELDS]

    def _flow_get_effective_discount(self):
        """Unrounded effective discount (%) of the stack."""
        self.ensure_one()
        return self._flow_combine_discounts(self._flow_get_discount_stack())

    @api.model
    def _flow_combine_discounts(self, discounts):
        """1 - Π(1 - dᵢ), in %. A single discount is returned as it is, so
        amounts equal Odoo's to the cent (no float noise like 9.999999)."""
        given = [d for d in discounts if d]
        if len(given) <= 1:
            return given[0] if given else 0.0
        remaining = 1.0
        for discount in given:
            remaining *= 1.0 - discount / 100.0
        return float_round((1.0 - remaining) * 100.0, precision_digits=10)

    @api.model
    def _flow_format_percent(self, value):
        return f"{value:.2f}".rstrip("0").rstrip(".")

    def _flow_format_discount_stack(self):
        """'10 + 5 + 2 %' ('' without discount)."""
        self.ensure_one()
        given = [d for d in self._flow_get_discount_stack() if d]
        if not given:
            return ""
        return self.env._(
            "%(discounts)s %%",
            discounts=" + ".join(self._flow_format_percent(d) for d in given),
        )

    def _flow_drop_shown_discount(self, vals):
        """``discount`` written alone with the value these lines show (2
        decimals: the form sends back 17.07 for 10 + 5 + 3 %) changes
        nothing: the stack is kept."""
        if (
            "discount" not in vals
            or not self
            or any(fname in vals for fname in FLOW_DISCOUNT_FIELDS)
        ):
            return vals
        digits = self.env["decimal.precision"].precision_get("Discount")
        given = vals["discount"] or 0.0
        if all(
            not float_compare(
                float_round(line._flow_get_effective_discount(), digits),
                float_round(given, digits),
                precision_digits=digits,
            )
            for line in self
        ):
            vals = dict(vals)
            del vals["discount"]
        return vals

    @api.model
    def _flow_prepare_discount_vals(self, vals, create=False):
        """Keep ``discount`` and the stack consistent in create/write values.

        Levels given: ``discount`` is dropped (computed from them). ``discount``
        alone: it becomes level 1 (levels 2 and 3 cleared on write).
        """
        levels = [fname for fname in FLOW_DISCOUNT_FIELDS if fname in vals]
        if not levels and "discount" not in vals:
            return vals
        vals = dict(vals)
        if levels:
            vals.pop("discount", None)
        else:
            vals["flow_discount_1"] = vals["discount"] or 0.0
            if not create:
                vals.update(flow_discount_2=0.0, flow_discount_3=0.0)
        return vals
