from collections import defaultdict

from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_amount


class SaleFlowPriceSimulation(models.TransientModel):
    _name = "sale.flow.price.simulation"
    _description = "Quotation Price Simulation"

    order_id = fields.Many2one(
        comodel_name="sale.order",
        string="Quotation",
        required=True,
        readonly=True,
        ondelete="cascade",
    )
    company_id = fields.Many2one(related="order_id.company_id")
    currency_id = fields.Many2one(related="order_id.currency_id")
    mode = fields.Selection(
        selection=[
            ("extra_discount", "Extra Discount"),
            ("target_total", "Target Total"),
            ("line_prices", "Price per Line"),
        ],
        string="Simulate",
        required=True,
        default="extra_discount",
        help="Extra Discount: a % given on top of each line's discount.\n"
        "Target Total: the untaxed total to reach; the matching extra discount is "
        "given on every line.\n"
        "Price per Line: edit the unit price or discount of each line.",
    )
    extra_discount = fields.Float(
        string="Extra Discount (%)",
        digits="Discount",
        help="Given on top of each line's own discount: a line at 10 % with an "
        "extra 10 % ends at 19 %.",
    )
    target_total = fields.Monetary(
        string="Target Untaxed Total",
        compute="_compute_target_total",
        store=True,
        readonly=False,
        precompute=True,
        help="Untaxed total the quotation should reach; between zero and the "
        "current untaxed total.",
    )
    applied_extra_discount = fields.Float(
        string="Equivalent Extra Discount (%)",
        compute="_compute_applied_extra_discount",
        digits=(16, 4),
        help="Extra discount given on every line in this simulation.",
    )
    line_ids = fields.One2many(
        comodel_name="sale.flow.price.simulation.line",
        inverse_name="simulation_id",
        string="Lines",
        compute="_compute_line_ids",
        store=True,
        readonly=False,
        precompute=True,
    )
    input_error = fields.Char(
        compute="_compute_input_error",
        help="Why the simulation cannot be applied as it stands.",
    )

    # Current figures come from the quotation itself.
    current_amount_untaxed = fields.Monetary(
        string="Current Untaxed", related="order_id.amount_untaxed"
    )
    current_amount_tax = fields.Monetary(
        string="Current Taxes", related="order_id.amount_tax"
    )
    current_amount_total = fields.Monetary(
        string="Current Total", related="order_id.amount_total"
    )
    current_margin = fields.Monetary(string="Current Margin", related="order_id.margin")
    current_margin_percent = fields.Float(
        string="Current Margin (%)", related="order_id.margin_percent"
    )
    # Shown instead of the ratios (issue 11): Odoo's percentage widget drops
    # trailing zeros ("60.6%" next to "64.54%"); these are in % with 2 digits.
    current_margin_rate = fields.Float(
        string="Current Margin %",
        digits=(16, 2),
        compute="_compute_current_margin_rate",
    )
    new_amount_untaxed = fields.Monetary(
        string="Simulated Untaxed", compute="_compute_new_amounts"
    )
    new_amount_tax = fields.Monetary(
        string="Simulated Taxes", compute="_compute_new_amounts"
    )
    new_amount_total = fields.Monetary(
        string="Simulated Total", compute="_compute_new_amounts"
    )
    new_margin = fields.Monetary(
        string="Simulated Margin", compute="_compute_new_amounts"
    )
    new_margin_percent = fields.Float(
        string="Simulated Margin (%)",
        compute="_compute_new_amounts",
        help="Simulated margin divided by the simulated untaxed total.",
    )
    new_margin_rate = fields.Float(
        string="Simulated Margin %",
        digits=(16, 2),
        compute="_compute_new_amounts",
        help="Simulated margin divided by the simulated untaxed total, in %.",
    )

    approval_needed = fields.Boolean(
        compute="_compute_approval",
        help="Whether the simulated quotation would match approval rules.",
    )
    approval_rule_ids = fields.Many2many(
        comodel_name="sale.flow.approval.rule",
        string="Matching Approval Rules",
        compute="_compute_approval",
    )
    approval_summary = fields.Text(
        string="Approval",
        compute="_compute_approval",
        help="The approval rules the simulated quotation would match, and who "
        "approves them.",
    )

    # ------------------------------------------------------------------
    # Compute methods
    # ------------------------------------------------------------------
    @api.depends("order_id")
    def _compute_target_total(self):
        for wizard in self:
            wizard.target_total = wizard.order_id.amount_untaxed

    @api.depends("mode", "extra_discount", "target_total", "order_id")
    def _compute_applied_extra_discount(self):
        for wizard in self:
            wizard.applied_extra_discount = wizard._get_applied_extra_discount()

    @api.depends("order_id")
    def _compute_line_ids(self):
        for wizard in self:
            wizard.line_ids = [Command.clear()] + [
                Command.create({"order_line_id": line.id})
                for line in wizard._get_simulated_order_lines()
            ]

    @api.depends(
        "mode",
        "extra_discount",
        "target_total",
        "line_ids.price_unit",
        "line_ids.discount",
    )
    def _compute_input_error(self):
        for wizard in self:
            wizard.input_error = wizard._get_input_error() or False

    @api.depends(
        "line_ids.price_unit",
        "line_ids.discount",
        "line_ids.new_margin",
        "order_id",
    )
    def _compute_new_amounts(self):
        AccountTax = self.env["account.tax"]
        for wizard in self:
            order = wizard.order_id
            company = order.company_id or self.env.company
            # Same computation as sale.order._compute_amounts, on simulated lines.
            base_lines = wizard._get_simulated_base_lines()
            AccountTax._add_tax_details_in_base_lines(base_lines, company)
            AccountTax._round_base_lines_tax_details(base_lines, company)
            totals = AccountTax._get_tax_totals_summary(
                base_lines=base_lines,
                currency=order.currency_id or company.currency_id,
                company=company,
            )
            other_margin = sum(
                (order.order_line - wizard.line_ids.order_line_id).mapped("margin")
            )
            wizard.new_amount_untaxed = totals["base_amount_currency"]
            wizard.new_amount_tax = totals["tax_amount_currency"]
            wizard.new_amount_total = totals["total_amount_currency"]
            wizard.new_margin = sum(wizard.line_ids.mapped("new_margin")) + other_margin
            wizard.new_margin_percent = (
                wizard.new_amount_untaxed
                and wizard.new_margin / wizard.new_amount_untaxed
            )
            wizard.new_margin_rate = wizard.new_margin_percent * 100.0

    @api.depends("order_id.margin_percent")
    def _compute_current_margin_rate(self):
        for wizard in self:
            wizard.current_margin_rate = wizard.current_margin_percent * 100.0

    @api.depends(
        "line_ids.discount",
        "line_ids.new_subtotal",
        "line_ids.new_margin",
        "order_id",
    )
    def _compute_approval(self):
        Rule = self.env["sale.flow.approval.rule"]
        for wizard in self:
            rules = Rule
            if wizard.order_id and wizard.line_ids:
                figures = wizard.order_id._flow_get_approval_figures(
                    line_values=wizard.line_ids._prepare_approval_line_values()
                )
                rules = Rule._get_matching_rules(wizard.order_id, figures)
            wizard.approval_rule_ids = rules
            wizard.approval_needed = bool(rules)
            wizard.approval_summary = wizard._get_approval_summary(rules)

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_apply(self):
        """Write the simulated prices and discounts to the quotation."""
        self.ensure_one()
        error = self._get_input_error()
        if error:
            raise UserError(error)
        order = self.order_id
        old_untaxed, old_total = order.amount_untaxed, order.amount_total
        # Lines sharing the same new values are written together.
        groups = defaultdict(lambda: self.env["sale.order.line"])
        for line in self.line_ids:
            values = line._get_changed_values()
            if values:
                groups[tuple(sorted(values.items()))] |= line.order_line_id
        for values, order_lines in groups.items():
            order_lines.write(dict(values))
        if groups:
            currency = order.currency_id
            order.message_post(
                body=self.env._(
                    "Price simulation applied (%(mode)s): untaxed total "
                    "%(old_untaxed)s → %(new_untaxed)s, total %(old_total)s → "
                    "%(new_total)s.",
                    mode=dict(
                        self._fields["mode"]._description_selection(self.env)
                    ).get(self.mode),
                    old_untaxed=format_amount(self.env, old_untaxed, currency),
                    new_untaxed=format_amount(self.env, order.amount_untaxed, currency),
                    old_total=format_amount(self.env, old_total, currency),
                    new_total=format_amount(self.env, order.amount_total, currency),
                ),
                subtype_xmlid="mail.mt_note",
            )
        return {"type": "ir.actions.act_window_close"}

    # ------------------------------------------------------------------
    # Business methods
    # ------------------------------------------------------------------
    def _get_simulated_order_lines(self):
        """Order lines whose price the simulation may change (hook)."""
        self.ensure_one()
        return self.order_id.order_line.filtered(
            lambda line: not line.display_type and not line.is_downpayment
        )

    def _get_simulated_base_lines(self):
        """Tax base lines of the order with the simulated prices and discounts."""
        self.ensure_one()
        base_lines = [
            line.order_line_id._prepare_base_line_for_taxes_computation(
                price_unit=line.price_unit, discount=line.discount
            )
            for line in self.line_ids
        ]
        others = (
            self.order_id.order_line.filtered(lambda line: not line.display_type)
            - self.line_ids.order_line_id
        )
        base_lines += [
            line._prepare_base_line_for_taxes_computation() for line in others
        ]
        return base_lines

    def _get_applied_extra_discount(self):
        """The uniform extra discount (in %) of the simulation; 0 when the
        input is invalid or prices are set per line."""
        self.ensure_one()
        if self.mode == "extra_discount":
            if 0.0 <= self.extra_discount <= 100.0:
                return self.extra_discount
        elif self.mode == "target_total":
            current = self.order_id.amount_untaxed
            if current > 0 and 0 < self.target_total <= current:
                return (1.0 - self.target_total / current) * 100.0
        return 0.0

    def _get_input_error(self):
        """A message saying why the simulation cannot be applied, or None."""
        self.ensure_one()
        order = self.order_id
        if order.state not in ("draft", "sent"):
            return self.env._(
                "Only quotations can be simulated: %(order)s is already confirmed "
                "or cancelled.",
                order=order.name,
            )
        if self.mode == "extra_discount" and not 0.0 <= self.extra_discount <= 100.0:
            return self.env._("The extra discount must be between 0 and 100 %.")
        if self.mode == "target_total":
            currency = self.currency_id
            if currency.compare_amounts(self.target_total, 0.0) <= 0:
                return self.env._("The target total must be greater than zero.")
            if currency.compare_amounts(self.target_total, order.amount_untaxed) > 0:
                return self.env._(
                    "The target total (%(target)s) cannot be above the current "
                    "untaxed total (%(current)s): the simulation only lowers prices.",
                    target=format_amount(self.env, self.target_total, currency),
                    current=format_amount(self.env, order.amount_untaxed, currency),
                )
        for line in self.line_ids:
            product = line.order_line_id.product_id.display_name
            if not 0.0 <= line.discount <= 100.0:
                return self.env._(
                    "The discount of %(product)s must be between 0 and 100 %%.",
                    product=product,
                )
            if line.price_unit < 0.0:
                return self.env._(
                    "The unit price of %(product)s cannot be negative.",
                    product=product,
                )
        return None

    def _get_approval_summary(self, rules):
        if not rules:
            return self.env._("No approval needed.")
        summary = [self.env._("Approval needed:")]
        for rule in rules:
            approvers = rule.approver_user_ids.mapped("name")
            if rule.approver_group_id:
                approvers.append(
                    self.env._(
                        "members of %(group)s", group=rule.approver_group_id.full_name
                    )
                )
            summary.append(
                self.env._(
                    "%(rule)s (level %(level)s): %(approvers)s",
                    rule=rule.name,
                    level=rule.level,
                    approvers=", ".join(approvers),
                )
            )
        return "\n".join(summary)
