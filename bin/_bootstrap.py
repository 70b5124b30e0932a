"""Bootstrap of bin/run and bin/test: Odoo 18 in a project-local .venv/.

Used only when no Odoo is found (ODOO_PATH, an importable ``odoo``). Steps, each
skipped when already done:

1. system packages (PostgreSQL, Chromium, wkhtmltopdf, build headers): installed
   with apt-get when root, otherwise one line says what to install;
2. a Python 3.10-3.12 and the virtual environment .venv/;
3. the Odoo source from ODOO_SOURCE: a source folder (used in place), a .tar.gz /
   .tar.xz archive, a URL of one, or a git reference (``git+URL@REF``,
   ``URL.git@REF``); by default Odoo's official 18.0 nightly source archive.
   Archives and clones go to .venv/src/; a .pth file makes ``odoo`` importable;
4. Odoo's requirements.txt, with the pins of constraints.txt, and this
   project's requirements.txt, into .venv/ (log in .venv/bootstrap.log).

A stamp (.venv/bootstrap.stamp) records what step 4 installed, so a second run
that finds everything in place skips pip and starts in seconds.
"""

import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(REPO, ".venv")
SRC_DIR = os.path.join(VENV, "src")
RECORD = os.path.join(VENV, "odoo-source.json")
STAMP = os.path.join(VENV, "bootstrap.stamp")
LOG = os.path.join(VENV, "bootstrap.log")
CONSTRAINTS = os.path.join(REPO, "constraints.txt")
REQUIREMENTS = os.path.join(REPO, "requirements.txt")
DEFAULT_SOURCE = "https://nightly.odoo.com/18.0/nightly/src/odoo_18.0.latest.tar.gz"
DEFAULT_GIT_REF = "18.0"
PYTHONS = ((3, 12), (3, 11), (3, 10))  # Odoo 18 runs on 3.10-3.12
ARCHIVE_EXTS = (".tar.gz", ".tgz", ".tar.xz", ".txz", ".tar.bz2", ".tar")
HINT_SOURCE = (
    "set ODOO_SOURCE to an Odoo 18.0 source folder, a .tar.gz/.tar.xz archive "
    "or a git reference (git+URL@18.0)"
)


class BootstrapError(Exception):
    """A step failed; the message is one line saying what to do."""


def venv_python(venv=VENV):
    return os.path.join(venv, "bin", "python")


def in_venv(venv=VENV):
    return os.path.realpath(sys.prefix) == os.path.realpath(venv)


def step(number, total, text):
    print(f"[setup {number}/{total}] {text}", flush=True)


# 1. system packages ---------------------------------------------------------


def _any_file(*patterns):
    return any(glob.glob(pattern) for pattern in patterns)


def system_needs(python_include=None):
    """What Odoo needs from the system: (what, present, Debian package) triples."""
    which = shutil.which
    include = python_include or sysconfig.get_paths()["include"]
    return [
        (
            "PostgreSQL server",
            bool(
                which("pg_ctlcluster")
                or which("postgres")
                or _any_file("/usr/lib/postgresql/*/bin/postgres")
            ),
            "postgresql",
        ),
        ("PostgreSQL client", bool(which("psql")), "postgresql-client"),
        (
            "Chromium (browser tours)",
            bool(
                which("chromium")
                or which("chromium-browser")
                or which("google-chrome")
                or which("google-chrome-stable")
            ),
            "chromium",
        ),
        ("wkhtmltopdf (PDF reports)", bool(which("wkhtmltopdf")), "wkhtmltopdf"),
        ("C compiler", bool(which("gcc") or which("cc")), "build-essential"),
        ("libpq headers (psycopg2)", bool(which("pg_config")), "libpq-dev"),
        (
            "LDAP headers (python-ldap)",
            _any_file("/usr/include/ldap.h"),
            "libldap2-dev",
        ),
        (
            "SASL headers (python-ldap)",
            _any_file("/usr/include/sasl/sasl.h"),
            "libsasl2-dev",
        ),
        (
            "Python headers",
            os.path.isfile(os.path.join(include, "Python.h")),
            "python3-dev",
        ),
    ]


def is_root():
    return hasattr(os, "geteuid") and os.geteuid() == 0


def system_packages(needs, root=None, run=subprocess.run, which=shutil.which):
    """Install what is missing when root and apt-get exist.

    Return (installed packages, one-line hint or None).
    """
    missing = [(what, pkg) for what, present, pkg in needs if not present]
    if not missing:
        return [], None
    packages = sorted({pkg for _what, pkg in missing})
    whats = ", ".join(what for what, _pkg in missing)
    root = is_root() if root is None else root
    if not root or not which("apt-get"):
        how = "sudo apt-get install -y" if which("apt-get") else "your package manager:"
        return [], f"missing {whats}: install them with {how} {' '.join(packages)}"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    cmd = ["apt-get", "install", "-y", "--no-install-recommends", *packages]
    if run(cmd, check=False, env=env).returncode:
        # the package lists may be stale or absent (fresh container)
        run(["apt-get", "update"], check=False, env=env)
        if run(cmd, check=False, env=env).returncode:
            return [], f"apt-get could not install {' '.join(packages)} ({whats})"
    return packages, None


# 2. Python and the virtual environment ---------------------------------------


def python_version(python):
    out = subprocess.run(
        [python, "-c", "import sys; print(*sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        return tuple(int(part) for part in out.stdout.split())
    except ValueError:
        return None


def choose_python(current=None, which=shutil.which, version_of=python_version):
    """The interpreter for .venv: this one when Odoo 18 supports it, else one on
    PATH. Raise BootstrapError with a hint when there is none."""
    current = current or sys.executable
    candidates = [current] + [which(f"python{a}.{b}") for a, b in PYTHONS]
    for candidate in candidates:
        if candidate and version_of(candidate) in PYTHONS:
            return candidate
    raise BootstrapError(
        "Odoo 18 needs Python 3.10, 3.11 or 3.12 and none was found: "
        "install one (apt-get install python3 python3-venv)"
    )


def create_venv(python, venv=VENV):
    """Create .venv with pip; return False when it was already there."""
    if os.path.isfile(venv_python(venv)):
        return False
    proc = subprocess.run(
        [python, "-m", "venv", venv], capture_output=True, text=True, check=False
    )
    if proc.returncode:
        shutil.rmtree(venv, ignore_errors=True)
        last = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or [""]
        raise BootstrapError(
            f"could not create {venv} ({last[0][:120]}): "
            "install the venv module (apt-get install python3-venv)"
        )
    return True


# 3. the Odoo source ------------------------------------------------------------


def classify_source(spec, odoo_path=None):
    """Return (kind, location, git ref) for ODOO_SOURCE.

    kind is "folder", "archive", "url" or "git". Without ODOO_SOURCE an existing
    ODOO_PATH source folder is used, else Odoo's official 18.0 source archive.
    """
    spec = (spec or "").strip()
    if not spec:
        if odoo_path and is_odoo_source(odoo_path):
            return "folder", os.path.abspath(odoo_path), None
        spec = DEFAULT_SOURCE
    if spec.startswith("git+") or re.search(r"\.git(@[^/@]+)?$", spec):
        url = spec[4:] if spec.startswith("git+") else spec
        ref = DEFAULT_GIT_REF
        tail = re.search(r"@([^/@:]+)$", url)
        if tail and "/" in url[: tail.start()]:
            url, ref = url[: tail.start()], tail.group(1)
        return "git", url, ref
    if re.match(r"^(https?|ftp)://", spec):
        return "url", spec, None
    path = os.path.abspath(os.path.expanduser(spec))
    if os.path.isdir(path):
        if not is_odoo_source(path):
            raise BootstrapError(
                f"ODOO_SOURCE={spec} has no odoo/ package with odoo-bin or setup.py: "
                + HINT_SOURCE
            )
        return "folder", path, None
    if os.path.isfile(path) and path.endswith(ARCHIVE_EXTS):
        return "archive", path, None
    raise BootstrapError(
        f"ODOO_SOURCE={spec} is not a folder, archive, URL or git reference: "
        + HINT_SOURCE
    )


def is_odoo_source(path):
    return os.path.isfile(os.path.join(path, "odoo", "__init__.py")) and (
        os.path.isfile(os.path.join(path, "odoo-bin"))
        or os.path.isfile(os.path.join(path, "setup.py"))
    )


def find_source_root(folder):
    """The Odoo root inside an extracted archive (nightly archives have one top
    folder, odoo-18.0.postYYYYMMDD/)."""
    if is_odoo_source(folder):
        return folder
    for entry in sorted(os.listdir(folder)):
        path = os.path.join(folder, entry)
        if os.path.isdir(path) and is_odoo_source(path):
            return path
    raise BootstrapError(f"no Odoo source (odoo/, odoo-bin) found in {folder}")


def _slug(location):
    name = os.path.basename(location.rstrip("/")) or "odoo"
    for ext in ARCHIVE_EXTS:
        if name.endswith(ext):
            name = name[: -len(ext)]
            break
    digest = hashlib.sha256(location.encode()).hexdigest()[:8]
    return f"{re.sub(r'[^A-Za-z0-9._-]', '_', name)}-{digest}"


def download(url, target, opener=urllib.request.urlopen):
    """Download url to target with a progress line every 10 %."""
    part = target + ".part"
    try:
        with opener(url, timeout=60) as response, open(part, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0)
            done, shown = 0, -10
            while chunk := response.read(1 << 20):
                out.write(chunk)
                done += len(chunk)
                percent = done * 100 // total if total else -1
                if percent >= shown + 10:
                    shown = percent
                    print(f"  downloaded {done >> 20} MiB ({percent} %)", flush=True)
        os.replace(part, target)
    except (OSError, ValueError) as error:
        if os.path.exists(part):
            os.remove(part)
        raise BootstrapError(f"could not download {url} ({error}): {HINT_SOURCE}")


def extract(archive, folder):
    """Extract an Odoo source archive into folder; return the Odoo root."""
    tmp = folder + ".part"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    try:
        with tarfile.open(archive) as tar:
            members = tar.getmembers()
            print(f"  extracting {len(members)} files", flush=True)
            kwargs = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
            tar.extractall(tmp, **kwargs)
    except (OSError, tarfile.TarError) as error:
        shutil.rmtree(tmp, ignore_errors=True)
        raise BootstrapError(f"could not extract {archive} ({error}): {HINT_SOURCE}")
    shutil.rmtree(folder, ignore_errors=True)
    os.replace(tmp, folder)
    return find_source_root(folder)


def fetch_source(kind, location, ref, src_dir=SRC_DIR, run=subprocess.run):
    """Bring the Odoo source; return its root folder."""
    if kind == "folder":
        return location
    os.makedirs(src_dir, exist_ok=True)
    target = os.path.join(src_dir, _slug(location))
    if kind == "git":
        if not shutil.which("git"):
            raise BootstrapError("git not found: apt-get install git")
        shutil.rmtree(target, ignore_errors=True)
        cmd = ["git", "clone", "--progress", "--depth", "1", "--branch", ref]
        if run([*cmd, location, target], check=False).returncode:
            shutil.rmtree(target, ignore_errors=True)
            raise BootstrapError(f"could not clone {location}@{ref}: {HINT_SOURCE}")
        return find_source_root(target)
    archive = location
    if kind == "url":
        name = os.path.basename(location.split("?")[0]) or "odoo.tar.gz"
        archive = os.path.join(src_dir, name)
        print(f"  downloading {location}", flush=True)
        download(location, archive)
    return extract(archive, target)


def source_key(kind, location, ref=None):
    """What identifies a source: a replaced archive (same path) is unpacked again."""
    key = f"{kind}:{location}@{ref}" if ref else f"{kind}:{location}"
    if kind == "archive":
        stat = os.stat(location)
        key += f" ({stat.st_size} bytes, mtime {int(stat.st_mtime)})"
    return key


def read_record(record=RECORD):
    try:
        with open(record, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return {}


def source_in_place(spec_key, record):
    """The recorded Odoo root when it came from the same ODOO_SOURCE, else None."""
    if record.get("source") == spec_key and is_odoo_source(record.get("root", "")):
        return record["root"]
    return None


def decide_source(environ, record):
    """(kind, location, ref, key, root already in place or None).

    Without ODOO_SOURCE the source already in .venv is kept, whatever it came
    from; a different ODOO_SOURCE brings its source.
    """
    spec = environ.get("ODOO_SOURCE")
    if not spec and is_odoo_source(record.get("root") or ""):
        kind, _sep, location = record.get("source", "folder:?").partition(":")
        return kind, location, None, record["source"], record["root"]
    kind, location, ref = classify_source(spec, environ.get("ODOO_PATH", "/opt/odoo"))
    key = source_key(kind, location, ref)
    return kind, location, ref, key, source_in_place(key, record)


def link_source(python, root, record=RECORD, spec_key=""):
    """Make ``odoo`` importable in the venv (a .pth file, like pip install -e)."""
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    with open(os.path.join(purelib, "odoo-source.pth"), "w", encoding="utf-8") as pth:
        pth.write(root + "\n")
    with open(record, "w", encoding="utf-8") as handle:
        json.dump({"source": spec_key, "root": root}, handle, indent=1)


# 4. Python packages --------------------------------------------------------------


def requirement_name(line):
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", line.split("#")[0])
    return re.sub(r"[-_.]+", "-", match.group(1)).lower() if match else None


def merge_requirements(odoo_requirements, constraints):
    """Odoo's requirements with every package of constraints.txt replaced by the
    lines of constraints.txt (which keep their environment markers)."""
    ours = [line for line in constraints.splitlines() if requirement_name(line)]
    names = {requirement_name(line) for line in ours}
    kept = [
        line
        for line in odoo_requirements.splitlines()
        if requirement_name(line) and requirement_name(line) not in names
    ]
    return "\n".join([*kept, "# constraints.txt", *ours]) + "\n"


def stamp_of(python, root, merged):
    digest = hashlib.sha256()
    for part in (python, root, merged):
        digest.update(part.encode() + b"\0")
    for path in (REQUIREMENTS, CONSTRAINTS):
        with open(path, "rb") as handle:
            digest.update(handle.read())
    return digest.hexdigest()


PIP_PROGRESS_RE = re.compile(
    r"^(Collecting|Building wheel for|Installing collected|Successfully installed)"
)


def pip_install(python, args, log, total=0):
    """Run pip, print its progress in short lines; raise BootstrapError on failure."""
    cmd = [python, "-m", "pip", "install", "--progress-bar", "off", *args]
    log.write(f"$ {' '.join(cmd)}\n")
    log.flush()
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO
    )
    collected = 0
    tail = []
    for line in proc.stdout:
        log.write(line)
        tail = [*tail[-5:], line.rstrip()]
        text = line.strip()
        if not PIP_PROGRESS_RE.match(text):
            continue
        if text.startswith("Collecting"):
            collected += 1
            count = f"{collected}/{total}" if total >= collected else f"{collected}"
            print(f"  [{count}] {text}", flush=True)
        else:
            print(f"  {text[:150]}", flush=True)
    if proc.wait():
        last = tail[-1] if tail else ""
        hint = next((t for t in reversed(tail) if "error" in t.lower()), last)
        raise BootstrapError(f"pip install failed ({hint.strip()[:160]}); see {LOG}")


def install_requirements(python, root, log):
    """Install Odoo's and the project's requirements unless the stamp matches.

    Return False when everything was already in place.
    """
    odoo_req = os.path.join(root, "requirements.txt")
    try:
        with open(odoo_req, encoding="utf-8") as handle:
            odoo_text = handle.read()
    except OSError:
        raise BootstrapError(f"{odoo_req} not found: {HINT_SOURCE}")
    with open(CONSTRAINTS, encoding="utf-8") as handle:
        merged = merge_requirements(odoo_text, handle.read())
    stamp = stamp_of(python, root, merged)
    if os.path.isfile(STAMP):
        with open(STAMP, encoding="utf-8") as handle:
            if handle.read().strip() == stamp:
                return False
    merged_path = os.path.join(VENV, "odoo-requirements.txt")
    with open(merged_path, "w", encoding="utf-8") as handle:
        handle.write(merged)
    with open(REQUIREMENTS, encoding="utf-8") as handle:
        lines = [*merged.splitlines(), *handle.read().splitlines()]
    total = len({requirement_name(line) for line in lines} - {None})
    print("  build tools: setuptools<70, wheel (for --no-build-isolation)", flush=True)
    pip_install(python, ["-c", CONSTRAINTS, "setuptools", "wheel"], log)
    print(
        f"  {total} packages from Odoo's requirements.txt, constraints.txt and "
        "requirements.txt, then their dependencies; log in .venv/bootstrap.log",
        flush=True,
    )
    pip_install(
        python,
        [
            "--no-build-isolation",
            "-r",
            merged_path,
            "-r",
            REQUIREMENTS,
            "-c",
            CONSTRAINTS,
        ],
        log,
        total=total,
    )
    with open(STAMP, "w", encoding="utf-8") as handle:
        handle.write(stamp + "\n")
    return True


# all steps -------------------------------------------------------------------------


def bootstrap(environ=None):
    """Run the steps; return the venv's Python. Raise BootstrapError."""
    environ = os.environ if environ is None else environ
    started = time.monotonic()
    total = 4
    python = choose_python()
    include = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['include'])"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    step(1, total, "system packages (PostgreSQL, Chromium, wkhtmltopdf, headers)")
    installed, hint = system_packages(system_needs(include or None))
    if installed:
        print(f"  installed with apt-get: {' '.join(installed)}", flush=True)
    print(f"  {hint}" if hint else "  all present", flush=True)

    step(2, total, f"virtual environment {os.path.relpath(VENV, REPO)}/")
    if create_venv(python):
        print(f"  created with {python}", flush=True)
    else:
        print("  already there", flush=True)
    vpython = venv_python()

    kind, location, ref, spec_key, root = decide_source(environ, read_record())
    step(3, total, f"Odoo 18.0 source ({kind}: {location}{'@' + ref if ref else ''})")
    if root:
        print(f"  already in place: {root}", flush=True)
    else:
        root = fetch_source(kind, location, ref)
        link_source(vpython, root, spec_key=spec_key)
        print(f"  odoo importable in .venv from {root}", flush=True)

    step(4, total, "Python packages (Odoo's requirements, constraints.txt, ours)")
    with open(LOG, "a", encoding="utf-8") as log:
        if install_requirements(vpython, root, log):
            print("  installed", flush=True)
        else:
            print("  already installed (stamp matches)", flush=True)
    print(f"[setup] done in {time.monotonic() - started:.0f} s", flush=True)
    return vpython


def venv_odoo(record=RECORD):
    """(argv prefix, addons paths) of the Odoo recorded in .venv, or None."""
    root = read_record(record).get("root")
    if not root or not is_odoo_source(root):
        return None
    odoo_bin = os.path.join(root, "odoo-bin")
    if os.path.isfile(odoo_bin):
        cmd = [sys.executable, odoo_bin]
    else:
        cmd = [
            sys.executable,
            "-c",
            "import os; os.environ['TZ'] = 'UTC'; import odoo.cli; odoo.cli.main()",
        ]
    addons = [
        path
        for path in (os.path.join(root, "addons"), os.path.join(root, "odoo", "addons"))
        if os.path.isdir(path)
    ]
    return cmd, addons


def reexec_in_venv(vpython, script, argv):
    """Run script again with the venv's Python (its bin/ first on PATH)."""
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(vpython) + os.pathsep + env.get("PATH", "")
    env["VIRTUAL_ENV"] = VENV
    sys.stdout.flush()
    os.execve(vpython, [vpython, script, *argv], env)
