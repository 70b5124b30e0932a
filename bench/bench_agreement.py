#!/usr/bin/env python3
"""Benchmark: agreement consumption (run on demand, not in CI).

Creates 1,000 active agreements of 20 lines each (through the ORM) and 50,000
confirmed order lines placed against them (bulk-inserted in SQL from one
order line made by the ORM: creating 50,000 lines through the ORM would
measure order entry, not consumption), then recomputes the consumption of
every line and agreement from scratch and prints

    agreement consumption: 1000 agreements x 20 lines, 50000 order lines in X.XX s

and rolls everything back: the database is left as it was.

Usage:
    python3 bench/bench_agreement.py --db <db with sales_order_flow installed>
        [--agreements 1000] [--lines 20] [--order-lines 50000] [--db-host HOST]

Odoo is found through ODOO_PATH (default /opt/odoo) or an importable ``odoo``,
as bin/run and bin/test do.
"""

# pylint: disable=print-used
import argparse
import os
import sys
import time

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


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--db", required=True, help="database with the module")
    parser.add_argument("--agreements", type=int, default=1000)
    parser.add_argument("--lines", type=int, default=20)
    parser.add_argument("--order-lines", type=int, default=50000)
    parser.add_argument(
        "--db-host", default="", help="PostgreSQL host (default: local socket)"
    )
    return parser.parse_args()


def main():
    args = parse_args()
    odoo, odoo_path = import_odoo()
    from odoo import SUPERUSER_ID, Command, api  # noqa: PLC0415
    from odoo.modules.registry import Registry  # noqa: PLC0415
    from odoo.tools import SQL  # noqa: PLC0415

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
            env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
            if "sale.flow.agreement" not in env:
                sys.exit(f"sales_order_flow is not installed in {args.db}.")
            start = time.perf_counter()
            agreements = setup(env, Command, SQL, args)
            print(f"setup: {time.perf_counter() - start:.2f} s")
            env.invalidate_all()
            agreements = agreements.browse(agreements.ids)
            start = time.perf_counter()
            consumption = agreements.line_ids._flow_get_consumption()
            total = sum(agreements.mapped("amount_consumed"))
            elapsed = time.perf_counter() - start
            print(
                f"agreement consumption: {len(agreements)} agreements x "
                f"{args.lines} lines, {args.order_lines} order lines in "
                f"{elapsed:.2f} s ({len(consumption)} lines, used {total:.2f})"
            )
        finally:
            # a benchmark leaves no trace: never commit
            cr.rollback()


def setup(env, Command, SQL, args):
    """Agreements, one ORM order line, and the bulk-inserted order lines."""
    customer = env["res.partner"].create(
        {"name": "Bench Agreement Customer", "is_company": True}
    )
    product = env["product.product"].create(
        {"name": "Bench Agreement Service", "type": "service", "list_price": 10.0}
    )
    agreements = env["sale.flow.agreement"].create(
        [
            {
                "partner_id": customer.id,
                "date_end": "2099-12-31",
                "line_ids": [
                    Command.create(
                        {
                            "product_id": product.id,
                            "qty_committed": 1000.0,
                            "price_unit": 10.0,
                        }
                    )
                    for _line in range(args.lines)
                ],
            }
            for _index in range(args.agreements)
        ]
    )
    agreements.action_activate()
    order = env["sale.order"].create(
        {
            "partner_id": customer.id,
            "order_line": [
                Command.create(
                    {
                        "product_id": product.id,
                        "product_uom_qty": 1.0,
                        "flow_agreement_line_id": agreements.line_ids[0].id,
                    }
                )
            ],
        }
    )
    order.action_confirm()
    env.flush_all()
    template = order.order_line
    cr = env.cr
    cr.execute(
        SQL(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = 'sale_order_line' AND column_name != 'id'"
        )
    )
    columns = [row[0] for row in cr.fetchall()]
    replaced = {
        "flow_agreement_line_id": "al.id",
        "flow_agreement_id": "al.agreement_id",
    }
    select = SQL(", ").join(
        SQL(replaced[col]) if col in replaced else SQL("t.%s", SQL.identifier(col))
        for col in columns
    )
    line_ids = agreements.line_ids.ids
    # order line n goes to agreement line n modulo the number of lines
    cr.execute(
        SQL(
            "INSERT INTO sale_order_line (%s) "
            "SELECT %s FROM sale_order_line t, generate_series(1, %s) n "
            "JOIN sale_flow_agreement_line al "
            "ON al.id = (%s::int[])[1 + mod(n, %s)] WHERE t.id = %s",
            SQL(", ").join(SQL.identifier(col) for col in columns),
            select,
            args.order_lines - 1,
            line_ids,
            len(line_ids),
            template.id,
        )
    )
    return agreements


if __name__ == "__main__":
    main()
