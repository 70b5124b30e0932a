"""Expected commission of a quotation (sale.flow.commission.*)."""

from collections import defaultdict

from odoo import api, fields, models


class SaleOrder(models.Model):
    _inherit = "sale.order"

    # ------------------------------------------------------------------
    # Commissions (issue 5): what the quotation would bring its agents
    # ------------------------------------------------------------------
    flow_commission_currency_id = fields.Many2one(
        related="company_id.currency_id", string="Commission Currency"
    )
    flow_commission_amount = fields.Monetary(
        string="Expected Commission",
        currency_field="flow_commission_currency_id",
        compute="_compute_flow_commission_amount",
        help="Commissions the order would bring its agents once invoiced as it "
        "is, by today's plans and volumes, in the company's currency. "
        "Salespeople see only their own commission; Sales Flow administrators "
        "and accountants see every agent's.",
    )

    @api.depends(
        "order_line.price_subtotal",
        "order_line.product_id",
        "order_line.product_uom_qty",
        "order_line.discount",
        "order_line.purchase_price",
        "order_line.flow_agreement_id",
        "partner_id",
        "team_id",
        "user_id",
        "date_order",
    )
    @api.depends_context("uid")
    def _compute_flow_commission_amount(self):
        infos = []
        owners = []
        today = fields.Date.context_today(self)
        for order in self:
            company = order.company_id or self.env.company
            # one rate per order, not one conversion per line
            rate = (
                1.0
                if order.currency_id == company.currency_id or not order.currency_id
                else order.currency_id._get_conversion_rate(
                    order.currency_id,
                    company.currency_id,
                    company,
                    order.date_order or today,
                )
            )
            for line in order.order_line:
                if line.display_type or not line.product_id:
                    continue
                infos.append(
                    {
                        "company_id": company.id,
                        "date": today,
                        "partner_id": order.partner_id.commercial_partner_id.id,
                        "team_id": order.team_id.id,
                        "user_id": order.user_id.id,
                        "product_id": line.product_id.id,
                        "agreement_id": line.flow_agreement_id.id,
                        # per-unit rates count units of the product's unit
                        "quantity": line.product_uom._compute_quantity(
                            line.product_uom_qty,
                            line.product_id.uom_id,
                            round=False,
                        ),
                        "discount": line.discount,
                        "amount": line.price_subtotal * rate,
                        "cost": line.purchase_price * line.product_uom_qty * rate,
                    }
                )
                owners.append(order)
        totals = defaultdict(float)
        # the agent whose commission the user may see; False: every agent's
        own_agent_id = self._flow_commission_visible_agent()
        if infos:
            # sudo: salespeople see what they would earn; the engine reads plans
            # and the agents' volumes, which they cannot all read
            results = (
                self.env["sale.flow.commission.plan"]
                .sudo()
                ._flow_compute_commissions(infos)
            )
            for order, commissions in zip(owners, results, strict=True):
                totals[order] += sum(
                    c["amount"]
                    for c in commissions
                    if own_agent_id is False or c["agent_id"] == own_agent_id
                )
        for order in self:
            order.flow_commission_amount = totals[order]

    @api.model
    def _flow_commission_visible_agent(self):
        """Whose expected commission the current user sees: ``False`` for every
        agent's (those who read every commission line: Sales Flow
        administrators, sales managers, accountants), else the id of the
        user's own partner (a salesperson sees what they would earn).
        """
        user = self.env.user
        if (
            self.env.su
            or user.has_group("sales_order_flow.group_sale_flow_admin")
            or user.has_group("account.group_account_invoice")
        ):
            return False
        return user.partner_id.id
