#!/usr/bin/env python3
"""Benchmark: mass quotations for 1,000 customers (run on demand, not in CI).

Creates 1,000 customers and a 10-line source quotation in a database where
sales_order_flow is installed, creates one quotation per customer through the
mass quotation run (batches, savepoints, per-customer pricing), prints

    mass quotations: 1000 customers in X.XX s (N created, N failed)

and rolls everything back: the database is left as it was.

Usage:
    python3 bench/bench_mass_quotation.py --db <db with sales_order_flow installed>
        [--customers 1000] [--lines 10] [--send] [--db-host HOST] [--profile]

Odoo is found through ODOO_PATH (default /opt/odoo) or an importable ``odoo``,
as bin/run and bin/test do. The goal is under 60 s on a 2-core machine.
"""

# pylint: disable=print-used
import time

from _odoo_bench import argument_parser, bench_env, profiled


def parse_args():
    parser = argument_parser(__doc__)
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--lines", type=int, default=10)
    parser.add_argument("--send", action="store_true", help="also email the quotations")
    return parser.parse_args()


def main():
    args = parse_args()
    with bench_env(args, "sale.flow.mass.quotation") as env:
        from odoo import Command  # noqa: PLC0415

        run = setup(env, Command, args)
        start = time.perf_counter()
        with profiled(args.profile):
            run._flow_start(immediate=True)
            env.flush_all()
        elapsed = time.perf_counter() - start
        print(
            f"mass quotations: {args.customers} customers in {elapsed:.2f} s "
            f"({run.created_count} created, {run.failed_count} failed"
            + (f", {run.sent_count} sent" if args.send else "")
            + ")"
        )


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
