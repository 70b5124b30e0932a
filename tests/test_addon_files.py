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


def new_model_names():
    """The models the addon defines: a ``_name`` that is not also inherited
    (``_name = "sale.order.line"`` next to ``_inherit = [..., mixin]``
    extends Odoo's model)."""
    names = set()
    for path in ADDON.rglob("*.py"):
        for block in re.split(r"^class ", path.read_text(), flags=re.M)[1:]:
            name = re.search(r'^\s+_name = "([\w.]+)"', block, re.M)
            inherit = re.search(r"^\s+_inherit = (.+)$", block, re.M)
            if name and not (inherit and f'"{name.group(1)}"' in inherit.group(1)):
                names.add(name.group(1))
    return names


def test_every_model_has_access_rights():
    defined = {"model_" + name.replace(".", "_") for name in new_model_names()}
    with open(ADDON / "security" / "ir.model.access.csv", newline="") as handle:
        granted = {row["model_id:id"] for row in csv.DictReader(handle)}
    assert defined, "no model found"
    missing = defined - granted
    assert not missing, f"models without access rights: {sorted(missing)}"


def test_new_models_live_under_the_sale_flow_namespace():
    for name in new_model_names():
        assert name.startswith("sale.flow."), name


def test_translated_calls_take_no_f_strings():
    """``_()`` / ``env._()`` arguments must be plain: Odoo's term extraction
    (Babel) cannot read f-strings there, and the term would go untranslated."""
    offenders = []
    for path in ADDON.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if name != "_":
                continue
            values = [*node.args, *(keyword.value for keyword in node.keywords)]
            if any(isinstance(value, ast.JoinedStr) for value in values):
                offenders.append(f"{path.name}:{node.lineno}")
    assert not offenders, offenders
