from . import sale_flow_approval_reject
from . import sale_flow_price_simulation
from . import sale_flow_price_simulation_line
