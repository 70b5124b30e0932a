from . import test_return_repair
