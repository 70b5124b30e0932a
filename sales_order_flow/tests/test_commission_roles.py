from odoo import Command, fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, HttpCase, tagged

from .commission_common import SaleFlowCommissionCommon


@tagged("post_install", "-at_install")
class TestCommissionRoles(SaleFlowCommissionCommon):
    """Who sees and edits commissions, who settles them (issue 9, points 2,
    13, 14 and 15)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # as real users have it (the default user template): salespeople
        # create and edit contacts
        for user in (cls.salesman, cls.salesman_2):
            user.groups_id += cls.env.ref("base.group_partner_manager")
        cls.own_plan = cls._make_plan([{"rate": 5.0}], name="Own Five")
        cls.salesman.partner_id.write(
            {
                "flow_is_commission_agent": True,
                "flow_agent_type": "internal",
                "flow_commission_plan_id": cls.own_plan.id,
            }
        )
        # the customer pays two agents: Agent Alpha (10 %) and the salesperson
        cls.customer.flow_commission_assignment_ids = [
            Command.create({"agent_id": cls.salesman.partner_id.id})
        ]

    # ------------------------------------------------------------------
    # Point 2: who sees the expected commission, who edits agents
    # ------------------------------------------------------------------
    def test_salesperson_sees_only_own_expected_commission(self):
        order = self._create_order(qty=2)
        # 200 invoiced: 20 for Agent Alpha, 10 for the salesperson
        self.assertEqual(order.with_user(self.salesman).flow_commission_amount, 10.0)
        self.assertEqual(order.with_user(self.manager).flow_commission_amount, 30.0)
        self.assertEqual(order.with_user(self.accountant).flow_commission_amount, 30.0)
        # another salesperson reading the order sees none of it
        order.user_id = self.salesman_2
        self.assertEqual(order.with_user(self.salesman_2).flow_commission_amount, 0.0)
        # in the form too (same record, another user: the cache follows the uid)
        with Form(order.with_user(self.manager)) as form:
            self.assertEqual(form.flow_commission_amount, 30.0)

    def test_salesperson_cannot_make_themselves_agent(self):
        own = self.salesman_2.partner_id.with_user(self.salesman_2)
        for vals in (
            {"flow_is_commission_agent": True},
            {"flow_agent_type": "internal"},
            {"flow_commission_plan_id": self.plan.id},
        ):
            with self.assertRaises(AccessError) as caught:
                own.write(vals)
            self.assertIn("Sales Flow administrators", str(caught.exception))
        self.assertFalse(self.salesman_2.partner_id.flow_is_commission_agent)
        # an agent salesperson cannot move themselves to a richer plan either
        with self.assertRaises(AccessError):
            self.salesman.partner_id.with_user(self.salesman).write(
                {"flow_commission_plan_id": self.plan.id}
            )
        self.assertEqual(
            self.salesman.partner_id.flow_commission_plan_id, self.own_plan
        )
        # nor make themselves an agent of a customer's invoices
        customer = self.customer.with_user(self.salesman_2)
        with self.assertRaises(AccessError):
            customer.write(
                {
                    "flow_commission_assignment_ids": [
                        Command.create({"agent_id": self.salesman_2.partner_id.id})
                    ]
                }
            )
        # nor create an agent, even through context defaults (RPC callers
        # choose their context)
        Partner = self.env["res.partner"].with_user(self.salesman_2)
        with self.assertRaises(AccessError):
            Partner.create({"name": "My Agency", "flow_is_commission_agent": True})
        with self.assertRaises(AccessError):
            Partner.with_context(default_flow_is_commission_agent=True).create(
                {"name": "My Agency"}
            )
        # an ordinary contact is fine, and so is saving unchanged agent values
        contact = Partner.create({"name": "New Contact"})
        self.assertFalse(contact.flow_is_commission_agent)
        own.write({"flow_is_commission_agent": False, "phone": "123"})
        self.assertFalse(own.flow_can_manage_commission_agents)
        # the Sales Flow administrator (a sales manager) may
        admin_view = self.salesman_2.partner_id.with_user(self.manager)
        self.assertTrue(admin_view.flow_can_manage_commission_agents)
        admin_view.write(
            {"flow_is_commission_agent": True, "flow_commission_plan_id": self.plan.id}
        )
        self.assertTrue(self.salesman_2.partner_id.flow_is_commission_agent)

    def test_partner_form_agent_fields_readonly_for_salespeople(self):
        with Form(self.env["res.partner"].with_user(self.salesman_2)) as form:
            form.name = "Readonly Agent Fields"
            self.assertTrue(form._get_modifier("flow_is_commission_agent", "readonly"))
        with Form(self.env["res.partner"].with_user(self.manager)) as form:
            form.name = "Editable Agent Fields"
            self.assertFalse(form._get_modifier("flow_is_commission_agent", "readonly"))
            form.flow_is_commission_agent = True
        self.assertTrue(form.record.flow_is_commission_agent)

    # ------------------------------------------------------------------
    # Point 13: per-unit commissions count units of the product
    # ------------------------------------------------------------------
    def test_per_unit_commission_in_product_unit(self):
        plan = self._make_plan([{"rate_type": "fixed", "fixed_amount": 1.0}])
        self.customer.flow_commission_assignment_ids = [
            Command.clear(),
            Command.create({"agent_id": self.agent.id, "plan_id": plan.id}),
        ]
        dozen = self.env.ref("uom.product_uom_dozen")
        invoice = self._invoice([(self.product, 2, 1200.0)], post=False)
        invoice.invoice_line_ids.product_uom_id = dozen
        invoice.invoice_line_ids.price_unit = 1200.0
        invoice.action_post()
        self.assertRecordValues(
            self._commissions(invoice), [{"rate": 1.0, "amount": 24.0}]
        )
        # the quotation's estimate counts the same 24 units
        order = self._create_order(qty=2)
        order.order_line.product_uom = dozen
        self.assertEqual(order.with_user(self.manager).flow_commission_amount, 24.0)

    # ------------------------------------------------------------------
    # Point 14: accountants settle; others get a clear message
    # ------------------------------------------------------------------
    def test_accountant_settles_with_vendor_bills(self):
        invoice = self._invoice([(self.product, 3, 100.0)])
        self.assertEqual(invoice.env.user, self.accountant)
        Wizard = self.env["sale.flow.commission.settle"].with_user(self.accountant)
        # the wizard opens (its defaults read) and settles with bills
        with Form(Wizard) as form:
            form.period_type = "month"
            form.period_date = fields.Date.to_date("2024-01-31")
            form.create_bills = True
            self.assertEqual(form.journal_id, self.purchase_journal)
        wizard = form.record
        action = wizard.action_settle()
        settlements = wizard.env["sale.flow.commission.settlement"].search(
            action["domain"]
        )
        self.assertEqual(settlements.agent_id, self.agent | self.salesman.partner_id)
        external = settlements.filtered(lambda s: s.agent_id == self.agent)
        self.assertRecordValues(external, [{"state": "invoiced", "amount_total": 30.0}])
        internal = settlements - external
        self.assertRecordValues(
            internal, [{"state": "settled", "amount_total": 15.0, "invoice_id": False}]
        )
        bill = external.invoice_id
        bill.action_post()
        self.assertEqual(bill.state, "posted")
        # the accountant cancels an internal settlement: its lines are free
        self.assertIs(internal.action_cancel(), True)
        self.assertEqual(internal.state, "cancel")
        self.assertEqual(
            self._commissions(invoice, self.salesman.partner_id).state, "to_settle"
        )

    def test_accountant_settles_partly_paid_commissions(self):
        plan = self._make_plan([{"rate": 10.0}], payment_basis="paid")
        self.customer.flow_commission_assignment_ids.filtered(
            lambda a: a.agent_id == self.agent
        ).plan_id = plan
        invoice = self._invoice([(self.product, 10, 100.0)])
        self._pay(invoice, 400.0)
        settlement = self._settle()
        self.assertEqual(settlement.env.user, self.accountant)
        self.assertEqual(settlement.amount_total, 40.0)

    def test_create_bill_from_the_settlement_answers_an_action(self):
        self._invoice([(self.product, 2, 100.0)])
        settlement = self._settle()
        action = settlement.action_create_bill()
        self.assertEqual(action["res_model"], "account.move")
        self.assertEqual(action["res_id"], settlement.invoice_id.id)
        self.assertEqual(settlement.invoice_id.amount_total, 20.0)
        # nothing left to bill: still a value, not None
        self.assertIs(settlement.action_create_bill(), True)

    def test_sales_manager_is_told_accountants_settle(self):
        self._invoice([(self.product, 2, 100.0)])
        wizard = (
            self.env["sale.flow.commission.settle"]
            .with_user(self.manager)
            .create(
                {
                    "period_type": "month",
                    "period_date": "2024-01-31",
                    "create_bills": True,
                    "journal_id": self.purchase_journal.id,
                }
            )
        )
        with self.assertRaises(UserError) as caught:
            wizard.action_settle()
        self.assertIn("settled by accountants", str(caught.exception))
        self.assertNotIsInstance(caught.exception, AccessError)
        self.assertFalse(
            self.env["sale.flow.commission.settlement"].search(
                [("agent_id", "=", self.agent.id)]
            )
        )
        settlement = self._settle()
        for method in ("action_create_bill", "action_cancel"):
            with self.assertRaises(UserError):
                getattr(settlement.with_user(self.manager), method)()

    def test_settle_menus_visible_to_accountants(self):
        Menu = self.env["ir.ui.menu"]
        settle = self.env.ref("sales_order_flow.sale_flow_commission_settle_menu")
        account_settle = self.env.ref(
            "sales_order_flow.sale_flow_commission_settle_account_menu"
        )
        accountant_menus = Menu.with_user(self.accountant)._visible_menu_ids()
        for xmlid in (
            "sale_flow_commission_settle_account_menu",
            "sale_flow_commission_line_account_menu",
            "sale_flow_commission_settlement_account_menu",
        ):
            self.assertIn(
                self.env.ref(f"sales_order_flow.{xmlid}").id, accountant_menus
            )
        manager_menus = Menu.with_user(self.manager)._visible_menu_ids()
        self.assertNotIn(settle.id, manager_menus)
        self.assertNotIn(account_settle.id, manager_menus)
        # a sales manager who is also an accountant sees both
        self.manager.groups_id += self.env.ref("account.group_account_invoice")
        self.env.registry.clear_cache()
        both = Menu.with_user(self.manager)._visible_menu_ids()
        self.assertIn(settle.id, both)
        self.assertIn(account_settle.id, both)

    # ------------------------------------------------------------------
    # Point 15: a Python check before each database constraint
    # ------------------------------------------------------------------
    def test_bad_input_refused_before_the_database(self):
        Assignment = self.env["sale.flow.commission.assignment"].with_user(self.manager)
        for vals in (
            {"agent_id": self.agent.id},
            {
                "agent_id": self.agent.id,
                "partner_id": self.customer.id,
                "team_id": self.team.id,
            },
        ):
            with self.assertRaises(ValidationError):
                Assignment.create(vals)
        assignment = self.customer.flow_commission_assignment_ids[:1]
        with self.assertRaises(ValidationError):
            assignment.with_user(self.manager).write({"team_id": self.team.id})
        rule = self._make_plan(
            [
                {
                    "rate_type": "tiers",
                    "tier_ids": [
                        Command.create({"sequence": 1, "threshold": 0.0, "rate": 1.0}),
                        Command.create(
                            {"sequence": 2, "threshold": 100.0, "rate": 2.0}
                        ),
                    ],
                }
            ]
        ).rule_ids
        Tier = self.env["sale.flow.commission.tier"].with_user(self.manager)
        with self.assertRaises(ValidationError):
            Tier.create({"rule_id": rule.id, "threshold": 100.0, "rate": 3.0})
        with self.assertRaises(ValidationError):
            rule.tier_ids[0].with_user(self.manager).write({"threshold": 100.0})
        with self.assertRaises(ValidationError):
            rule.with_user(self.manager).write({"discount_threshold": 150.0})
        Target = self.env["sale.flow.commission.target"].with_user(self.manager)
        target_vals = {
            "agent_id": self.agent.id,
            "date_from": "2024-01-01",
            "date_to": "2024-01-31",
            "target_amount": 100.0,
        }
        for bad in ({"target_amount": -5.0}, {"date_to": "2023-12-31"}):
            with self.assertRaises(ValidationError):
                Target.create({**target_vals, **bad})
        target = Target.create(target_vals)
        with self.assertRaises(ValidationError):
            target.write({"target_amount": 0.0})
        settlement = self._settle() or self.env["sale.flow.commission.settlement"]
        Settlement = self.env["sale.flow.commission.settlement"].with_user(
            self.accountant
        )
        with self.assertRaises(ValidationError):
            Settlement.create(
                {
                    "agent_id": self.agent.id,
                    "period_type": "month",
                    "date_from": "2024-02-01",
                    "date_to": "2024-01-31",
                }
            )
        self.assertFalse(settlement)
        line = self._commissions(self._invoice([(self.product, 1, 100.0)]))[:1]
        with self.assertRaises(ValidationError):
            line.with_user(self.manager).write({"state": "settled"})
        with self.assertRaises(ValidationError):
            line.with_user(self.manager).write({"payable_fraction": 2.0})


@tagged("post_install", "-at_install")
class TestCommissionRoleFlow(HttpCase, SaleFlowCommissionCommon):
    """The documented commission flow end to end, each step by its role:
    the Sales Flow administrator names the agent, the salesperson sells, the
    accountant posts the invoice and settles, the portal agent reads their
    commissions and statement over HTTP."""

    def test_commission_flow_as_the_roles(self):
        # the agency's portal contact works for Agent Alpha
        self.portal_agent.partner_id.parent_id = self.agent
        customer = self.env["res.partner"].create(
            {"name": "Roles Customer", "is_company": True}
        )
        # 1. the Sales Flow administrator (sales manager) assigns the agent
        customer.with_user(self.manager).write(
            {
                "flow_commission_assignment_ids": [
                    Command.create({"agent_id": self.agent.id, "plan_id": self.plan.id})
                ]
            }
        )
        # 2. the salesperson quotes, confirms and invoices
        order = (
            self.env["sale.order"]
            .with_user(self.salesman)
            .create(
                {
                    "partner_id": customer.id,
                    "order_line": [
                        Command.create(
                            {
                                "product_id": self.service.id,
                                "product_uom_qty": 4,
                                "price_unit": 50.0,
                            }
                        )
                    ],
                }
            )
        )
        # not their commission: the salesperson sees none of the agent's
        self.assertEqual(order.flow_commission_amount, 0.0)
        order.action_confirm()
        wizard = (
            self.env["sale.advance.payment.inv"]
            .with_user(self.salesman)
            .with_context(active_model="sale.order", active_ids=order.ids)
            .create({"advance_payment_method": "delivered"})
        )
        wizard.create_invoices()
        # 3. the accountant posts the invoice: the agent earns 10 % of 200
        invoice = order.invoice_ids.with_user(self.accountant)
        invoice.invoice_date = fields.Date.today()
        invoice.action_post()
        line = self._commissions(invoice)
        self.assertRecordValues(line, [{"agent_id": self.agent.id, "amount": 20.0}])
        # 4. the accountant settles the month, with the vendor bill, and posts it
        settlement = self._settle(
            period_date=fields.Date.today().isoformat(), create_bills=True
        )
        self.assertEqual(settlement.env.user, self.accountant)
        self.assertEqual(settlement.amount_total, 20.0)
        settlement.invoice_id.action_post()
        self.assertEqual(settlement.invoice_id.state, "posted")
        # 5. the portal agent reads the commission and the statement
        self.authenticate("flow_portal_agent", "flow_portal_agent")
        listing = self.url_open("/my/commissions")
        self.assertEqual(listing.status_code, 200)
        self.assertIn(settlement.name, listing.text)
        self.assertIn(invoice.name, listing.text)
        statement = self.url_open(
            f"/my/commissions/settlement/{settlement.id}?report_type=html"
        )
        self.assertEqual(statement.status_code, 200)
        self.assertIn(settlement.name, statement.text)
