#!/usr/bin/env python3
"""Benchmark: the recurring run on 10,000 due orders of 5 lines (on demand, not in CI).

Creates a monthly plan, a recurring service and ten real confirmed recurring
orders of ``--lines`` lines through the ORM, then copies them by SQL into
``--orders`` due recurring orders (creating and confirming 10,000 orders
through the ORM would measure Odoo's order entry, not recurring invoicing).
It times what the daily cron does, batch after batch of ``--batch`` orders
(``_flow_recurring_invoice``: lock, periods due, invoices created and
posted, next dates), and prints:

    recurring run: N orders -> N invoices, M periods in X.XX s (Y orders/s)

Everything is rolled back: the database is left as it was.

Usage:
    python3 bench/bench_recurring.py --db <db with sales_order_flow installed>
        [--orders 10000] [--lines 5] [--batch 100] [--db-host HOST] [--profile]
"""

# pylint: disable=print-used
import time

from _odoo_bench import argument_parser, bench_env, copy_rows, profiled

TEMPLATES = 10
START = "2026-01-01"


def parse_args():
    parser = argument_parser(__doc__)
    parser.add_argument("--orders", type=int, default=10000)
    parser.add_argument("--lines", type=int, default=5)
    parser.add_argument("--batch", type=int, default=100)
    return parser.parse_args()


def main():
    args = parse_args()
    context = {"tracking_disable": True, "mail_notrack": True}
    with bench_env(args, "sale.flow.recurrence", context) as env:
        start = time.perf_counter()
        orders = setup(env, args)
        print(
            f"setup (not timed): {len(orders)} due orders of {args.lines} lines "
            f"in {time.perf_counter() - start:.2f} s"
        )
        from odoo import fields  # noqa: PLC0415

        day = fields.Date.to_date(START)
        SaleOrder = env["sale.order"]
        invoices = 0
        start = time.perf_counter()
        with profiled(args.profile):
            while True:
                batch = SaleOrder.search(
                    SaleOrder._flow_recurring_due_domain(day),
                    order="flow_recurring_next_date, id",
                    limit=args.batch,
                )
                if not batch:
                    break
                invoices += len(batch._flow_recurring_invoice(day))
                env.flush_all()
                env.invalidate_all()
        elapsed = time.perf_counter() - start
        periods = env["sale.flow.recurrence.period"].search_count(
            [("order_id", "in", orders.ids)]
        )
        print(
            f"recurring run: {len(orders)} orders -> {invoices} invoices, "
            f"{periods} periods in {elapsed:.2f} s "
            f"({len(orders) / elapsed:.1f} orders/s)"
        )


def setup(env, args):
    """Ten real recurring orders, copied by SQL into ``args.orders`` due
    orders (the templates themselves are not due)."""
    from odoo import Command  # noqa: PLC0415
    from odoo.tools import SQL  # noqa: PLC0415

    plan = env["sale.flow.recurrence"].create(
        {"name": "Bench Monthly", "interval_type": "month", "fixed_day": 1}
    )
    products = env["product.product"].create(
        [
            {
                "name": f"Bench Subscription {index}",
                "type": "service",
                "invoice_policy": "order",
                "list_price": 10.0 + index,
                "taxes_id": [Command.clear()],
                "flow_recurrence_id": plan.id,
            }
            for index in range(args.lines)
        ]
    )
    customers = env["res.partner"].create(
        [{"name": f"Bench Subscriber {index}"} for index in range(100)]
    )
    templates = env["sale.order"].create(
        [
            {
                "partner_id": customers[index].id,
                "flow_recurrence_date_start": START,
                "order_line": [
                    Command.create({"product_id": product.id, "product_uom_qty": 1})
                    for product in products
                ],
            }
            for index in range(TEMPLATES)
        ]
    )
    templates.action_confirm()
    env.flush_all()
    cr = env.cr
    # order n copies template n mod 10, for customer n mod 100; ``origin``
    # holds the template until the lines are copied
    rows = copy_rows(
        cr,
        "sale_order",
        templates.ids,
        {
            "name": SQL("'BENCH/' || n"),
            "origin": SQL("src.id::text"),
            "partner_id": SQL("(%s::int[])[1 + mod(n, %s)]", customers.ids, 100),
            "partner_invoice_id": SQL(
                "(%s::int[])[1 + mod(n, %s)]", customers.ids, 100
            ),
            "partner_shipping_id": SQL(
                "(%s::int[])[1 + mod(n, %s)]", customers.ids, 100
            ),
        },
        sources=SQL("generate_series(0, %s) AS n", args.orders - 1),
        where=SQL("src.id = (%s::int[])[1 + mod(n, %s)]", templates.ids, TEMPLATES),
        returning=SQL("id"),
    )
    order_ids = [row[0] for row in rows]
    copy_rows(
        cr,
        "sale_order_line",
        templates.order_line.ids,
        {
            "order_id": SQL("o.id"),
            "order_partner_id": SQL("o.partner_id"),
        },
        sources=SQL("sale_order o"),
        where=SQL("o.id = ANY(%s) AND o.origin = src.order_id::text", order_ids),
    )
    # the copied lines get their taxes (none) and no invoice lines; the
    # templates are not due
    cr.execute(SQL("UPDATE sale_order SET origin = NULL WHERE id = ANY(%s)", order_ids))
    cr.execute(
        SQL(
            "UPDATE sale_order SET flow_recurring_state = 'closed' WHERE id = ANY(%s)",
            templates.ids,
        )
    )
    cr.execute(SQL("ANALYZE sale_order"))
    cr.execute(SQL("ANALYZE sale_order_line"))
    env.invalidate_all()
    return env["sale.order"].browse(order_ids)


if __name__ == "__main__":
    main()
