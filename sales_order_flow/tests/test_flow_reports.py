import html as html_lib
import re
from datetime import date

from lxml import html as lxml_html

from odoo import Command
from odoo.tests import HttpCase, tagged
from odoo.tools.misc import formatLang

from .commission_common import SaleFlowCommissionCommon
from .test_rebate import RebateCommon


def _text(html):
    """The visible text of rendered QWeb HTML, spaces normalised."""
    text = html_lib.unescape(re.sub(r"<[^>]+>", " ", html)).replace("\xa0", " ")
    return re.sub(r"\s+", " ", text)


def _money(env, amount, currency):
    return formatLang(env, amount, currency_obj=currency).replace("\xa0", " ")


class ReportRenderMixin:
    def _render(self, user, report_ref, records):
        html = (
            self.env["ir.actions.report"]
            .with_user(user)
            ._render_qweb_html(report_ref, records.ids)[0]
            .decode()
        )
        return html, _text(html)

    def _informations(self, html):
        """(label, value) of each block of the header row, and its classes."""
        tree = lxml_html.fromstring(html)
        blocks = tree.xpath("//div[@id='informations']/div")
        self.assertTrue(blocks, "the header block is Odoo's #informations row")
        return [
            (
                block.get("class"),
                " ".join(block.xpath("string(./strong)").split()),
                " ".join(
                    " ".join(div.text_content().split()) for div in block.xpath("./div")
                ),
            )
            for block in blocks
        ]


@tagged("post_install", "-at_install")
class TestCommissionStatementReport(ReportRenderMixin, SaleFlowCommissionCommon):
    REPORT = "sales_order_flow.action_report_sale_flow_commission_statement"

    def test_rate_with_percent_and_amounts_with_currency(self):
        self._invoice([(self.product, 2, 100.0)])
        settlement = self._settle()
        _html, text = self._render(self.accountant, self.REPORT, settlement)
        self.assertIn("10.00 %", text)
        self.assertNotIn("10.0000", text)
        self.assertIn(_money(self.env, 200.0, self.currency), text)
        self.assertIn(_money(self.env, 20.0, self.currency), text)

    def test_draft_bill_is_said_draft_then_named_once_posted(self):
        self._invoice([(self.product, 2, 100.0)])
        settlement = self._settle(create_bills=True)
        bill = settlement.invoice_id
        self.assertEqual(bill.state, "draft")
        html, text = self._render(self.accountant, self.REPORT, settlement)
        blocks = {label: value for _cls, label, value in self._informations(html)}
        self.assertEqual(blocks["Vendor Bill"], "Draft, not posted yet")
        # the status follows the bill, not the settlement's own state
        self.assertEqual(blocks["Status"], "Bill Draft")
        bill.with_user(self.accountant).action_post()
        html, text = self._render(self.accountant, self.REPORT, settlement)
        blocks = {label: value for _cls, label, value in self._informations(html)}
        self.assertEqual(blocks["Vendor Bill"], bill.name)
        self.assertEqual(blocks["Status"], "Billed")
        self.assertNotIn("Draft, not posted yet", text)

    def test_invoice_date_places_a_line_and_the_statement_says_so(self):
        # a January invoice first settled with February: listed, by its date
        self._invoice([(self.product, 1, 300.0)], date="2024-01-15")
        settlement = self._settle(period_date="2024-02-29")
        self.assertEqual(settlement.date_from, date(2024, 2, 1))
        html, text = self._render(self.accountant, self.REPORT, settlement)
        blocks = {label: value for _cls, label, value in self._informations(html)}
        self.assertEqual(blocks["Period"], "02/01/2024 – 02/29/2024")
        self.assertIn("Invoice Date", text)
        self.assertIn("01/15/2024", text)
        self.assertIn("A commission counts from the date of its customer invoice", text)
        self.assertIn("invoices of earlier periods appear here", text)

    def test_header_blocks_are_aligned_columns(self):
        self._invoice([(self.product, 2, 100.0)])
        settlement = self._settle(create_bills=True)
        html = self._render(self.accountant, self.REPORT, settlement)[0]
        for classes, label, value in self._informations(html):
            self.assertEqual(classes, "col", label)
            self.assertTrue(value, label)


@tagged("post_install", "-at_install")
class TestRebateStatementReport(ReportRenderMixin, RebateCommon):
    REPORT = "sales_order_flow.sale_flow_rebate_statement_report"

    def test_header_values_aligned_and_wording(self):
        program = self._create_program([(1000, 2), (5000, 3)])
        self._invoice(self.buyer, 3000.0, day="2024-01-10")
        self._invoice(self.buyer, 2000.0, day="2024-02-10")
        settlement, _message = program.with_user(self.accountant)._settle(
            date(2024, 3, 31), date(2024, 4, 5)
        )
        lines = settlement.line_ids.with_env(self.env)
        html, text = self._render(self.accountant, self.REPORT, lines)
        blocks = self._informations(html)
        # every value sits right under its label, in same-width columns
        self.assertEqual([classes for classes, _l, _v in blocks], ["col"] * 4)
        values = {label: value for _cls, label, value in blocks}
        self.assertEqual(values["Period"], "Q1 2024 (01/01/2024 – 03/31/2024)")
        self.assertEqual(values["Settled On"], "04/05/2024")
        self.assertNotIn("Months as invoiced today", text)
        self.assertIn("The months show what is invoiced today", text)
        self.assertIn("3.00 %", text)
        self.assertIn(_money(self.env, 5000.0, self.currency), text)
        self.assertIn(_money(self.env, 150.0, self.currency), text)


@tagged("post_install", "-at_install")
class TestOrderReport(ReportRenderMixin, SaleFlowCommissionCommon):
    def test_order_pdf_shows_po_revision_and_committed_date(self):
        order = (
            self.env["sale.order"]
            .with_user(self.salesman)
            .create(
                {
                    "partner_id": self.customer.id,
                    "client_order_ref": "PO-77",
                    "flow_po_date": "2024-03-01",
                    "commitment_date": "2024-03-20 10:00:00",
                    "order_line": [
                        Command.create(
                            {"product_id": self.product.id, "product_uom_qty": 3}
                        )
                    ],
                }
            )
        )
        html, text = self._render(self.salesman, "sale.action_report_saleorder", order)
        values = {label: value for _cls, label, value in self._informations(html)}
        self.assertEqual(values["PO Date"], "03/01/2024")
        self.assertEqual(values["Committed Delivery"], "03/20/2024")
        self.assertIn("3.00 Units", text)

    def test_revision_comparison_header_and_totals(self):
        Order = self.env["sale.order"].with_user(self.salesman)
        order = Order.create(
            {
                "partner_id": self.customer.id,
                "order_line": [
                    Command.create(
                        {"product_id": self.product.id, "product_uom_qty": 4}
                    )
                ],
            }
        )
        order.action_quotation_sent()
        revision = Order.browse(order.action_flow_new_revision()["res_id"])
        revision.order_line.product_uom_qty = 6
        html, text = self._render(
            self.salesman,
            "sales_order_flow.action_report_sale_flow_revision_comparison",
            revision,
        )
        values = {label: value for _cls, label, value in self._informations(html)}
        self.assertEqual(values["Revision"], "1")
        self.assertEqual(values["Compared With"], order.name)
        self.assertIn("4.00 Units", text)
        self.assertIn("6.00 Units", text)
        self.assertIn(
            # (tags become spaces in the extracted text)
            f"Previous total ( {order.name} ) "
            f"{_money(self.env, order.amount_total, self.currency)}",
            text,
        )
        self.assertIn(
            f"New total {_money(self.env, revision.amount_total, self.currency)}",
            text,
        )


@tagged("post_install", "-at_install")
class TestDemoHistory(ReportRenderMixin, SaleFlowCommissionCommon):
    """What the README's walk-throughs claim of the demo data."""

    def setUp(self):
        super().setUp()
        self.desks = self.env.ref(
            "sales_order_flow.sale_order_demo_agreement_desks", raise_if_not_found=False
        )
        if not self.desks:
            self.skipTest("installed without demo data")

    def test_agreement_shows_10_used_40_remaining(self):
        line = self.env.ref("sales_order_flow.sale_flow_agreement_line_demo_desk")
        self.assertRecordValues(
            line,
            [
                {
                    "ordered": 10.0,
                    "delivered": 10.0,
                    "invoiced": 10.0,
                    "consumed": 10.0,
                    "remaining": 40.0,
                }
            ],
        )
        self.assertEqual(self.desks.amount_untaxed, 6517.0)

    def test_settled_commission_month_and_rebate_quarter(self):
        agent = self.env.ref("sales_order_flow.res_partner_demo_commission_agent")
        settlement = self.env["sale.flow.commission.settlement"].search(
            [("agent_id", "=", agent.id)]
        )
        self.assertEqual(len(settlement), 1)
        self.assertEqual(settlement.amount_total, 410.17)
        self.assertEqual(settlement.invoice_id.state, "draft")
        lines = self.env["sale.flow.commission.line"].search(
            [("agent_id", "=", agent.id)]
        )
        self.assertEqual(
            sorted(line.partner_id.name for line in lines),
            sorted(["Azure Interior"] * 3 + ["Deco Addict"] * 2),
        )
        _html, text = self._render(
            self.accountant,
            "sales_order_flow.action_report_sale_flow_commission_statement",
            settlement,
        )
        self.assertIn("8.00 %", text)
        self.assertIn("Draft, not posted yet", text)
        program = self.env.ref("sales_order_flow.sale_flow_rebate_program_distributor")
        rebate = program.settlement_ids
        self.assertEqual(len(rebate), 1)
        self.assertEqual(rebate.line_ids.partner_id.name, "Azure Interior")
        self.assertEqual(rebate.line_ids.amount_due, 273.45)
        self.assertEqual(rebate.line_ids.move_id.state, "posted")


@tagged("post_install", "-at_install")
class TestDemoPortalLogins(HttpCase):
    """The README's portal logins see the demo agreement and commissions."""

    def setUp(self):
        super().setUp()
        if not self.env.ref(
            "sales_order_flow.res_users_demo_azure_buyer", raise_if_not_found=False
        ):
            self.skipTest("installed without demo data")

    def test_azure_buyer_sees_the_agreement(self):
        agreement = self.env.ref("sales_order_flow.sale_flow_agreement_demo_azure")
        self.authenticate("azure", "azure")
        page = self.url_open("/my/agreements")
        self.assertEqual(page.status_code, 200)
        self.assertIn(agreement.name, page.text)

    def test_agency_contact_sees_its_commissions(self):
        self.authenticate("iberia", "iberia")
        page = self.url_open("/my/commissions")
        self.assertEqual(page.status_code, 200)
        self.assertIn("Deco Addict", page.text)
