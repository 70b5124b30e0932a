"""The run and test commands explain in one line what is missing."""

import importlib.util
import pathlib
import sys

BIN = pathlib.Path(__file__).resolve().parent.parent / "bin"


def load_env_module():
    spec = importlib.util.spec_from_file_location("_odoo_env", BIN / "_odoo_env.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_missing_odoo_is_explained(monkeypatch, tmp_path):
    odoo_env = load_env_module()
    monkeypatch.setenv("ODOO_PATH", str(tmp_path))
    monkeypatch.setattr(sys, "executable", sys.executable)
    command, reason = odoo_env.find_odoo()
    if command is None:
        assert "Odoo 18 not found" in reason
        assert str(tmp_path) in reason
        assert "\n" not in reason
    else:
        # an importable odoo package was found instead
        assert reason


def test_odoo_path_is_used(monkeypatch, tmp_path):
    odoo_env = load_env_module()
    (tmp_path / "odoo-bin").write_text("")
    (tmp_path / "addons").mkdir()
    monkeypatch.setenv("ODOO_PATH", str(tmp_path))
    command, addons = odoo_env.find_odoo()
    assert command[-1] == str(tmp_path / "odoo-bin")
    assert addons == [str(tmp_path / "addons")]
    assert odoo_env.addons_path(addons).split(",")[0] == odoo_env.REPO
