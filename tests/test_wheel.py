"""The addon builds as a wheel with whool, and Odoo finds it once installed.

The wheel (odoo-addon-sales_order_flow, version from the manifest) is installed
into a throw-away venv that sees this Python's Odoo; Odoo there must find the
addon in its own ``odoo/addons`` namespace, without an addons path to the repo.
Skipped when whool (requirements.txt) or Odoo is not available here.
"""

import ast
import importlib.util
import os
import pathlib
import re
import subprocess
import sys
import sysconfig
import zipfile

import pytest

REPO = pathlib.Path(__file__).resolve().parent.parent
ADDON = REPO / "sales_order_flow"
BRIDGE = REPO / "sales_order_flow_repair"

FIND_ADDON = """
import sys
import odoo
from odoo.modules import module
from odoo.tools import config
config.parse_config(["--data-dir", sys.argv[1]])
module.initialize_sys_path()
print(module.get_module_path("sales_order_flow"))
print(config["addons_path"])
"""


def odoo_source():
    """The folder holding this Python's ``odoo`` package, or ODOO_PATH's."""
    spec = importlib.util.find_spec("odoo")
    if spec and spec.origin:
        return pathlib.Path(spec.origin).parent.parent
    path = pathlib.Path(os.environ.get("ODOO_PATH", "/opt/odoo"))
    return path if (path / "odoo" / "__init__.py").is_file() else None


def manifest_version():
    manifest = ast.literal_eval((ADDON / "__manifest__.py").read_text())
    return manifest["version"]


def build_wheel(addon, out):
    """The wheel of ``addon`` built by whool into ``out``."""
    if importlib.util.find_spec("whool") is None:
        pytest.skip("whool is not installed: pip install -r requirements.txt")
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, whool.buildapi as b; print(b.build_wheel(sys.argv[1]))",
            str(out),
        ],
        cwd=addon,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return out / proc.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    return build_wheel(ADDON, tmp_path_factory.mktemp("dist"))


def test_bridge_wheel_requires_the_main_addon(tmp_path):
    bridge = build_wheel(BRIDGE, tmp_path)
    name, version = bridge.name.split("-")[:2]
    assert name == "odoo_addon_sales_order_flow_repair"
    assert version.startswith(manifest_version())
    with zipfile.ZipFile(bridge) as archive:
        names = archive.namelist()
        metadata = archive.read(f"{name}-{version}.dist-info/METADATA").decode()
    assert "odoo/addons/sales_order_flow_repair/__manifest__.py" in names
    assert "Requires-Dist: odoo-addon-sales_order_flow" in metadata.replace(
        "odoo-addon-sales-order-flow", "odoo-addon-sales_order_flow"
    )


def test_wheel_name_version_and_content(wheel):
    name, version = wheel.name.split("-")[:2]
    assert name == "odoo_addon_sales_order_flow"
    # whool appends the number of commits since the manifest's version changed
    assert version.startswith(manifest_version())
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = archive.read(f"{name}-{version}.dist-info/METADATA").decode()
    assert "odoo/addons/sales_order_flow/__manifest__.py" in names
    assert "odoo/addons/sales_order_flow/static/description/icon.png" in names
    assert not any("/tests/" in n and n.endswith(".pyc") for n in names)
    assert "Name: odoo-addon-sales_order_flow" in metadata
    assert "Requires-Dist: odoo==18.0.*" in metadata


def test_odoo_finds_the_installed_wheel(wheel, tmp_path):
    source = odoo_source()
    if source is None:
        pytest.skip("no Odoo 18 here (importable odoo or ODOO_PATH)")
    venv = tmp_path / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True
    )
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # the venv "has Odoo": this Python's packages (Odoo's requirements) and source
    outer = [sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]
    (pathlib.Path(purelib) / "outer-odoo.pth").write_text(
        "".join(f"import site; site.addsitedir({path!r})\n" for path in outer)
        + f"{source}\n"
    )
    install = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "--no-index",
            "--quiet",
            str(wheel),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert install.returncode == 0, install.stderr[-2000:]
    assert (pathlib.Path(purelib) / "odoo/addons/sales_order_flow").is_dir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    found = subprocess.run(
        [python, "-c", FIND_ADDON, str(tmp_path / "data")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    assert found.returncode == 0, found.stderr[-2000:]
    module_path, addons_path = found.stdout.strip().splitlines()[-2:]
    assert module_path == str(pathlib.Path(purelib) / "odoo/addons/sales_order_flow")
    # no addons path to the repository (Odoo itself may live in its .venv/)
    assert str(REPO) not in addons_path.split(",")


def test_description_page_shows_existing_images():
    description = ADDON / "static" / "description"
    html = (description / "index.html").read_text()
    images = re.findall(r'src="([^"]+)"', html)
    assert images
    for image in [*images, "icon.png"]:
        path = description / image
        assert path.is_file(), image
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", image
        assert path.stat().st_size < 100_000, f"{image}: keep it small"
