{
    "name": "Sales Order Flow - Repairs",
    "version": "18.0.1.0.0",
    "category": "Sales/Sales",
    "summary": "Return lines repaired through Odoo Repairs, then sent back",
    "author": "Sales Order Flow Engineers",
    "website": "https://github.com/sales-order-flow/sales_order_flow",
    "maintainers": ["sales-order-flow"],
    "license": "LGPL-3",
    "development_status": "Beta",
    # installs itself where both the returns (sales_order_flow) and the
    # Repair app are installed
    "depends": ["sales_order_flow", "repair"],
    "data": [
        "data/mail_activity_type_data.xml",
        "views/sale_flow_return_views.xml",
        "views/repair_order_views.xml",
    ],
    "demo": [
        "demo/sale_flow_return_repair_demo.xml",
    ],
    # keeps the repair team's open activities when the bridge goes (hooks.py)
    "uninstall_hook": "uninstall_hook",
    "auto_install": True,
    "installable": True,
    "application": False,
}
