from contextlib import contextmanager

from odoo import Command
from odoo.tests import TransactionCase, new_test_user, tagged

# One user per role, as cls.<key> with login flow_<key>: (name, groups).
# Business steps run with_user() the role that does them; the superuser only
# sets data up.
TEST_USERS = {
    # salesperson, own documents only
    "salesman": ("Sam Salesman", "sales_team.group_sale_salesman"),
    "salesman_2": ("Sue Salesman", "sales_team.group_sale_salesman"),
    "approver": ("Alice Approver", "sales_order_flow.group_sale_flow_approver"),
    "approver_2": ("Bob Director", "sales_order_flow.group_sale_flow_approver"),
    "manager": ("Mia Manager", "sales_team.group_sale_manager"),
    "accountant": ("Ada Accountant", "account.group_account_invoice"),
    "stock_user": ("Stan Stock", "stock.group_stock_user"),
}


@tagged("post_install", "-at_install")
class SaleFlowCommon(TransactionCase):
    """Shared fixtures of the sales_order_flow tests.

    One user per role, customers with and without PO requirement, goods and a
    service with a cost (so margins are known), and order factories. Nothing
    here relies on demo data.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        # Demo approval rules must not decide what the tests see.
        cls.env["sale.flow.approval.rule"].search([]).active = False
        # Nor demo discount rules (issue 3) what the lines get.
        cls.env["sale.flow.discount.rule"].search([]).active = False
        cls.company = cls.env.company
        cls.currency = cls.company.currency_id
        cls.team = cls.env["crm.team"].create({"name": "Flow Team"})
        for attribute, (name, groups) in TEST_USERS.items():
            user = new_test_user(
                cls.env, login=f"flow_{attribute}", name=name, groups=groups
            )
            setattr(cls, attribute, user)
        cls.customer = cls.env["res.partner"].create(
            {"name": "Flow Customer", "email": "customer@example.com"}
        )
        cls.customer_po = cls.env["res.partner"].create(
            {
                "name": "PO Customer",
                "email": "po@example.com",
                "is_company": True,
                "flow_po_required": True,
            }
        )
        cls.customer_po_contact = cls.env["res.partner"].create(
            {"name": "PO Contact", "parent_id": cls.customer_po.id}
        )
        # Portal roles (password = login): a contact of the PO customer, and
        # the contact of an agency (tests link its partner to their agent).
        cls.portal_customer = new_test_user(
            cls.env,
            login="flow_portal_customer",
            password="flow_portal_customer",
            name="Pia Portal",
            email="pia@example.com",
            groups="base.group_portal",
            partner_id=cls.customer_po_contact.id,
        )
        cls.portal_agent = new_test_user(
            cls.env,
            login="flow_portal_agent",
            password="flow_portal_agent",
            name="Alpha Contact",
            email="alpha.contact@example.com",
            groups="base.group_portal",
        )
        cls.product = cls.env["product.product"].create(
            {
                "name": "Flow Widget",
                "type": "consu",
                "list_price": 100.0,
                "standard_price": 60.0,
                "taxes_id": [Command.clear()],
            }
        )
        cls.service = cls.env["product.product"].create(
            {
                "name": "Flow Service",
                "type": "service",
                "list_price": 50.0,
                "standard_price": 20.0,
                "taxes_id": [Command.clear()],
            }
        )

    @contextmanager
    def _count_queries(self):
        """Count queries like assertQueryCount (flush before and after)."""
        result = {}
        self.env.flush_all()
        self.env.cr.flush()
        start = self.cr.sql_log_count
        yield result
        self.env.flush_all()
        self.env.cr.flush()
        result["count"] = self.cr.sql_log_count - start

    @classmethod
    def _create_order(cls, partner=None, lines=1, product=None, qty=1.0, **values):
        """Create a quotation with ``lines`` lines of ``product``.

        Extra keyword arguments are order values; ``discount`` and
        ``price_unit`` go to every line.
        """
        line_values = {
            key: values.pop(key) for key in ("discount", "price_unit") if key in values
        }
        product = product or cls.product
        return cls.env["sale.order"].create(
            {
                "partner_id": (partner or cls.customer).id,
                "user_id": values.pop("user_id", cls.salesman.id),
                "team_id": values.pop("team_id", cls.team.id),
                "order_line": [
                    Command.create(
                        {
                            "product_id": product.id,
                            "product_uom_qty": qty,
                            **line_values,
                        }
                    )
                    for _i in range(lines)
                ],
                **values,
            }
        )
