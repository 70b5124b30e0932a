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
        [--agreements 1000] [--lines 20] [--order-lines 50000]
        [--db-host HOST] [--profile]

Odoo is found through ODOO_PATH (default /opt/odoo) or an importable ``odoo``,
as bin/run and bin/test do.
"""

# pylint: disable=print-used
import time

from _odoo_bench import argument_parser, bench_env, copy_rows, profiled


def parse_args():
    parser = argument_parser(__doc__)
    parser.add_argument("--agreements", type=int, default=1000)
    parser.add_argument("--lines", type=int, default=20)
    parser.add_argument("--order-lines", type=int, default=50000)
    return parser.parse_args()


def main():
    args = parse_args()
    with bench_env(args, "sale.flow.agreement", {"tracking_disable": True}) as env:
        start = time.perf_counter()
        agreements = setup(env, args)
        print(f"setup: {time.perf_counter() - start:.2f} s")
        env.invalidate_all()
        agreements = agreements.browse(agreements.ids)
        start = time.perf_counter()
        with profiled(args.profile):
            consumption = agreements.line_ids._flow_get_consumption()
            total = sum(agreements.mapped("amount_consumed"))
        elapsed = time.perf_counter() - start
        print(
            f"agreement consumption: {len(agreements)} agreements x "
            f"{args.lines} lines, {args.order_lines} order lines in "
            f"{elapsed:.2f} s ({len(consumption)} lines, used {total:.2f})"
        )


def setup(env, args):
    """Agreements, one ORM order line, and the bulk-inserted order lines."""
    from odoo import Command  # noqa: PLC0415
    from odoo.tools import SQL  # noqa: PLC0415

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
    line_ids = agreements.line_ids.ids
    # order line n goes to agreement line n modulo the number of lines
    copy_rows(
        env.cr,
        "sale_order_line",
        order.order_line.ids,
        {
            "flow_agreement_line_id": SQL("al.id"),
            "flow_agreement_id": SQL("al.agreement_id"),
        },
        sources=SQL(
            "generate_series(1, %s) n JOIN sale_flow_agreement_line al "
            "ON al.id = (%s::int[])[1 + mod(n, %s)]",
            args.order_lines - 1,
            line_ids,
            len(line_ids),
        ),
    )
    return agreements


if __name__ == "__main__":
    main()
