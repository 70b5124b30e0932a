#!/usr/bin/env python3
"""Benchmark: mass quotations for 1,000 customers (run on demand, not in CI).

Creates 1,000 customers and a 10-line source quotation in a database where
sales_order_flow is installed, creates one quotation per customer through the
mass quotation run (batches, savepoints, per-customer pricing), prints

    mass quotations: 1000 customers in X.XX s (N created, N failed)

and rolls everything back: the database is left as it was.

Usage:
    python3 bench/bench_mass_quotation.py --db <db with sales_order_flow installed>
        [--customers 1000] [--lines 10] [--send] [--db-host HOST]

Odoo is found through ODOO_PATH (default /opt/odoo) or an importable ``odoo``,
as bin/run and bin/test do. The goal is under 60 s on a 2-core machine.
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
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--lines", type=int, default=10)
    parser.add_argument("--send", action="store_true", help="also email the quotations")
    parser.add_argument(
        "--db-host", default="", help="PostgreSQL host (default: local socket)"
    )
    return parser.parse_args()


def main():
    args = parse_args()
    odoo, odoo_path = import_odoo()
    from odoo import SUPERUSER_ID, Command, api  # noqa: PLC0415
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
            env = api.Environment(cr, SUPERUSER_ID, {})
            if "sale.flow.mass.quotation" not in env:
                sys.exit(f"sales_order_flow is not installed in {args.db}.")
            run = setup(env, Command, args)
            start = time.perf_counter()
            run._flow_start(immediate=True)
            env.flush_all()
            elapsed = time.perf_counter() - start
            print(
                f"mass quotations: {args.customers} customers in {elapsed:.2f} s "
                f"({run.created_count} created, {run.failed_count} failed"
                + (f", {run.sent_count} sent" if args.send else "")
                + ")"
            )
        finally:
            # a benchmark leaves no trace: never commit
            cr.rollback()


def setup(env, Command, args):
    """Customers, products and the source quotation; returns a draft run."""
    company = env.company
    user = env.ref("base.user_admin")
    products = env["product.product"].create(
        [
            {
                "name": f"Bench Product {index}",
                "type": "consu",
                "list_price": 10.0 + index,
                "standard_price": 5.0 + index,
            }
            for index in range(args.lines)
        ]
    )
    customers = env["res.partner"].create(
        [
            {
                "name": f"Bench Customer {index}",
                "email": f"bench{index}@example.com",
                "is_company": True,
            }
            for index in range(args.customers)
        ]
    )
    source = env["sale.order"].create(
        {
            "partner_id": customers[0].id,
            "company_id": company.id,
            "user_id": user.id,
            "order_line": [
                Command.create({"product_id": product.id, "product_uom_qty": 2.0})
                for product in products
            ],
        }
    )
    return (
        env["sale.flow.mass.quotation"]
        .with_user(user)
        .with_company(company)
        .create(
            {
                "name": "Benchmark",
                "source_order_id": source.id,
                "partner_ids": [Command.set(customers.ids)],
                "send_quotations": args.send,
            }
        )
    )


if __name__ == "__main__":
    main()
