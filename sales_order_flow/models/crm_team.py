from odoo import fields, models


class CrmTeam(models.Model):
    _inherit = "crm.team"

    # ---- commissions (issue 5) ----
    flow_commission_assignment_ids = fields.One2many(
        "sale.flow.commission.assignment",
        "team_id",
        string="Commission Agents",
        help="Agents paid on the team's invoices when the customer names none.",
    )
