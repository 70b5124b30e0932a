"""The run and test commands: how they find or install Odoo, and the one-line
messages when something is missing."""

import importlib.util
import pathlib
import re
import subprocess
import sys
import tarfile
import time
import types

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


# the bootstrap's decisions (bin/_bootstrap.py), without installing anything


def load_bootstrap():
    spec = importlib.util.spec_from_file_location("_bootstrap", BIN / "_bootstrap.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_source(folder, odoo_bin=True):
    (folder / "odoo").mkdir(parents=True)
    (folder / "odoo" / "__init__.py").write_text("")
    (folder / "odoo" / "addons").mkdir()
    (folder / ("odoo-bin" if odoo_bin else "setup.py")).write_text("")
    (folder / "requirements.txt").write_text("cbor2==5.4.2 ; python_version < '3.12'\n")
    return folder


def test_source_folder_archive_url_and_git_are_told_apart(tmp_path):
    bs = load_bootstrap()
    folder = make_source(tmp_path / "odoo-src")
    archive = tmp_path / "odoo_18.0.latest.tar.xz"
    archive.write_bytes(b"")
    assert bs.classify_source(str(folder)) == ("folder", str(folder), None)
    assert bs.classify_source(str(archive)) == ("archive", str(archive), None)
    url = "https://example.org/odoo_18.0.tar.gz"
    assert bs.classify_source(url) == ("url", url, None)
    assert bs.classify_source("git+https://github.com/odoo/odoo@18.0") == (
        "git",
        "https://github.com/odoo/odoo",
        "18.0",
    )
    assert bs.classify_source("https://github.com/odoo/odoo.git") == (
        "git",
        "https://github.com/odoo/odoo.git",
        "18.0",
    )
    assert bs.classify_source("git@github.com:odoo/odoo.git@saas-18.1")[2] == (
        "saas-18.1"
    )


def test_default_source_is_odoo_path_else_official_archive(tmp_path):
    bs = load_bootstrap()
    folder = make_source(tmp_path / "opt-odoo")
    assert bs.classify_source("", str(folder)) == ("folder", str(folder), None)
    kind, location, _ref = bs.classify_source(None, str(tmp_path / "nowhere"))
    assert (kind, location) == ("url", bs.DEFAULT_SOURCE)
    assert location.startswith("https://nightly.odoo.com/18.0/")


def test_bad_source_is_one_line(tmp_path):
    bs = load_bootstrap()
    (tmp_path / "empty").mkdir()
    for spec in (str(tmp_path / "missing"), str(tmp_path / "empty")):
        try:
            bs.classify_source(spec)
        except bs.BootstrapError as error:
            assert "ODOO_SOURCE" in str(error)
            assert "\n" not in str(error)
        else:
            raise AssertionError(f"{spec} accepted")


def test_archive_with_one_top_folder_is_extracted(tmp_path):
    bs = load_bootstrap()
    make_source(tmp_path / "build" / "odoo-18.0")
    archive = tmp_path / "odoo-18.0.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(tmp_path / "build" / "odoo-18.0", arcname="odoo-18.0")
    src = tmp_path / "src"
    root = bs.fetch_source("archive", str(archive), None, src_dir=str(src))
    assert root.endswith("odoo-18.0")
    assert bs.is_odoo_source(root)
    assert str(src) in root


def test_failed_download_says_what_to_do(tmp_path):
    bs = load_bootstrap()

    def opener(url, timeout):
        raise OSError("Network is unreachable")

    try:
        bs.download("https://nightly.odoo.com/x.tar.gz", str(tmp_path / "x"), opener)
    except bs.BootstrapError as error:
        message = str(error)
    assert "https://nightly.odoo.com/x.tar.gz" in message
    assert "ODOO_SOURCE" in message and "\n" not in message
    assert not list(tmp_path.iterdir())


def test_source_already_in_place_is_kept(tmp_path):
    bs = load_bootstrap()
    root = str(make_source(tmp_path / "odoo"))
    record = {"source": "folder:/x", "root": root}
    assert bs.source_in_place("folder:/x", record) == root
    assert bs.source_in_place("url:https://other", record) is None
    assert (
        bs.source_in_place("folder:/x", {"source": "folder:/x", "root": "/no"}) is None
    )


def test_system_packages_present_missing_not_root_and_root():
    bs = load_bootstrap()
    calls = []

    def run(cmd, **kwargs):
        calls.append(cmd)
        return types.SimpleNamespace(returncode=0)

    def which(name):
        return f"/usr/bin/{name}"

    present = [("Chromium", True, "chromium"), ("wkhtmltopdf", True, "wkhtmltopdf")]
    assert bs.system_packages(present, root=True, run=run, which=which) == ([], None)
    missing = [("Chromium", False, "chromium"), ("LDAP headers", False, "libldap2-dev")]
    installed, hint = bs.system_packages(missing, root=False, run=run, which=which)
    assert not installed and not calls
    assert hint == (
        "missing Chromium, LDAP headers: install them with "
        "sudo apt-get install -y chromium libldap2-dev"
    )
    installed, hint = bs.system_packages(missing, root=True, run=run, which=which)
    assert hint is None and installed == ["chromium", "libldap2-dev"]
    assert calls == [
        ["apt-get", "install", "-y", "--no-install-recommends", *installed]
    ]


def test_postgres_role_created_when_root_else_hinted():
    odoo_env = load_env_module()
    calls = []

    def run(cmd, **kwargs):
        calls.append(cmd)
        if cmd[0] == "psql":
            return types.SimpleNamespace(
                returncode=2, stderr='FATAL:  role "alice" does not exist'
            )
        return types.SimpleNamespace(returncode=0)

    hint = odoo_env.ensure_role("alice", run=run, root=False)
    assert hint == (
        "PostgreSQL has no role alice: sudo -u postgres createuser --superuser alice"
    )
    assert len(calls) == 1
    if odoo_env.shutil.which("runuser"):
        assert odoo_env.ensure_role("alice", run=run, root=True) is None
        assert calls[-1][-3:] == ["createuser", "--superuser", "alice"]


def test_unsupported_python_looks_on_path():
    bs = load_bootstrap()
    versions = {"/usr/bin/python3.13": (3, 13), "/usr/bin/python3.11": (3, 11)}

    def which(name):
        path = f"/usr/bin/{name}"
        return path if path in versions else None

    chosen = bs.choose_python("/usr/bin/python3.13", which, versions.get)
    assert chosen == "/usr/bin/python3.11"
    try:
        bs.choose_python("/usr/bin/python3.13", lambda name: None, versions.get)
    except bs.BootstrapError as error:
        assert "3.12" in str(error) and "\n" not in str(error)
    else:
        raise AssertionError("no Python 3.10-3.12 accepted")


def test_constraints_replace_odoo_pins():
    bs = load_bootstrap()
    odoo = (
        "cbor2==5.4.2 ; python_version < '3.12'\n"
        "cbor2==5.6.2 ; python_version >= '3.12'\n"
        "Babel==2.10.3 ; python_version >= '3.11'\n"
        "python-ldap==3.4.0 ; sys_platform != 'win32'  # comment\n"
    )
    constraints = pathlib.Path(bs.CONSTRAINTS).read_text()
    merged = bs.merge_requirements(odoo, constraints)
    assert "cbor2==5.4.2" not in merged
    assert "cbor2==5.4.6 ; python_version < '3.12'" in merged
    assert "cbor2==5.6.2 ; python_version >= '3.12'" in merged
    assert "Babel==2.10.3" in merged and "python-ldap==3.4.0" in merged
    assert "setuptools>=65,<70" in merged


def test_every_constraint_says_why():
    bs = load_bootstrap()
    block = []
    for line in pathlib.Path(bs.CONSTRAINTS).read_text().splitlines():
        if line.startswith("#"):
            block.append(line)
        elif bs.requirement_name(line):
            assert block, f"{line}: no comment above saying why"
        else:
            block = []


def test_warm_run_skips_pip(monkeypatch, tmp_path):
    bs = load_bootstrap()
    root = make_source(tmp_path / "odoo")
    monkeypatch.setattr(bs, "VENV", str(tmp_path))
    monkeypatch.setattr(bs, "STAMP", str(tmp_path / "bootstrap.stamp"))
    installs = []
    monkeypatch.setattr(bs, "pip_install", lambda *args, **kw: installs.append(args))
    assert bs.install_requirements("/venv/python", str(root), None) is True
    assert len(installs) == 2
    assert bs.install_requirements("/venv/python", str(root), None) is False
    assert len(installs) == 2
    # a changed Odoo requirements.txt installs again
    (root / "requirements.txt").write_text("polib==1.1.1\n")
    assert bs.install_requirements("/venv/python", str(root), None) is True


def test_found_odoo_is_used_and_nothing_is_added(monkeypatch):
    odoo_env = load_env_module()
    found = (["/usr/bin/python3", "/opt/odoo/odoo-bin"], ["/opt/odoo/odoo/addons"])
    monkeypatch.setattr(odoo_env.bs, "in_venv", lambda: False)
    monkeypatch.setattr(odoo_env, "find_odoo", lambda: found)
    monkeypatch.setattr(odoo_env, "check_odoo_python", lambda: None)

    def no_bootstrap(environ=None):
        raise AssertionError("bootstrap ran although Odoo was found")

    monkeypatch.setattr(odoo_env.bs, "bootstrap", no_bootstrap)
    assert odoo_env.ensure_odoo("bin/test", []) == found


def test_missing_odoo_bootstraps_then_reruns_in_venv(monkeypatch):
    odoo_env = load_env_module()
    reason = "Odoo 18 not found: no /nowhere/odoo-bin and no importable 'odoo'."
    monkeypatch.setattr(odoo_env.bs, "in_venv", lambda: False)
    monkeypatch.setattr(odoo_env, "find_odoo", lambda: (None, reason))
    calls = []
    monkeypatch.setattr(odoo_env.bs, "bootstrap", lambda environ: "/r/.venv/bin/python")
    monkeypatch.setattr(odoo_env.bs, "reexec_in_venv", lambda *args: calls.append(args))
    odoo_env.ensure_odoo("bin/test", ["--tags", "x"], environ={})
    assert calls == [("/r/.venv/bin/python", "bin/test", ["--tags", "x"])]
    # opted out, or the bootstrap fails: the reason in one line
    assert odoo_env.ensure_odoo("bin/test", [], {"SOF_NO_BOOTSTRAP": "1"}) == (
        None,
        reason,
    )

    def failing(environ):
        raise odoo_env.bs.BootstrapError("could not download X: set ODOO_SOURCE")

    monkeypatch.setattr(odoo_env.bs, "bootstrap", failing)
    assert odoo_env.ensure_odoo("bin/test", [], {}) == (
        None,
        "could not download X: set ODOO_SOURCE",
    )


def test_pre_commit_runs_the_lint_of_bin_test():
    """.pre-commit-config.yaml and bin/test's lint step name the same commands."""
    config = (BIN.parent / ".pre-commit-config.yaml").read_text()
    entries = [
        line.split("entry:", 1)[1].strip()
        for line in config.splitlines()
        if line.strip().startswith("entry:")
    ]
    lint = (BIN / "test").read_text()
    steps = [
        " ".join(re.findall(r'"([^"]+)"', step))
        for step in re.findall(r"\[\s*(\"(?:ruff|pylint)\".*?)\]", lint, re.S)
    ]
    assert steps[:2] == ["ruff check .", "ruff format --check ."]
    assert steps[2] == "pylint --rcfile=.pylintrc --load-plugins=pylint_odoo"
    module = "sales_order_flow"
    assert entries == ["ruff check", "ruff format --check", f"{steps[2]} {module}"]


def test_replaced_archive_is_unpacked_again(tmp_path):
    bs = load_bootstrap()
    archive = tmp_path / "odoo.tar.gz"
    archive.write_bytes(b"one")
    first = bs.source_key("archive", str(archive))
    archive.write_bytes(b"other content")
    assert bs.source_key("archive", str(archive)) != first
    assert bs.source_key("git", "https://x/odoo.git", "18.0") == (
        "git:https://x/odoo.git@18.0"
    )


def test_source_in_venv_is_kept_without_odoo_source(tmp_path):
    bs = load_bootstrap()
    root = str(make_source(tmp_path / "odoo"))
    record = {
        "source": "archive:/tmp/odoo-18.0.tar.gz (1 bytes, mtime 2)",
        "root": root,
    }
    # no ODOO_SOURCE: keep it, no download of the default source
    decision = bs.decide_source({"ODOO_PATH": "/nowhere"}, record)
    assert decision[0] == "archive" and decision[-1] == root
    # another ODOO_SOURCE: bring that one
    other = make_source(tmp_path / "other")
    decision = bs.decide_source({"ODOO_SOURCE": str(other)}, record)
    assert decision == ("folder", str(other), None, f"folder:{other}", None)
    # nothing in .venv yet and no ODOO_SOURCE: Odoo's official source
    decision = bs.decide_source({"ODOO_PATH": "/nowhere"}, {})
    assert decision[:2] == ("url", bs.DEFAULT_SOURCE) and decision[-1] is None


def test_what_the_bootstrap_writes_is_ignored_by_git():
    bs = load_bootstrap()
    repo = pathlib.Path(bs.REPO)
    if not (repo / ".git").exists() or not bs.shutil.which("git"):
        return
    written = [bs.SRC_DIR + "/odoo.tar.gz", bs.LOG, bs.STAMP, bs.RECORD]
    written += [str(repo / ".test-logs" / "odoo-test-x.log")]
    proc = subprocess.run(
        ["git", "check-ignore", "--no-index", *written],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )
    assert sorted(proc.stdout.split()) == sorted(written)


def load_deadline_module():
    sys.path.insert(0, str(BIN))
    spec = importlib.util.spec_from_file_location("_deadline", BIN / "_deadline.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SILENT_HANG = """
import subprocess, sys, threading, time
# a child that outlives its parent and keeps the output pipe open
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
print("started", flush=True)
threading.Thread(target=time.sleep, args=(600,)).start()
threading.Event().wait()
"""


def test_deadline_holds_when_nothing_is_printed():
    """A command that hangs silently is stopped at its deadline, prints where each
    thread was, and leaves no process behind (bin/test once waited 90 min)."""
    deadline = load_deadline_module()
    lines, reported = [], []
    started = time.monotonic()
    returncode, timed_out = deadline.run(
        [sys.executable, "-c", SILENT_HANG],
        3,
        lines.append,
        on_timeout=lambda: reported.append(True),
    )
    elapsed = time.monotonic() - started
    assert timed_out and reported == [True]
    assert returncode != 0
    assert elapsed < 3 + 2 * deadline.DUMP_GRACE + 3, elapsed
    output = "".join(lines)
    assert output.startswith("started")
    # faulthandler's dump of both threads, taken while they were blocked in C
    assert output.count("hread 0x") >= 2, output
    assert "<string>" in output
    left = subprocess.run(
        ["pgrep", "-f", "import time; time.sleep(600)"], capture_output=True, text=True
    )
    assert not left.stdout.strip(), left.stdout


def test_deadline_passes_input_and_exit_code_through():
    deadline = load_deadline_module()
    lines = []
    returncode, timed_out = deadline.run(
        [
            sys.executable,
            "-c",
            "import sys; print(sys.stdin.read().upper()); sys.exit(3)",
        ],
        30,
        lines.append,
        stdin_text="ok",
    )
    assert (returncode, timed_out, lines) == (3, False, ["OK\n"])


def test_process_left_running_does_not_hold_the_run():
    """Odoo starts Chrome with its own stdout: a browser process that outlives
    Odoo keeps the pipe open. The run ends when the command ends, and what it
    left running is stopped."""
    deadline = load_deadline_module()
    lines = []
    started = time.monotonic()
    returncode, timed_out = deadline.run(
        [
            sys.executable,
            "-c",
            "import subprocess, sys; "
            "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(601)']);"
            " print('bye')",
        ],
        120,
        lines.append,
    )
    assert (returncode, timed_out, lines) == (0, False, ["bye\n"])
    assert time.monotonic() - started < 2 * deadline.DUMP_GRACE, "waited for the pipe"
    left = subprocess.run(
        ["pgrep", "-f", "time.sleep(601)"], capture_output=True, text=True
    )
    assert not left.stdout.strip(), left.stdout


def test_deadline_shortened_once_the_process_is_finished():
    """After its last word (Odoo's test summary) a process gets ``exit_grace``
    seconds to exit, not the rest of its deadline."""
    deadline = load_deadline_module()
    lines = []
    started = time.monotonic()
    _returncode, timed_out = deadline.run(
        [
            sys.executable,
            "-c",
            "import time; print('summary', flush=True); time.sleep(600)",
        ],
        300,
        lines.append,
        finished=lambda: "summary\n" in lines,
        exit_grace=1,
    )
    assert timed_out
    assert time.monotonic() - started < 1 + 2 * deadline.DUMP_GRACE + 3
    assert lines[0] == "summary\n"
