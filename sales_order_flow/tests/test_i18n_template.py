from pathlib import Path

import polib

from odoo.tests import TransactionCase, tagged
from odoo.tools.translate import TranslationModuleReader

POT = Path(__file__).resolve().parent.parent / "i18n" / "sales_order_flow.pot"


@tagged("post_install", "-at_install")
class TestI18nTemplate(TransactionCase):
    """The shipped .pot holds every term the addon's code, views and data
    give to translate (the repo's own test then checks es.po against it)."""

    def test_template_is_up_to_date(self):
        shipped = {entry.msgid for entry in polib.pofile(str(POT))}
        reader = TranslationModuleReader(self.env.cr, modules=["sales_order_flow"])
        current = {
            source for (_module, _type, _name, _res_id, source, *_rest) in reader
        }
        missing = sorted(term for term in current - shipped if term)
        self.assertFalse(
            missing,
            f"{len(missing)} terms missing from i18n/sales_order_flow.pot "
            f"(re-export it), e.g. {missing[:5]}",
        )
