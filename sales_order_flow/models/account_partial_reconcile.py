from odoo import api, models


class AccountPartialReconcile(models.Model):
    _inherit = "account.partial.reconcile"

    # ---- commissions (issue 5) ----
    # Payments and their reversals change the paid part of invoices, hence the
    # payable part of commissions on the "when paid" basis.
    @api.model_create_multi
    def create(self, vals_list):
        partials = super().create(vals_list)
        (
            partials.debit_move_id.move_id | partials.credit_move_id.move_id
        )._flow_commission_update_payable()
        return partials

    def unlink(self):
        moves = self.debit_move_id.move_id | self.credit_move_id.move_id
        res = super().unlink()
        moves.exists()._flow_commission_update_payable()
        return res
