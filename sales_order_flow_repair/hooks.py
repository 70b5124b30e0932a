from odoo.tools import SQL

REPAIR_ACTIVITY = "sales_order_flow_repair.mail_activity_type_sale_flow_return_repair"
REPAIR_CANCELLED_ACTIVITY = (
    "sales_order_flow_repair.mail_activity_type_sale_flow_return_repair_cancelled"
)
# The bridge's (demo) records in the returns' and other apps' models: returns
# made later may use the reason, the demo return and order are documents.
# They stay without the bridge; only their external ids go.
KEPT_MODELS = ("sale.order",)


def uninstall_hook(env):
    """Prepare Odoo's removal of the bridge's data.

    The repair orders stay with the Repair app, and the open activities of
    the bridge's types (on repair orders and returns) are handed over to
    Odoo's To-Do type: a type cannot be deleted while activities use it.
    Records of the returns' models (the demo reason, which other returns may
    name, the demo return) and the demo order stay as well, without their
    external ids; a repair line becomes a return without refund (the
    operation's ``ondelete``). Otherwise the uninstall would log an ERROR per
    record still in use.
    """
    activity_types = env["mail.activity.type"].browse(
        [
            activity_type.id
            for xmlid in (REPAIR_ACTIVITY, REPAIR_CANCELLED_ACTIVITY)
            if (activity_type := env.ref(xmlid, raise_if_not_found=False))
        ]
    )
    todo = env.ref("mail.mail_activity_data_todo", raise_if_not_found=False)
    if activity_types and todo:
        env["mail.activity"].with_context(active_test=False).search(
            [("activity_type_id", "in", activity_types.ids)]
        ).write({"activity_type_id": todo.id})
    env.cr.execute(
        SQL(
            """
            DELETE FROM ir_model_data
             WHERE module = %s
               AND (model LIKE %s OR model = ANY(%s))
            """,
            "sales_order_flow_repair",
            "sale.flow.%",
            list(KEPT_MODELS),
        )
    )
