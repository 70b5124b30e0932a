from . import portal
from . import portal_recurring

# returns (issue 12)
from . import portal_return
