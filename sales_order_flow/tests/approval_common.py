from .common import SaleFlowCommon


class ApprovalCommon(SaleFlowCommon):
    """Approval tests: quotations are created by the salesperson."""

    @classmethod
    def _create_order(cls, *args, user=None, **kwargs):
        """Create the quotation as ``user`` (the salesperson by default); it is
        returned in the set-up environment, for assertions."""
        setup_env = cls.env
        cls.env = setup_env(user=user or cls.salesman)
        try:
            return super()._create_order(*args, **kwargs).with_env(setup_env)
        finally:
            cls.env = setup_env
