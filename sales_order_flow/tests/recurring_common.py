from datetime import date

from odoo import Command

from .common import SaleFlowCommon


class RecurringCommon(SaleFlowCommon):
    """Plans, a subscription service and recurring order factories."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Plan = cls.env["sale.flow.recurrence"]
        cls.monthly = Plan.create(
            {"name": "Monthly", "interval_type": "month", "fixed_day": 1}
        )
        cls.quarterly_arrears = Plan.create(
            {
                "name": "Quarterly in arrears",
                "interval_number": 3,
                "interval_type": "month",
                "invoicing_mode": "arrears",
                "fixed_day": 1,
            }
        )
        cls.subscription = cls.env["product.product"].create(
            {
                "name": "Flow Hosting",
                "type": "service",
                "invoice_policy": "order",
                "list_price": 100.0,
                "standard_price": 30.0,
                "taxes_id": [Command.clear()],
                "flow_recurrence_id": cls.monthly.id,
            }
        )

    def _recurring_order(self, start, lines=((100.0, None),), partner=None, **values):
        """Confirmed recurring order starting on ``start``; ``lines``:
        (price, plan or None for the product's)."""
        line_values = []
        for price, plan in lines:
            vals = {
                "product_id": self.subscription.id,
                "product_uom_qty": 1.0,
                "price_unit": price,
            }
            if plan:
                vals["flow_recurrence_id"] = plan.id
            line_values.append(Command.create(vals))
        order = (
            self.env["sale.order"]
            .with_user(self.salesman)
            .create(
                {
                    "partner_id": (partner or self.customer).id,
                    "user_id": self.salesman.id,
                    "team_id": self.team.id,
                    "flow_recurrence_date_start": start,
                    "order_line": line_values,
                    **values,
                }
            )
        )
        order.action_confirm()
        return order.with_env(self.env)

    def _run(self, day):
        """The daily cron, as the superuser, on ``day``."""
        before = self.env["account.move"].search([])
        self.env["sale.order"]._cron_flow_recurring_invoice(date=day)
        return self.env["account.move"].search([]) - before

    @staticmethod
    def d(text):
        return date.fromisoformat(text)
