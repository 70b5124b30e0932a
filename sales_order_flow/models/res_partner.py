from dateutil.relativedelta import relativedelta
from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import format_date, html_sanitize
from odoo.tools.misc import formatLang


class ResPartner(models.Model):
    _inherit = "res.partner"

    flow_po_required = fields.Boolean(
        string="Purchase Order Required",
        help="Quotations of this customer cannot be confirmed, internally or on "
        "the portal, without the customer's purchase order reference.",
    )
    flow_quotation_validity_days = fields.Integer(
        string="Quotation Validity (days)",
        help="Days a quotation for this customer stays valid. Leave 0 to use the "
        "company's default.",
    )

    _sql_constraints = [
        (
            "flow_quotation_validity_days_positive",
            "CHECK(flow_quotation_validity_days >= 0)",
            "A customer's quotation validity cannot be negative.",
        ),
    ]

    def _commercial_fields(self):
        # Contacts follow their company: a PO requirement and the validity are
        # agreed with the customer, not with each of its contacts.
        return [
            *super()._commercial_fields(),
            "flow_po_required",
            "flow_quotation_validity_days",
        ]

    # ---- commissions (issue 5) ----
    flow_is_commission_agent = fields.Boolean(
        string="Commission Agent",
        help="Earns commissions on sales: an external agent paid by vendor bill, "
        "or a salesperson (the partner of an internal user).",
    )
    flow_agent_type = fields.Selection(
        [("external", "External Agent"), ("internal", "Salesperson")],
        string="Agent Type",
        default="external",
        help="External agents' settlements become vendor bills; salespeople's "
        "are paid outside (payroll).",
    )
    flow_commission_plan_id = fields.Many2one(
        "sale.flow.commission.plan",
        string="Own Commission Plan",
        help="Plan of this agent where a customer or team names the agent "
        "without a plan, and of a salesperson on their own sales.",
    )
    flow_commission_assignment_ids = fields.One2many(
        "sale.flow.commission.assignment",
        "partner_id",
        string="Commission Agents",
        help="Agents paid on this customer's invoices, each with its plan.",
    )
    flow_commission_line_count = fields.Integer(
        string="Commission Lines",
        compute="_compute_flow_commission_line_count",
        groups="sales_team.group_sale_salesman,account.group_account_invoice",
    )

    flow_can_manage_commission_agents = fields.Boolean(
        compute="_compute_flow_can_manage_commission_agents",
        # new records in the form get their value from the default
        default=lambda self: self._flow_may_manage_commission_agents(),
        help="Technical: whether the current user may edit the agent fields.",
    )

    @api.depends_context("uid")
    def _compute_flow_can_manage_commission_agents(self):
        self.flow_can_manage_commission_agents = (
            self._flow_may_manage_commission_agents()
        )

    # who is paid commissions, and on what plan: Sales Flow administrators only
    # (a salesperson must not make themselves an agent of their own invoices)
    _FLOW_COMMISSION_AGENT_FIELDS = (
        "flow_is_commission_agent",
        "flow_agent_type",
        "flow_commission_plan_id",
        "flow_commission_assignment_ids",
    )

    @api.model_create_multi
    def create(self, vals_list):
        if not self._flow_may_manage_commission_agents():
            # context defaults count too: RPC callers choose their context
            defaults = self.default_get(list(self._FLOW_COMMISSION_AGENT_FIELDS))
            for vals in vals_list:
                values = {**defaults, **vals}
                if (
                    values.get("flow_is_commission_agent")
                    or values.get("flow_commission_plan_id")
                    or values.get("flow_commission_assignment_ids")
                    or values.get("flow_agent_type", "external") != "external"
                ):
                    self._flow_raise_commission_agent_access()
        return super().create(vals_list)

    def write(self, vals):
        agent_vals = {
            name: vals[name]
            for name in self._FLOW_COMMISSION_AGENT_FIELDS
            if name in vals
        }
        if not agent_vals or self.env.su:
            return super().write(vals)
        if not self._flow_may_manage_commission_agents():
            if self._flow_commission_agent_fields_change(vals):
                self._flow_raise_commission_agent_access()
            return super().write(vals)
        if not any(
            user._is_internal() for user in self.user_ids if user != self.env.user
        ):
            return super().write(vals)
        # sudo: a Sales Flow administrator makes salespeople agents; Odoo lets
        # only user administrators write the partner of another internal user
        super(ResPartner, self.sudo()).write(agent_vals)
        rest = {name: value for name, value in vals.items() if name not in agent_vals}
        return super().write(rest) if rest else True

    @api.model
    def _flow_may_manage_commission_agents(self):
        return self.env.su or self.env.user.has_group(
            "sales_order_flow.group_sale_flow_admin"
        )

    def _flow_commission_agent_fields_change(self, vals):
        """Whether ``vals`` change who is an agent, of which type or plan, or
        the agents paid on these partners (a form saving unchanged values does
        not)."""
        if vals.get("flow_commission_assignment_ids"):
            return True
        for partner in self:
            if "flow_is_commission_agent" in vals and bool(
                vals["flow_is_commission_agent"]
            ) != (partner.flow_is_commission_agent):
                return True
            if "flow_agent_type" in vals and (vals["flow_agent_type"] or False) != (
                partner.flow_agent_type or False
            ):
                return True
            if "flow_commission_plan_id" in vals and (
                vals["flow_commission_plan_id"] or False
            ) != (partner.flow_commission_plan_id.id or False):
                return True
        return False

    @api.model
    def _flow_raise_commission_agent_access(self):
        raise AccessError(
            self.env._(
                "Only Sales Flow administrators decide who is a commission agent, "
                "of which type and on which plan, and which agents are paid on a "
                "customer's sales. Ask your sales manager to change it."
            )
        )

    @api.depends_context("uid")
    def _compute_flow_commission_line_count(self):
        counts = self.env["sale.flow.commission.line"]._flow_count_by(
            "agent_id", self, [("state", "!=", "cancelled")]
        )
        for partner in self:
            partner.flow_commission_line_count = counts.get(partner, 0)

    def action_flow_view_commission_lines(self):
        self.ensure_one()
        return self.env["sale.flow.commission.line"]._flow_action_for(
            [("agent_id", "=", self.id)]
        )

    # ---- rebates (issue 3) ----
    flow_rebate_progress_html = fields.Html(
        string="Rebate Progress",
        compute="_compute_flow_rebate_progress",
        sanitize=False,
        help="Where the customer stands in each active rebate program this period.",
    )
    flow_rebate_progress_text = fields.Text(
        string="Rebate Progress Summary", compute="_compute_flow_rebate_progress"
    )

    def _compute_flow_rebate_progress(self):
        progress = self._flow_get_rebate_progress()
        for partner in self:
            rows = progress.get(partner.commercial_partner_id.id, [])
            partner.flow_rebate_progress_text = "\n".join(
                self.env._(
                    "%(program)s: %(text)s",
                    program=row["program"].name,
                    text=row["text"],
                )
                for row in rows
            )
            # rendered by QWeb, which escapes every value
            partner.flow_rebate_progress_html = self.env["ir.qweb"]._render(
                "sales_order_flow.rebate_progress_table", {"rows": rows}
            )

    def _flow_get_rebate_progress(self, date=None):
        """Per commercial partner, its progress in each active rebate program
        for the current period: ``{partner_id: [dict(program, period_start,
        period_end, volume, tier, rate, rebate, next_tier, missing, text)]}``.
        One basis query per program, whatever the number of partners."""
        date = date or fields.Date.context_today(self)
        commercial = self.commercial_partner_id.filtered("id")
        if not commercial:
            return {}
        programs = self.env["sale.flow.rebate.program"].search(
            [
                ("state", "=", "active"),
                ("company_id", "in", self.env.companies.ids),
                ("date_start", "<=", date),
                "|",
                ("date_end", "=", False),
                ("date_end", ">=", date),
            ]
        )
        result = {}
        for program in programs:
            members = program._get_customer_ids() & set(commercial.ids)
            if not members:
                continue
            period_start, period_end = program._get_period(date)
            basis = program._get_basis(period_start, period_end, partner_ids=members)
            for partner_id in sorted(members):
                volume = basis.get(partner_id, {"amount": 0.0, "quantity": 0.0})
                values = program._compute_rebate(volume["amount"], volume["quantity"])
                result.setdefault(partner_id, []).append(
                    {
                        **values,
                        "program": program,
                        "period_start": period_start,
                        "period_end": period_end,
                        "period": program._get_period_label(period_start),
                        "volume_display": program._format_volume(values["volume"]),
                        "rebate_display": program.currency_id.format(values["rebate"]),
                        "text": program._get_progress_text(values),
                    }
                )
        return result

    # ---- discounts (issue 3) ----
    flow_favourite_products_html = fields.Html(
        string="Favourite Products",
        compute="_compute_flow_favourite_products_html",
        sanitize=True,
        help="Products this customer bought most on confirmed orders of the last "
        "months (see Settings > Sales > Purchase History).",
    )

    @api.depends_context("company")
    def _compute_flow_favourite_products_html(self):
        for partner in self:
            partner.flow_favourite_products_html = (
                partner._flow_render_favourite_products(
                    partner._flow_get_favourite_products()
                )
                if partner.id
                else False
            )

    def _flow_get_favourite_products(self, limit=20, company=None):
        """Products the customer (its commercial entity) ordered most on
        confirmed orders of the last ``company.flow_suggestion_months`` months.

        One grouped query, whatever the number of products.

        :return: list of dicts ``{product (record), qty (float, in the
            product's unit of measure: 2 dozen count 24 units), order_count
            (int), last_date (datetime)}``, most ordered first.
        """
        self.ensure_one()
        self.check_access("read")
        company = company or self.env.company
        months = company.flow_suggestion_months or 12
        date_from = fields.Datetime.now() - relativedelta(months=months)
        # sudo: the customer's purchase history (products, quantities, dates)
        # is the same for every salesperson selling to this customer, not only
        # their own orders; no order is shown, the partner's read is checked.
        groups = (
            self.env["sale.order.line"]
            .sudo()
            ._read_group(
                [
                    ("order_id.partner_id", "child_of", self.commercial_partner_id.id),
                    ("order_id.state", "=", "sale"),
                    ("order_id.date_order", ">=", date_from),
                    ("company_id", "=", company.id),
                    ("display_type", "=", False),
                    ("is_downpayment", "=", False),
                    ("flow_is_free_item", "=", False),
                    ("product_id", "!=", False),
                ],
                ["product_id", "product_uom"],
                ["product_uom_qty:sum", "order_id:array_agg"],
            )
        )
        # Dates of all the orders at once (dotted aggregates are not supported);
        # sudo: the history counts every salesperson's orders (checked above
        # that the user may read the customer)
        orders = (
            self.env["sale.order"]
            .sudo()
            .browse(
                {order_id for *_rest, order_ids in groups for order_id in order_ids}
            )
        )
        orders.fetch(["date_order"])
        by_product = {}
        for product, uom, qty, order_ids in groups:
            entry = by_product.setdefault(product, {"qty": 0.0, "order_ids": set()})
            if uom and product.uom_id and uom != product.uom_id:
                qty = uom._compute_quantity(qty, product.uom_id, round=False)
            entry["qty"] += qty
            entry["order_ids"].update(order_ids)
        result = [
            {
                "product": product.sudo(False),
                "qty": entry["qty"],
                "order_count": len(entry["order_ids"]),
                "last_date": max(
                    orders.browse(entry["order_ids"]).mapped("date_order")
                ),
            }
            for product, entry in by_product.items()
        ]
        result.sort(key=lambda r: (-r["order_count"], -r["qty"], r["product"].id))
        return result[:limit]

    def _flow_render_favourite_products(self, favourites):
        if not favourites:
            return Markup("<p>%s</p>") % self.env._(
                "No confirmed orders in the purchase history period."
            )
        header = Markup(
            "<tr><th>%s</th><th class='text-end'>%s</th>"
            "<th class='text-end'>%s</th><th>%s</th></tr>"
        ) % (
            self.env._("Product"),
            self.env._("Quantity"),
            self.env._("Times Ordered"),
            self.env._("Last Ordered"),
        )
        rows = Markup("").join(
            Markup(
                "<tr><td>%s</td><td class='text-end'>%s</td>"
                "<td class='text-end'>%s</td><td>%s</td></tr>"
            )
            % (
                fav["product"].display_name,
                formatLang(self.env, fav["qty"], dp="Product Unit of Measure"),
                fav["order_count"],
                format_date(self.env, fav["last_date"]),
            )
            for fav in favourites
        )
        return html_sanitize(
            Markup('<table class="table table-sm o_flow_favourite_products">')
            + Markup("<thead>%s</thead><tbody>%s</tbody></table>") % (header, rows)
        )
