from . import controllers
from . import utils
from . import models
from . import wizard
