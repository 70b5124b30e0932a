from . import sale_flow_approval_reject
from . import sale_flow_price_simulation
from . import sale_flow_price_simulation_line

# discounts (issue 3)
from . import sale_flow_product_suggestion
from . import sale_flow_product_suggestion_line

# rebates (issue 3)
from . import sale_flow_rebate_program_settle

# commissions (issue 5)
from . import sale_flow_commission_settle

# agreements (issue 4)
from . import sale_flow_agreement_calloff
from . import sale_flow_agreement_calloff_line
from . import sale_advance_payment_inv

# returns (issue 12)
from . import stock_return_picking_flow
from . import stock_return_picking_line_flow
