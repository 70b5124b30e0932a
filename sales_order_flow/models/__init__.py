from . import sale_flow_lock
from . import res_company
from . import res_config_settings
from . import res_partner
from . import sale_flow_approval_rule
from . import sale_flow_order_approval
from . import sale_flow_mass_quotation
from . import sale_flow_mass_quotation_line
from . import sale_order
from . import sale_order_purchase_order
from . import sale_order_validity
from . import sale_order_approval
from . import sale_order_revision
from . import sale_order_line
from . import sale_order_line_delivery
from . import account_account
from . import account_move
from . import account_move_line
from . import crm_team
from . import product_template

# discounts (issue 3)
from . import sale_flow_discount_mixin
from . import sale_flow_discount_rule
from . import sale_order_discount
from . import sale_order_line_discount

# rebates (issue 3)
from . import sale_flow_rebate_program
from . import sale_flow_rebate_tier
from . import sale_flow_rebate_settlement
from . import sale_flow_rebate_settlement_line

# commissions (issue 5)
from . import sale_flow_commission_plan
from . import sale_flow_commission_rule
from . import sale_flow_commission_tier
from . import sale_flow_commission_assignment
from . import sale_flow_commission_line
from . import sale_flow_commission_settlement
from . import sale_flow_commission_target
from . import account_partial_reconcile
from . import sale_order_commission

# agreements (issue 4)
from . import sale_flow_agreement
from . import sale_flow_agreement_line
from . import sale_flow_agreement_schedule
from . import sale_order_agreement
from . import sale_order_line_agreement
from . import sale_order_line_install

# recurring invoices (issue 13)
from . import sale_flow_recurrence
from . import sale_flow_recurrence_period
from . import sale_flow_recurrence_pause
from . import product_template_recurrence
from . import account_move_line_recurrence
from . import sale_order_recurrence
from . import sale_order_line_recurrence
from . import res_company_recurrence
from . import res_config_settings_recurrence

# automatic workflow (issue 13)
from . import sale_flow_workflow
from . import sale_flow_workflow_step
from . import res_partner_workflow
from . import crm_team_workflow
from . import account_payment_term_workflow
from . import account_move_workflow
from . import stock_picking
from . import sale_order_workflow

# returns (issue 12)
from . import sale_flow_return_reason
from . import sale_flow_return
from . import sale_flow_return_line
from . import res_company_return
from . import res_partner_return
from . import product_category_return
from . import stock_move_return
from . import stock_picking_return
from . import account_move_return
from . import account_move_line_return
from . import sale_order_return
