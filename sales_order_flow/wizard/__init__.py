from . import sale_flow_approval_reject
from . import sale_flow_price_simulation
from . import sale_flow_price_simulation_line
# discounts (issue 3)
# rebates (issue 3)
# commissions (issue 5)
