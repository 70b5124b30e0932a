from . import sale_flow_return_reason
from . import sale_flow_return_line
from . import sale_flow_return
from . import repair_order
from . import stock_move
