from odoo import models


class CrmTeam(models.Model):
    _inherit = "crm.team"
