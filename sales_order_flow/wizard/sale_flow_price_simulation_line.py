from odoo import api, fields, models
from odoo.tools import float_compare, float_round


class SaleFlowPriceSimulationLine(models.TransientModel):
    _name = "sale.flow.price.simulation.line"
    _description = "Quotation Price Simulation Line"

    simulation_id = fields.Many2one(
        comodel_name="sale.flow.price.simulation",
        required=True,
        ondelete="cascade",
    )
    order_line_id = fields.Many2one(
        comodel_name="sale.order.line",
        required=True,
        ondelete="cascade",
    )
    currency_id = fields.Many2one(related="simulation_id.currency_id")
    product_id = fields.Many2one(related="order_line_id.product_id")
    product_uom_qty = fields.Float(related="order_line_id.product_uom_qty")
    product_uom = fields.Many2one(related="order_line_id.product_uom")
    purchase_price = fields.Float(related="order_line_id.purchase_price")
    current_price_unit = fields.Float(
        string="Current Unit Price", related="order_line_id.price_unit"
    )
    current_discount = fields.Float(
        string="Current Discount (%)", related="order_line_id.discount"
    )
    current_subtotal = fields.Monetary(
        string="Current Subtotal", related="order_line_id.price_subtotal"
    )
    price_unit = fields.Float(
        string="New Unit Price",
        digits="Product Price",
        compute="_compute_price_unit_discount",
        store=True,
        readonly=False,
        precompute=True,
    )
    # Exact, like sale.order.line's discount: an unchanged line simulates to
    # its own figures (shown with 2 decimals).
    discount = fields.Float(
        string="New Discount (%)",
        digits=False,
        compute="_compute_price_unit_discount",
        store=True,
        readonly=False,
        precompute=True,
    )
    new_subtotal = fields.Monetary(compute="_compute_new_subtotal_margin")
    new_margin = fields.Monetary(
        compute="_compute_new_subtotal_margin",
        help="New subtotal minus the line's cost (cost × quantity).",
    )
    new_margin_percent = fields.Float(
        string="New Margin (%)", compute="_compute_new_subtotal_margin"
    )
    # in % with 2 digits, as the wizard's totals (the percentage widget drops
    # trailing zeros)
    new_margin_rate = fields.Float(
        string="New Margin %",
        digits=(16, 2),
        compute="_compute_new_subtotal_margin",
    )

    @api.depends(
        "order_line_id", "simulation_id.mode", "simulation_id.applied_extra_discount"
    )
    def _compute_price_unit_discount(self):
        digits = self.env["decimal.precision"].precision_get("Discount")
        for line in self:
            order_line = line.order_line_id
            line.price_unit = order_line.price_unit
            extra = (
                line.simulation_id.applied_extra_discount
                if line.simulation_id.mode != "line_prices"
                else 0.0
            )
            if not extra:
                line.discount = order_line.discount  # its exact stack
                continue
            # The extra discount applies on top of the line's own discount.
            discount = 100.0 - (100.0 - order_line.discount) * (100.0 - extra) / 100.0
            # Rounded like a discount level, so "Apply" gives these figures.
            line.discount = float_round(discount, precision_digits=digits)

    @api.depends("price_unit", "discount", "order_line_id", "purchase_price")
    def _compute_new_subtotal_margin(self):
        AccountTax = self.env["account.tax"]
        for line in self:
            order_line = line.order_line_id
            if not order_line:
                line.new_subtotal = line.new_margin = line.new_margin_percent = 0.0
                line.new_margin_rate = 0.0
                continue
            # Same computation as sale.order.line._compute_amount.
            base_line = order_line._prepare_base_line_for_taxes_computation(
                price_unit=line.price_unit, discount=line.discount
            )
            AccountTax._add_tax_details_in_base_line(base_line, order_line.company_id)
            subtotal = base_line["tax_details"]["raw_total_excluded_currency"]
            line.new_subtotal = subtotal
            line.new_margin = subtotal - line.purchase_price * line.product_uom_qty
            line.new_margin_percent = subtotal and line.new_margin / subtotal
            line.new_margin_rate = line.new_margin_percent * 100.0

    def _get_changed_values(self):
        """The new values of the order line that differ from its current ones."""
        self.ensure_one()
        order_line = self.order_line_id
        values = {}
        price_digits = self.env["decimal.precision"].precision_get("Product Price")
        discount_digits = self.env["decimal.precision"].precision_get("Discount")
        if float_compare(
            self.price_unit, order_line.price_unit, precision_digits=price_digits
        ):
            values["price_unit"] = self.price_unit
        if float_compare(
            self.discount, order_line.discount, precision_digits=discount_digits
        ):
            values["discount"] = self.discount
        return values

    def _prepare_approval_line_values(self):
        """Line figures in the shape of sale.order._flow_get_approval_figures."""
        return [
            {
                "discount": line.discount,
                "price_subtotal": line.new_subtotal,
                "margin": line.new_margin,
                "purchase_cost": line.purchase_price * line.product_uom_qty,
            }
            for line in self
        ]
