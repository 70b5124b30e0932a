from . import portal

# returns (issue 12)
from . import portal_return
