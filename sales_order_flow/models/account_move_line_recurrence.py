"""Period of a recurring invoice line (issue 13).

Odoo 18 Community has no deferred dates on journal items: the period is
kept here (and in the line's label).
"""

from odoo import fields, models


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    flow_period_start = fields.Date(string="Period Start", copy=False)
    flow_period_end = fields.Date(string="Period End", copy=False)
