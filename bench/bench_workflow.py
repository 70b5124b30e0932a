#!/usr/bin/env python3
"""Benchmark: the automatic workflow on 1,000 delivered orders (on demand, not in CI).

Creates an "invoice on delivery" profile, ``--orders`` confirmed orders of
``--lines`` goods lines and validates their deliveries through the ORM (not
timed), then times the workflow cron, which invoices and posts every
delivery, and prints:

    workflow run: N delivered orders -> M invoices in X.XX s (Y orders/s)

The cron's commits are switched off and everything is rolled back: the
database is left as it was.

Usage:
    python3 bench/bench_workflow.py --db <db with sales_order_flow installed>
        [--orders 1000] [--lines 5] [--db-host HOST] [--profile]
"""

# pylint: disable=print-used
import time

from _odoo_bench import argument_parser, bench_env, profiled


def parse_args():
    parser = argument_parser(__doc__)
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--lines", type=int, default=5)
    return parser.parse_args()


def main():
    args = parse_args()
    context = {"tracking_disable": True, "mail_notrack": True}
    with bench_env(args, "sale.flow.workflow", context) as env:
        start = time.perf_counter()
        orders = setup(env, args)
        print(
            f"setup (not timed): {len(orders)} delivered orders of {args.lines} "
            f"lines in {time.perf_counter() - start:.2f} s"
        )
        SaleOrder = env["sale.order"]
        # the benchmark runs in one transaction that is rolled back
        type(SaleOrder)._flow_workflow_commit = lambda self: None
        start = time.perf_counter()
        with profiled(args.profile):
            SaleOrder._cron_flow_workflow()
            env.flush_all()
        elapsed = time.perf_counter() - start
        invoices = len(orders.invoice_ids)
        print(
            f"workflow run: {len(orders)} delivered orders -> {invoices} invoices "
            f"in {elapsed:.2f} s ({len(orders) / elapsed:.1f} orders/s)"
        )


def setup(env, args):
    from odoo import Command  # noqa: PLC0415

    profile = env["sale.flow.workflow"].create(
        {"name": "Bench on delivery", "invoice_policy": "delivery"}
    )
    products = env["product.product"].create(
        [
            {
                "name": f"Bench Goods {index}",
                "type": "consu",
                "invoice_policy": "delivery",
                "list_price": 10.0 + index,
                "taxes_id": [Command.clear()],
            }
            for index in range(args.lines)
        ]
    )
    customers = env["res.partner"].create(
        [
            {"name": f"Bench Buyer {index}", "flow_workflow_id": profile.id}
            for index in range(100)
        ]
    )
    orders = env["sale.order"].create(
        [
            {
                "partner_id": customers[index % 100].id,
                "order_line": [
                    Command.create({"product_id": product.id, "product_uom_qty": 2})
                    for product in products
                ],
            }
            for index in range(args.orders)
        ]
    )
    orders.action_confirm()
    pickings = orders.picking_ids
    pickings.move_ids.quantity = 2
    pickings.move_ids.picked = True
    pickings.with_context(skip_backorder=True, skip_sanity_check=True).button_validate()
    env.flush_all()
    return orders


if __name__ == "__main__":
    main()
