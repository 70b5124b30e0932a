from odoo import fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    # ---- returns (issue 12) ----
    flow_return_policy = fields.Boolean(
        string="Own Return Policy",
        help="This customer's return window and auto-approval amount replace "
        "those of the product category and of the company.",
    )
    flow_return_window_days = fields.Integer(string="Return Window (days)")
    flow_return_auto_approve_amount = fields.Float(string="Auto-Approve Returns Up To")
    flow_return_count = fields.Integer(
        string="Returns", compute="_compute_flow_return_count"
    )

    def _commercial_fields(self):
        return [
            *super()._commercial_fields(),
            "flow_return_policy",
            "flow_return_window_days",
            "flow_return_auto_approve_amount",
        ]

    def _compute_flow_return_count(self):
        groups = self.env["sale.flow.return"]._read_group(
            [("commercial_partner_id", "in", self.commercial_partner_id.ids)],
            ["commercial_partner_id"],
            ["__count"],
        )
        counts = {partner.id: count for partner, count in groups}
        for partner in self:
            partner.flow_return_count = counts.get(partner.commercial_partner_id.id, 0)

    def action_flow_view_returns(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "sales_order_flow.sale_flow_return_action"
        )
        action["domain"] = [
            ("commercial_partner_id", "=", self.commercial_partner_id.id)
        ]
        action["context"] = {"default_partner_id": self.id}
        return action
