"""Checks of the addons' files that need no Odoo: manifest, XML, access rights.

Each check runs on the main addon and on its bridge addons."""

import ast
import csv
import pathlib
import re

import pytest
from lxml import etree

REPO = pathlib.Path(__file__).resolve().parent.parent
ADDON = REPO / "sales_order_flow"
BRIDGES = [REPO / "sales_order_flow_repair"]
ADDONS = [ADDON, *BRIDGES]
each_addon = pytest.mark.parametrize("addon", ADDONS, ids=lambda path: path.name)


def manifest(addon=ADDON):
    return ast.literal_eval((addon / "__manifest__.py").read_text())


@each_addon
def test_manifest_keys(addon):
    data = manifest(addon)
    assert data["version"].startswith("18.0.")
    assert data["license"] == "LGPL-3"
    assert "description" not in data
    for key in ("author", "website", "maintainers", "development_status"):
        assert data.get(key), key


@pytest.mark.parametrize("bridge", BRIDGES, ids=lambda path: path.name)
def test_bridge_manifest_follows_the_main_addon(bridge):
    data, main = manifest(bridge), manifest()
    for key in ("version", "author", "website", "maintainers", "license"):
        assert data[key] == main[key], key
    assert ADDON.name in data["depends"]
    assert data["auto_install"] is True
    assert (bridge / "pyproject.toml").read_text() == (
        ADDON / "pyproject.toml"
    ).read_text()


@each_addon
def test_every_data_file_exists_and_every_xml_is_listed(addon):
    data = manifest(addon)
    listed = set(data.get("data", [])) | set(data.get("demo", []))
    for name in listed:
        assert (addon / name).is_file(), f"{name} is listed but missing"
    for path in addon.rglob("*.xml"):
        relative = path.relative_to(addon).as_posix()
        if relative.startswith("static/"):
            continue
        assert relative in listed, f"{relative} is not in the manifest"


@each_addon
def test_xml_files_are_well_formed_and_use_odoo_18_syntax(addon):
    for path in addon.rglob("*.xml"):
        text = path.read_text()
        etree.fromstring(text.encode())
        assert "<tree" not in text, f"{path.name}: use <list> in Odoo 18"
        assert " attrs=" not in text, f"{path.name}: attrs is gone in Odoo 18"
        assert "t-raw" not in text, f"{path.name}: t-raw renders unescaped content"


def new_model_names(addon=ADDON):
    """The models the addon defines: a ``_name`` that is not also inherited
    (``_name = "sale.order.line"`` next to ``_inherit = [..., mixin]``
    extends Odoo's model)."""
    names = set()
    for path in addon.rglob("*.py"):
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


@pytest.mark.parametrize("bridge", BRIDGES, ids=lambda path: path.name)
def test_bridges_only_extend_models(bridge):
    # a bridge adds fields and steps to existing models: no access rights due
    assert not new_model_names(bridge)


@each_addon
def test_new_models_live_under_the_sale_flow_namespace(addon):
    for name in new_model_names(addon):
        assert name.startswith("sale.flow."), name


@each_addon
def test_translated_calls_take_no_f_strings(addon):
    """``_()`` / ``env._()`` arguments must be plain: Odoo's term extraction
    (Babel) cannot read f-strings there, and the term would go untranslated."""
    offenders = []
    for path in addon.rglob("*.py"):
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
