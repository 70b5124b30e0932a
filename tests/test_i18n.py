"""The Spanish translation covers every translatable term of each addon (the
main one and its bridges)."""

import pathlib

import polib
import pytest

REPO = pathlib.Path(__file__).resolve().parent.parent
ADDONS = ["sales_order_flow", "sales_order_flow_repair"]
each_addon = pytest.mark.parametrize("addon", ADDONS)


def i18n(addon):
    return REPO / addon / "i18n"


@each_addon
def test_template_and_spanish_exist(addon):
    assert (i18n(addon) / f"{addon}.pot").is_file()
    assert (i18n(addon) / "es.po").is_file()


@each_addon
def test_spanish_translates_every_term(addon):
    pot = polib.pofile(str(i18n(addon) / f"{addon}.pot"))
    spanish = polib.pofile(str(i18n(addon) / "es.po"))
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


@each_addon
@pytest.mark.parametrize("name", ["es.po"])
def test_placeholders_are_kept(addon, name):
    catalog = polib.pofile(str(i18n(addon) / name))
    for entry in catalog:
        if not entry.msgstr:
            continue
        for token in ("%(", "%s"):
            assert entry.msgid.count(token) == entry.msgstr.count(token), entry.msgid
