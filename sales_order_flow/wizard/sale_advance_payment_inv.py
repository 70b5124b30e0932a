from odoo import models


def _without_none(value):
    """``value`` with the ``None`` entries of its dicts left out (recursively):
    XML-RPC cannot carry ``None``, and a context default of ``None`` means no
    default."""
    if isinstance(value, dict):
        return {
            key: _without_none(item) for key, item in value.items() if item is not None
        }
    if isinstance(value, list | tuple):
        return type(value)(_without_none(item) for item in value)
    return value


class SaleAdvancePaymentInv(models.TransientModel):
    _inherit = "sale.advance.payment.inv"

    def create_invoices(self):
        # Odoo's answer (the invoices' action) holds a None payment term default
        # for orders without one: integrators calling it over XML-RPC got a
        # fault after the invoices were made.
        return _without_none(super().create_invoices())
