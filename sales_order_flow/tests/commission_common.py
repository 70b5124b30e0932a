from odoo import Command, fields
from odoo.tests import tagged

from .common import SaleFlowCommon


@tagged("post_install", "-at_install")
class SaleFlowCommissionCommon(SaleFlowCommon):
    """Agents, a 10% plan and factories for invoices, payments and settlements."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.plan = cls._make_plan([{"rate": 10.0}], name="Ten Percent")
        cls.agent = cls.env["res.partner"].create(
            {
                "name": "Agent Alpha",
                "is_company": True,
                "email": "alpha@example.com",
                "flow_is_commission_agent": True,
                "flow_agent_type": "external",
                "flow_commission_plan_id": cls.plan.id,
            }
        )
        cls.agent_b = cls.env["res.partner"].create(
            {
                "name": "Agent Beta",
                "is_company": True,
                "email": "beta@example.com",
                "flow_is_commission_agent": True,
                "flow_agent_type": "external",
                "flow_commission_plan_id": cls.plan.id,
            }
        )
        cls.customer.flow_commission_assignment_ids = [
            Command.create({"agent_id": cls.agent.id, "plan_id": cls.plan.id})
        ]
        cls.purchase_journal = cls.env["account.journal"].search(
            [
                *cls.env["account.journal"]._check_company_domain(cls.company),
                ("type", "=", "purchase"),
            ],
            limit=1,
        )

    @classmethod
    def _make_plan(cls, rules, **values):
        return cls.env["sale.flow.commission.plan"].create(
            {
                "name": values.pop("name", "Plan"),
                **values,
                "rule_ids": [Command.create(rule) for rule in rules],
            }
        )

    @classmethod
    def _invoice(
        cls,
        lines,
        partner=None,
        move_type="out_invoice",
        currency=None,
        date="2024-01-15",
        user=None,
        team=None,
        post=True,
    ):
        """An invoice of ``lines``: (product, quantity, price[, discount]),
        made and posted by the accountant (returned in the accountant's env).
        """
        move = (
            cls.env["account.move"]
            .with_user(cls.accountant)
            .create(
                {
                    "move_type": move_type,
                    "partner_id": (partner or cls.customer).id,
                    "invoice_date": date,
                    "date": date,
                    "invoice_user_id": (user or cls.salesman).id,
                    "team_id": (team or cls.team).id,
                    "currency_id": (currency or cls.currency).id,
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "product_id": line[0].id,
                                "quantity": line[1],
                                "price_unit": line[2],
                                "discount": line[3] if len(line) > 3 else 0.0,
                                "tax_ids": [Command.clear()],
                            }
                        )
                        for line in lines
                    ],
                }
            )
        )
        if post:
            move.action_post()
        return move

    @classmethod
    def _pay(cls, invoice, amount, date="2024-01-20"):
        """The accountant registers a payment of the invoice."""
        return (
            cls.env["account.payment.register"]
            .with_user(cls.accountant)
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"amount": amount, "payment_date": date})
            ._create_payments()
        )

    @classmethod
    def _commissions(cls, moves, agent=None):
        domain = [("invoice_id", "in", moves.ids)]
        if agent:
            domain.append(("agent_id", "=", agent.id))
        return cls.env["sale.flow.commission.line"].search(domain, order="id")

    @classmethod
    def _settle(cls, agents=None, period_date="2024-01-31", **values):
        """The accountant settles the period (settlements in the accountant's
        env)."""
        wizard = (
            cls.env["sale.flow.commission.settle"]
            .with_user(cls.accountant)
            .create(
                {
                    "period_type": "month",
                    "period_date": fields.Date.to_date(period_date),
                    "agent_ids": [Command.set((agents or cls.agent).ids)],
                    "create_bills": False,
                    "journal_id": cls.purchase_journal.id,
                    **values,
                }
            )
        )
        action = wizard.action_settle()
        return wizard.env["sale.flow.commission.settlement"].search(action["domain"])
