from odoo.tests import HttpCase, tagged

from .commission_common import SaleFlowCommissionCommon


@tagged("post_install", "-at_install")
class TestCommissionPortal(HttpCase, SaleFlowCommissionCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the portal user works for the agent company
        cls.portal_agent.partner_id.parent_id = cls.agent
        customer_b = cls.env["res.partner"].create({"name": "Beta's Customer"})
        customer_b.flow_commission_assignment_ids = [
            (0, 0, {"agent_id": cls.agent_b.id, "plan_id": cls.plan.id})
        ]
        cls.invoice_a = cls._invoice([(cls.product, 2, 100.0)])
        cls.invoice_b = cls._invoice([(cls.product, 3, 100.0)], partner=customer_b)
        settlements = cls._settle(agents=cls.agent | cls.agent_b)
        cls.settlement_a = settlements.filtered(lambda s: s.agent_id == cls.agent)
        cls.settlement_b = settlements - cls.settlement_a

    def test_portal_agent_sees_own_commissions(self):
        self.authenticate("flow_portal_agent", "flow_portal_agent")
        response = self.url_open("/my/commissions")
        self.assertEqual(response.status_code, 200)
        self.assertIn(self.settlement_a.name, response.text)
        self.assertIn(self.invoice_a.name, response.text)
        self.assertNotIn(self.settlement_b.name, response.text)
        self.assertNotIn(self.invoice_b.name, response.text)

    def test_portal_page_breadcrumb_and_phone_layout(self):
        self.authenticate("flow_portal_agent", "flow_portal_agent")
        response = self.url_open("/my/commissions")
        self.assertRegex(
            response.text,
            r'<li class="breadcrumb-item active">\s*Commissions\s*</li>',
        )
        # secondary columns are hidden on phones, their values stacked under
        # the invoice
        self.assertIn("o_flow_commission_compact", response.text)
        self.assertIn('class="d-none d-md-table-cell">Customer', response.text)

    def test_portal_agent_reads_own_statement_only(self):
        self.authenticate("flow_portal_agent", "flow_portal_agent")
        own = self.url_open(
            f"/my/commissions/settlement/{self.settlement_a.id}?report_type=html"
        )
        self.assertEqual(own.status_code, 200)
        self.assertIn(self.settlement_a.name, own.text)
        other = self.url_open(
            f"/my/commissions/settlement/{self.settlement_b.id}?report_type=html"
        )
        self.assertNotIn(self.settlement_b.name, other.text)
        self.assertTrue(other.url.endswith("/my"), other.url)

    def test_portal_agent_record_rules(self):
        Line = self.env["sale.flow.commission.line"].with_user(self.portal_agent)
        self.assertEqual(
            Line.search([]).agent_id, self.agent, "only its own commissions"
        )
        Settlement = self.env["sale.flow.commission.settlement"]
        self.assertEqual(
            Settlement.with_user(self.portal_agent).search([]), self.settlement_a
        )

    def test_anonymous_is_sent_to_login(self):
        response = self.url_open("/my/commissions")
        self.assertIn("/web/login", response.url)
