from odoo import fields, models


class SaleFlowLock(models.Model):
    """Technical: one row per (scope, record) the addon serializes work on
    (see ``utils.lock_keys_for_retry``), instead of locking the record's own
    row (a customer's) and blocking unrelated writes on it."""

    _name = "sale.flow.lock"
    _description = "Sales Flow Lock"
    _log_access = False

    scope = fields.Char(required=True)
    res_id = fields.Integer(string="Record", required=True)
    version = fields.Integer(default=1)

    _sql_constraints = [
        ("scope_res_unique", "UNIQUE(scope, res_id)", "One lock per record."),
    ]
