"""Shared helpers for bin/run and bin/test: locate Odoo and PostgreSQL.

Both commands find Odoo through ODOO_PATH (default /opt/odoo) or an importable
``odoo`` package. When there is none, they install Odoo 18 into the project's
.venv/ (see _bootstrap.py) and run again with its Python. They use the local
PostgreSQL, starting it when it is installed but stopped and creating a role for
the current user when there is none.
"""

import glob
import os
import pwd
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _bootstrap as bs

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODULE = "sales_order_flow"
# the main addon and its bridges (sales_order_flow_repair: Odoo's Repair app),
# installed, tested and linted together
MODULES = (MODULE, "sales_order_flow_repair")


def find_odoo():
    """Return (argv prefix to run Odoo, addons paths) or (None, reason)."""
    odoo_path = os.environ.get("ODOO_PATH", "/opt/odoo")
    odoo_bin = os.path.join(odoo_path, "odoo-bin")
    if os.path.isfile(odoo_bin):
        addons = [
            p
            for p in (
                os.path.join(odoo_path, "addons"),
                os.path.join(odoo_path, "odoo", "addons"),
            )
            if os.path.isdir(p)
        ]
        return [sys.executable, odoo_bin], addons
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import odoo, os; print(os.path.dirname(odoo.__file__))",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode == 0 and probe.stdout.strip():
        pkg = probe.stdout.strip()
        addons = [
            path
            for path in (
                os.path.join(os.path.dirname(pkg), "addons"),  # a git checkout's
                os.path.join(pkg, "addons"),
            )
            if os.path.isdir(path)
        ]
        odoo_bin = os.path.join(os.path.dirname(pkg), "odoo-bin")
        if os.path.isfile(odoo_bin):
            return [sys.executable, odoo_bin], addons
        cmd = "import os; os.environ['TZ'] = 'UTC'; import odoo.cli; odoo.cli.main()"
        return [sys.executable, "-c", cmd], addons
    return None, (
        f"Odoo 18 not found: no {odoo_bin} and no importable 'odoo'. "
        "Install Odoo 18.0 from source (set ODOO_PATH to its folder) "
        "or pip-install it into this Python."
    )


def check_odoo_python():
    """Return None when Odoo's Python dependencies import, else a one-line hint."""
    probe = subprocess.run(
        [sys.executable, "-c", "import psycopg2, lxml, werkzeug, babel, reportlab"],
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode:
        return (
            "Odoo's Python dependencies are missing: "
            "pip install -r $ODOO_PATH/requirements.txt"
        )
    return None


def ensure_odoo(script, argv, environ=None):
    """Find Odoo for bin/run and bin/test; install it into .venv when missing.

    Return (argv prefix, addons paths) or (None, one-line reason). When the
    bootstrap ran (or .venv is ready), this does not return: the script runs
    again with the venv's Python.
    """
    environ = os.environ if environ is None else environ
    if bs.in_venv():
        found = bs.venv_odoo()
        if found:
            return found
    odoo_cmd, addons = find_odoo()
    if odoo_cmd is not None and not check_odoo_python():
        return odoo_cmd, addons
    reason = addons if odoo_cmd is None else check_odoo_python()
    if bs.in_venv() or environ.get("SOF_NO_BOOTSTRAP"):
        return None, reason
    print(
        f"{reason.split(':')[0]}: using Odoo 18 in .venv/ (installed when missing)",
        flush=True,
    )
    try:
        vpython = bs.bootstrap(environ)
    except bs.BootstrapError as error:
        return None, str(error)
    bs.reexec_in_venv(vpython, script, argv)
    return None, "not reached"


def ensure_role(user=None, run=subprocess.run, root=None):
    """Create a PostgreSQL superuser role for the current user when missing.

    Return None when the role exists or was created, else a one-line hint.
    """
    user = user or pwd.getpwuid(os.geteuid()).pw_name
    probe = run(
        ["psql", "-d", "postgres", "-Atc", "select 1"],
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode == 0 or "does not exist" not in (probe.stderr or ""):
        return None
    root = bs.is_root() if root is None else root
    create = ["createuser", "--superuser", user]
    if root and shutil.which("runuser"):
        if run(["runuser", "-u", "postgres", "--", *create], check=False).returncode:
            return f"could not create the PostgreSQL role {user}"
        print(f"PostgreSQL: created the role {user}", flush=True)
        return None
    return (
        f"PostgreSQL has no role {user}: sudo -u postgres createuser --superuser {user}"
    )


def ensure_postgres():
    """Return None when PostgreSQL answers (starting it if stopped, creating the
    current user's role if missing), else a one-line hint."""
    if not shutil.which("pg_isready"):
        return "PostgreSQL client not found: apt-get install postgresql"
    if subprocess.run(["pg_isready", "-q"], check=False).returncode == 0:
        return ensure_role()
    versions = sorted(glob.glob("/etc/postgresql/*/main"))
    if versions and shutil.which("pg_ctlcluster"):
        version = versions[-1].split("/")[3]
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"],
            check=False,
        )
        for _attempt in range(30):
            if subprocess.run(["pg_isready", "-q"], check=False).returncode == 0:
                return ensure_role()
            subprocess.run(["sleep", "1"], check=False)
    return (
        "PostgreSQL is not running and could not be started: "
        "install it (apt-get install postgresql) and start it (pg_ctlcluster)"
    )


def addons_path(odoo_addons):
    return ",".join([REPO, *odoo_addons])


def db_exists(name):
    out = subprocess.run(
        ["psql", "-d", "postgres", "-Atl"], capture_output=True, text=True, check=False
    )
    return any(line.split("|")[0] == name for line in out.stdout.splitlines())


def psql(db, query, timeout=60):
    """Run ``query`` in ``db`` with psql (unaligned, tuples only, no psqlrc)."""
    return subprocess.run(
        ["psql", "-d", db, "-AXtc", query],
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )


def print_db_sessions(db):
    """Print what the database's sessions are doing and waiting for: the first
    thing to read when a run stops moving."""
    out = psql(
        db,
        "SELECT pid, state, wait_event_type || ':' || wait_event,"
        " pg_blocking_pids(pid), now() - xact_start, left(query, 300)"
        " FROM pg_stat_activity WHERE datname = current_database()"
        " AND pid <> pg_backend_pid()",
        timeout=30,
    )
    print(f"sessions of {db} at the deadline:")
    print(out.stdout or out.stderr or "(none)")
