import io
import os
import shutil
import subprocess

from PyPDF2 import PdfFileReader

from odoo.tests import HttpCase, tagged

from .common import SaleFlowCommon


def _wkhtmltopdf_is_patched():
    binary = shutil.which("wkhtmltopdf")
    if not binary:
        return False
    out = subprocess.run(
        [binary, "--version"], capture_output=True, text=True, check=False
    )
    return "with patched qt" in (out.stdout + out.stderr).lower()


@tagged("post_install", "-at_install")
class TestPdfHeader(HttpCase, SaleFlowCommon):
    """The order PDF carries the company header and footer: bin/run and
    bin/test give Odoo a wkhtmltopdf with patched Qt (bin/_wkhtmltopdf.py)."""

    def test_order_pdf_has_the_company_header(self):
        if not _wkhtmltopdf_is_patched():
            # bin/test says when it gave Odoo one: then its absence is a failure
            self.assertFalse(
                os.environ.get("SOF_WKHTMLTOPDF_PATCHED"),
                "bin/test found a patched wkhtmltopdf but Odoo does not run it",
            )
            self.skipTest("no wkhtmltopdf with patched Qt on PATH (run bin/test)")
        self.company.report_header = "Flow Header Tagline"
        self.env["ir.config_parameter"].sudo().set_param("report.url", self.base_url())
        order = self._create_order().with_user(self.salesman)
        pdf, _type = (
            self.env["ir.actions.report"]
            .with_user(self.salesman)
            .with_context(force_report_rendering=True)
            ._render_qweb_pdf("sale.action_report_saleorder", order.ids)
        )
        reader = PdfFileReader(io.BytesIO(pdf))
        text = " ".join(" ".join(page.extractText().split()) for page in reader.pages)
        # the tagline is in the header, the page numbers in the footer: an
        # unpatched wkhtmltopdf drops both
        self.assertIn("Flow Header Tagline", text)
        self.assertIn(self.company.name, text)
        self.assertIn("Page 1 / 1", text)
        self.assertIn(order.name, text)
