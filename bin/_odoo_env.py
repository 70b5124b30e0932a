"""Shared helpers for bin/run and bin/test: locate Odoo and PostgreSQL.

Both commands find Odoo through ODOO_PATH (default /opt/odoo) or an importable
``odoo`` package, and use the local PostgreSQL, starting it when it is
installed but stopped.
"""

import glob
import os
import shutil
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODULE = "sales_order_flow"


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
        addons = [os.path.join(pkg, "addons")]
        return [sys.executable, "-c", "import odoo.cli; odoo.cli.main()"], addons
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


def ensure_postgres():
    """Return None when PostgreSQL answers (starting it if stopped), else a hint."""
    if not shutil.which("pg_isready"):
        return "PostgreSQL client not found: apt-get install postgresql"
    if subprocess.run(["pg_isready", "-q"], check=False).returncode == 0:
        return None
    versions = sorted(glob.glob("/etc/postgresql/*/main"))
    if versions and shutil.which("pg_ctlcluster"):
        version = versions[-1].split("/")[3]
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"],
            check=False,
        )
        for _attempt in range(30):
            if subprocess.run(["pg_isready", "-q"], check=False).returncode == 0:
                return None
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
