from odoo import api, models
from odoo.exceptions import ValidationError


class AccountAccount(models.Model):
    _inherit = "account.account"

    @api.constrains("deprecated")
    def _check_flow_rebate_programs(self):
        """An account an active rebate program books on cannot be deprecated:
        its scheduled settlements and accruals would fail."""
        deprecated = self.filtered("deprecated")
        if not deprecated:
            return
        # sudo: every program using the account counts, whatever the user may
        # read (only names are shown)
        program = (
            self.env["sale.flow.rebate.program"]
            .sudo()
            .search(
                [
                    ("state", "=", "active"),
                    "|",
                    "|",
                    ("account_id", "in", deprecated.ids),
                    ("accrual_expense_account_id", "in", deprecated.ids),
                    ("accrual_liability_account_id", "in", deprecated.ids),
                ],
                limit=1,
            )
        )
        if program:
            raise ValidationError(
                self.env._(
                    "This account is used by the active rebate program %(name)s: "
                    "choose another account on the program before deprecating it.",
                    name=program.name,
                )
            )
