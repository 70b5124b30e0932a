#!/usr/bin/env python3
"""Benchmark: discount rules on a 1,000-line quotation (run on demand, not in CI).

Creates 50 discount rules (category, volume, customer tag, amount off, free
items) and a quotation of --lines lines in a database where sales_order_flow is
installed, then times

    * creating the quotation (rules applied once, at the end of the create),
    * "Recompute Discounts" after every quantity changed,

prints

    discount rules: 1000 lines, 50 rules: create X.XX s, recompute X.XX s (N queries)

and rolls everything back: the database is left as it was.

Usage:
    python3 bench/bench_discount.py --db <db with sales_order_flow installed>
        [--lines 1000] [--rules 50] [--db-host HOST]
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
    parser.add_argument("--lines", type=int, default=1000)
    parser.add_argument("--rules", type=int, default=50)
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
            if "sale.flow.discount.rule" not in env:
                sys.exit(f"sales_order_flow is not installed in {args.db}.")
            customer, products = setup(env, Command, args)
            start = time.perf_counter()
            order = env["sale.order"].create(
                {
                    "partner_id": customer.id,
                    "order_line": [
                        Command.create(
                            {
                                "product_id": products[index % len(products)].id,
                                "product_uom_qty": 5 + index % 60,
                            }
                        )
                        for index in range(args.lines)
                    ],
                }
            )
            env.flush_all()
            created = time.perf_counter() - start
            order.order_line.with_context(sale_flow_discount_applying=True).write(
                {"product_uom_qty": 55}
            )
            env.flush_all()
            queries = cr.sql_log_count
            start = time.perf_counter()
            order.action_flow_recompute_discounts()
            env.flush_all()
            recomputed = time.perf_counter() - start
            queries = cr.sql_log_count - queries
            print(
                f"discount rules: {args.lines} lines, {args.rules} rules: "
                f"create {created:.2f} s, recompute {recomputed:.2f} s "
                f"({queries} queries)"
            )
        finally:
            # a benchmark leaves no trace: never commit
            cr.rollback()


def setup(env, Command, args):
    """Products, a tagged customer and the rules."""
    categ = env["product.category"].create({"name": "Bench category"})
    tag = env["res.partner.category"].create({"name": "Bench tag"})
    customer = env["res.partner"].create(
        {"name": "Bench customer", "is_company": True, "category_id": tag.ids}
    )
    products = env["product.product"].create(
        [
            {"name": f"Bench product {i}", "list_price": 10.0 + i, "categ_id": categ.id}
            for i in range(20)
        ]
    )
    effects = [
        {"categ_ids": [Command.set(categ.ids)], "discount_percent": 5.0},
        {"min_qty": 50, "level": "2", "discount_percent": 3.0},
        {
            "partner_category_ids": [Command.set(tag.ids)],
            "level": "3",
            "effect": "fixed",
            "fixed_amount": 0.5,
        },
        {
            "product_ids": [Command.set(products[:2].ids)],
            "effect": "free",
            "free_product_id": products[0].id,
            "free_per_qty": 10,
            "free_qty": 1,
        },
        {"min_order_amount": 10**9, "discount_percent": 50.0},
    ]
    env["sale.flow.discount.rule"].create(
        [
            {"name": f"Bench rule {i}", "sequence": i, **effects[i % len(effects)]}
            for i in range(args.rules)
        ]
    )
    return customer, products


if __name__ == "__main__":
    main()
