{
    "name": "Sales Order Flow",
    "version": "18.0.1.0.0",
    "category": "Sales/Sales",
    "summary": "B2B quote-to-order flow: approvals, customer PO, validity, "
    "revisions, price simulation, mass quotations, delivery commitments",
    "author": "Sales Order Flow Engineers",
    "website": "https://github.com/sales-order-flow/sales_order_flow",
    "maintainers": ["sales-order-flow"],
    "license": "LGPL-3",
    "development_status": "Beta",
    # sale_management: quotation templates (mass quotations from a template);
    # sale_margin: margin conditions of approval rules and price simulation;
    # sale_stock: deliveries, so committed dates reach pickings and "To deliver"
    # follows real delivered quantities.
    "depends": ["sale_management", "sale_margin", "sale_stock", "portal"],
    "data": [
        "security/res_groups.xml",
        "security/ir.model.access.csv",
        "security/ir_rules.xml",
        "data/ir_cron_data.xml",
        "data/mail_activity_type_data.xml",
        "reports/sale_order_reports.xml",
        "reports/sale_order_templates.xml",
        "wizard/sale_flow_approval_reject_views.xml",
        "wizard/sale_flow_price_simulation_views.xml",
        # sale.order views first: the other views and menus reference them
        "views/sale_order_views.xml",
        "views/sale_flow_approval_rule_views.xml",
        "views/sale_flow_mass_quotation_views.xml",
        "views/sale_order_line_views.xml",
        "views/res_partner_views.xml",
        "views/res_config_settings_views.xml",
        "views/account_move_views.xml",
        "views/sale_portal_templates.xml",
        # discounts (issue 3): data, reports, wizards, views of the feature
        "wizard/sale_flow_product_suggestion_views.xml",
        "views/sale_flow_discount_rule_views.xml",
        # rebates (issue 3): data, reports, wizards, views of the feature
        "data/sale_flow_rebate_data.xml",
        "reports/sale_flow_rebate_settlement_reports.xml",
        "reports/sale_flow_rebate_settlement_templates.xml",
        "wizard/sale_flow_rebate_program_settle_views.xml",
        "views/sale_flow_rebate_program_views.xml",
        "views/sale_flow_rebate_settlement_views.xml",
        "views/res_partner_rebate_views.xml",
        # commissions (issue 5): data, reports, wizards, views of the feature
        "data/sale_flow_commission_data.xml",
        "reports/sale_flow_commission_settlement_reports.xml",
        "reports/sale_flow_commission_settlement_templates.xml",
        "views/sale_flow_commission_plan_views.xml",
        "views/sale_flow_commission_line_views.xml",
        "views/sale_flow_commission_settlement_views.xml",
        "wizard/sale_flow_commission_settle_views.xml",
        "views/sale_flow_commission_portal_templates.xml",
        # agreements (issue 4): data, reports, wizards, views of the feature
        "data/sale_flow_agreement_data.xml",
        "reports/sale_flow_agreement_reports.xml",
        "reports/sale_flow_agreement_templates.xml",
        "wizard/sale_flow_agreement_calloff_views.xml",
        "views/sale_flow_agreement_views.xml",
        "views/sale_flow_agreement_portal_templates.xml",
        # recurring invoices and automatic workflow (issue 13): data, views, portal
        "data/sale_flow_recurrence_data.xml",
        "views/sale_flow_recurrence_views.xml",
        "views/sale_flow_workflow_views.xml",
        "views/sale_flow_recurrence_portal_templates.xml",
        # returns (issue 12): data, views of the feature
        "data/sale_flow_return_data.xml",
        "reports/sale_flow_return_reports.xml",
        "reports/sale_flow_return_templates.xml",
        "views/sale_flow_return_views.xml",
        "views/sale_flow_return_portal_templates.xml",
        # menus last: they reference actions of the files above
        "views/sales_order_flow_menus.xml",
    ],
    "demo": [
        "demo/res_partner_demo.xml",
        "demo/sale_flow_approval_rule_demo.xml",
        "demo/sale_order_demo.xml",
        # discounts (issue 3) demo
        "demo/sale_flow_discount_rule_demo.xml",
        # rebates (issue 3) demo
        "demo/sale_flow_rebate_program_demo.xml",
        # agreements (issue 4) demo
        "demo/sale_flow_agreement_demo.xml",
        # commissions (issue 5) demo, after agreements: a rule names one
        "demo/sale_flow_commission_demo.xml",
        # portal logins of the demo customer and agency, after the agency
        "demo/res_users_demo.xml",
        # recurring invoices and automatic workflow (issue 13) demo
        "demo/sale_flow_recurrence_demo.xml",
        "demo/sale_flow_workflow_demo.xml",
        # returns (issue 12) demo
        "demo/sale_flow_return_demo.xml",
        # a lived-in history (issue 11): invoices, payments, settlements, last
        "demo/sale_flow_history_demo.xml",
    ],
    "assets": {
        "web.assets_backend": [
            "sales_order_flow/static/src/scss/*.scss",
        ],
        "web.assets_tests": [
            "sales_order_flow/static/tests/tours/**/*",
        ],
    },
    # keeps what documents still use when the addon is uninstalled (hooks.py)
    "uninstall_hook": "uninstall_hook",
    "installable": True,
    "application": False,
}
