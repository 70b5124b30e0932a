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
        [--lines 1000] [--rules 50] [--db-host HOST] [--profile]
"""

# pylint: disable=print-used
import time

from _odoo_bench import argument_parser, bench_env, profiled


def parse_args():
    parser = argument_parser(__doc__)
    parser.add_argument("--lines", type=int, default=1000)
    parser.add_argument("--rules", type=int, default=50)
    return parser.parse_args()


def main():
    args = parse_args()
    with bench_env(args, "sale.flow.discount.rule") as env:
        from odoo import Command  # noqa: PLC0415

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
        queries = env.cr.sql_log_count
        start = time.perf_counter()
        with profiled(args.profile):
            order.action_flow_recompute_discounts()
            env.flush_all()
        recomputed = time.perf_counter() - start
        queries = env.cr.sql_log_count - queries
        print(
            f"discount rules: {args.lines} lines, {args.rules} rules: "
            f"create {created:.2f} s, recompute {recomputed:.2f} s "
            f"({queries} queries)"
        )


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
