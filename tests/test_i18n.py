"""The Spanish translation covers every translatable term of the addon."""

import pathlib

import polib
import pytest

I18N = pathlib.Path(__file__).resolve().parent.parent / "sales_order_flow" / "i18n"


def test_template_and_spanish_exist():
    assert (I18N / "sales_order_flow.pot").is_file()
    assert (I18N / "es.po").is_file()


def test_spanish_translates_every_term():
    pot = polib.pofile(str(I18N / "sales_order_flow.pot"))
    spanish = polib.pofile(str(I18N / "es.po"))
    translated = {
        (entry.msgctxt, entry.msgid)
        for entry in spanish
        if entry.msgstr and not entry.obsolete and "fuzzy" not in entry.flags
    }
    missing = [
        entry.msgid
        for entry in pot
        if entry.msgid and (entry.msgctxt, entry.msgid) not in translated
    ]
    assert not missing, f"{len(missing)} untranslated terms, e.g. {missing[:5]}"


@pytest.mark.parametrize("name", ["es.po"])
def test_placeholders_are_kept(name):
    catalog = polib.pofile(str(I18N / name))
    for entry in catalog:
        if not entry.msgstr:
            continue
        for token in ("%(", "%s"):
            assert entry.msgid.count(token) == entry.msgstr.count(token), entry.msgid
