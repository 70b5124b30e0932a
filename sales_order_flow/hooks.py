from odoo.tools import SQL

# Records the addon creates in other apps' models (demo customers, agents,
# portal logins, tags, products, the returns quarantine). Documents that stay
# after an uninstall (invoices, vendor bills, orders, stock moves) may use
# them, so they are kept: only their external ids go.
KEPT_MODELS = (
    "res.users",
    "res.partner",
    "res.partner.category",
    "product.product",
    "product.template",
    "stock.location",
)


def uninstall_hook(env):
    """Prepare Odoo's removal of the addon's data.

    Odoo deletes every record that has an external id of the addon. Records of
    the addon's own models vanish with their tables anyway; deleting them one by
    one first fails (and logs an ERROR) wherever other rows of those tables
    still point to them, e.g. a rebate program and its settlements. Records in
    other apps' models that documents still use (a commission agent on a vendor
    bill, a rebate product on a credit note) cannot be deleted at all. In both
    cases only the external ids are removed, so the uninstall is clean.
    """
    env.cr.execute(
        SQL(
            """
            DELETE FROM ir_model_data
             WHERE module = %s
               AND (model LIKE %s OR model = ANY(%s))
            """,
            "sales_order_flow",
            "sale.flow.%",
            list(KEPT_MODELS),
        )
    )
