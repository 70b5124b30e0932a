"""Checks of the addon's files that need no Odoo: manifest, XML, access rights."""

import ast
import csv
import pathlib
import re

from lxml import etree

ADDON = pathlib.Path(__file__).resolve().parent.parent / "sales_order_flow"


def manifest():
    return ast.literal_eval((ADDON / "__manifest__.py").read_text())


def test_manifest_keys():
    data = manifest()
    assert data["version"].startswith("18.0.")
    assert data["license"] == "LGPL-3"
    assert "description" not in data
    for key in ("author", "website", "maintainers", "development_status"):
        assert data.get(key), key


def test_every_data_file_exists_and_every_xml_is_listed():
    data = manifest()
    listed = set(data["data"]) | set(data.get("demo", []))
    for name in listed:
        assert (ADDON / name).is_file(), f"{name} is listed but missing"
    for path in ADDON.rglob("*.xml"):
        relative = path.relative_to(ADDON).as_posix()
        if relative.startswith("static/"):
            continue
        assert relative in listed, f"{relative} is not in the manifest"


def test_xml_files_are_well_formed_and_use_odoo_18_syntax():
    for path in ADDON.rglob("*.xml"):
        text = path.read_text()
        etree.fromstring(text.encode())
        assert "<tree" not in text, f"{path.name}: use <list> in Odoo 18"
        assert " attrs=" not in text, f"{path.name}: attrs is gone in Odoo 18"
        assert "t-raw" not in text, f"{path.name}: t-raw renders unescaped content"


def test_every_model_has_access_rights():
    defined = set()
    for path in ADDON.rglob("*.py"):
        for match in re.finditer(r'^\s+_name = "([\w.]+)"', path.read_text(), re.M):
            defined.add("model_" + match.group(1).replace(".", "_"))
    with open(ADDON / "security" / "ir.model.access.csv", newline="") as handle:
        granted = {row["model_id:id"] for row in csv.DictReader(handle)}
    assert defined, "no model found"
    missing = defined - granted
    assert not missing, f"models without access rights: {sorted(missing)}"


def test_new_models_live_under_the_sale_flow_namespace():
    for path in ADDON.rglob("*.py"):
        for match in re.finditer(r'^\s+_name = "([\w.]+)"', path.read_text(), re.M):
            assert match.group(1).startswith("sale.flow."), match.group(1)
