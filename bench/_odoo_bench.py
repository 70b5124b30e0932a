"""What every bench/ script shares: find Odoo, open the database in process,
run the benchmark in one transaction and roll it back, profile on demand, and
copy a real record by SQL when the ORM would take longer than what is measured.

Odoo is found through ODOO_PATH (default /opt/odoo) or an importable ``odoo``,
as bin/run and bin/test do.
"""

# pylint: disable=print-used
import argparse
import contextlib
import cProfile
import os
import pstats
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def import_odoo():
    """Import Odoo from ODOO_PATH, else from the Python path; exit with a hint."""
    odoo_path = os.environ.get("ODOO_PATH", "/opt/odoo")
    if os.path.isfile(os.path.join(odoo_path, "odoo-bin")):
        sys.path.insert(0, odoo_path)
    try:
        import odoo  # noqa: PLC0415 - located at run time, see above
    except ImportError:
        sys.exit(
            f"Odoo 18 not found: no {odoo_path}/odoo-bin and no importable 'odoo'. "
            "Set ODOO_PATH to an Odoo 18.0 source folder."
        )
    return odoo, odoo_path


def argument_parser(doc):
    """Parser with the options every benchmark takes; ``doc`` is the script's
    docstring, whose first line describes it.
    """
    parser = argparse.ArgumentParser(description=doc.split("\n", 1)[0])
    parser.add_argument("--db", required=True, help="database with the module")
    parser.add_argument(
        "--db-host", default="", help="PostgreSQL host (default: local socket)"
    )
    parser.add_argument(
        "--profile", action="store_true", help="print a cProfile of the timed step"
    )
    return parser


@contextlib.contextmanager
def bench_env(args, model, context=None):
    """Superuser environment on ``args.db``, rolled back on leaving: a
    benchmark leaves no trace. Exits when ``model`` is not installed there.
    """
    odoo, odoo_path = import_odoo()
    from odoo import SUPERUSER_ID, api  # noqa: PLC0415
    from odoo.modules.registry import Registry  # noqa: PLC0415

    addons = [
        path
        for path in (
            os.path.join(odoo_path, "addons"),
            os.path.join(odoo_path, "odoo", "addons"),
        )
        if os.path.isdir(path)
    ]
    odoo.tools.config.parse_config(
        [
            "-d",
            args.db,
            f"--db_host={args.db_host}",
            f"--addons-path={','.join([REPO, *addons])}",
            "--log-level=warn",
        ]
    )
    registry = Registry(args.db)
    with registry.cursor() as cr:
        try:
            env = api.Environment(cr, SUPERUSER_ID, context or {})
            if model not in env:
                sys.exit(f"sales_order_flow is not installed in {args.db}.")
            yield env
        finally:
            # never commit
            cr.rollback()


@contextlib.contextmanager
def profiled(enabled, limit=40):
    """Print the cumulative cProfile of the block when ``enabled``."""
    if not enabled:
        yield
        return
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        yield
    finally:
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(limit)


def table_columns(cr, table, skip):
    """Stored columns of ``table`` but those in ``skip``, in table order."""
    from odoo.tools import SQL  # noqa: PLC0415

    cr.execute(
        SQL(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = %s AND column_name != ALL(%s) "
            "ORDER BY ordinal_position",
            table,
            list(skip),
        )
    )
    return [row[0] for row in cr.fetchall()]


def copy_rows(
    cr, table, template_ids, overrides, sources=None, where=None, returning=None
):
    """Copy rows of ``table`` by one INSERT ... SELECT.

    Every row ``src`` whose id is in ``template_ids`` is copied once per row of
    ``sources`` (extra FROM items, an ``SQL``) that meets ``where`` (an ``SQL``
    condition), with ``overrides`` ({column: SQL expression}) replacing the
    copied values; expressions may use ``src`` and the sources' aliases.
    Returns the rows of ``returning`` (an ``SQL`` list of columns), if given.
    """
    from odoo.tools import SQL  # noqa: PLC0415

    columns = table_columns(cr, table, {"id", *overrides})
    cr.execute(
        SQL(
            """
            INSERT INTO %(table)s (%(columns)s, %(override_columns)s)
            SELECT %(copied)s, %(override_values)s
              FROM %(table)s src %(sources)s
             WHERE src.id = ANY(%(templates)s) %(where)s
            %(returning)s
            """,
            table=SQL.identifier(table),
            columns=SQL(", ").join(map(SQL.identifier, columns)),
            override_columns=SQL(", ").join(map(SQL.identifier, overrides)),
            copied=SQL(", ").join(SQL.identifier("src", column) for column in columns),
            override_values=SQL(", ").join(overrides.values()),
            sources=SQL(", %s", sources) if sources else SQL(),
            templates=list(template_ids),
            where=SQL("AND %s", where) if where else SQL(),
            returning=SQL("RETURNING %s", returning) if returning else SQL(),
        )
    )
    return cr.fetchall() if returning else []
