#!/usr/bin/env python3
"""Benchmark: 1,000 customer returns, request to credit note (run on demand,
not in CI).

Sells ``--orders`` orders of ``--lines`` lines through the ORM, delivers and
invoices them (setup, not timed), then times ``--returns`` returns of one line
each through the whole flow as the feature runs it: request, approval (the
receipt through Odoo's return of the delivery), validation of the receipt
(received quantities read back) and the refund (Odoo's reversal of the
invoice, cut down to the returned line, posted). Prints

    setup (not timed): N orders of M lines in X.XX s
    returns: 1000 returns (request -> receipt -> credit note) in X.XX s,
    X.X ms per return

and rolls everything back: the database is left as it was.

Usage:
    python3 bench/bench_returns.py --db <db with sales_order_flow installed>
        [--returns 1000] [--orders 100] [--lines 10] [--db-host HOST] [--profile]
"""

# pylint: disable=print-used
import time

from _odoo_bench import argument_parser, bench_env, profiled


def parse_args():
    parser = argument_parser(__doc__)
    parser.add_argument("--returns", type=int, default=1000)
    parser.add_argument("--orders", type=int, default=100)
    parser.add_argument("--lines", type=int, default=10)
    return parser.parse_args()


def setup(env, args):
    """Delivered and invoiced orders, a return reason; returns the order
    lines, each returnable ``ceil(returns / lines)`` times."""
    from odoo import Command  # noqa: PLC0415

    per_line = -(-args.returns // (args.orders * args.lines))
    policy = {"flow_return_window_days": 30, "flow_return_auto_approve_amount": 0.0}
    if any(env.company[name] != value for name, value in policy.items()):
        env.company.write(policy)
    partner = env["res.partner"].create({"name": "Bench Returns", "is_company": True})
    product = env["product.product"].create(
        {
            "name": "Bench Returned Goods",
            "type": "consu",
            "list_price": 10.0,
            "invoice_policy": "delivery",
            "taxes_id": [Command.clear()],
        }
    )
    reason = env["sale.flow.return.reason"].create(
        {"name": "Bench Defective", "default_operation": "refund"}
    )
    orders = env["sale.order"].create(
        [
            {
                "partner_id": partner.id,
                "order_line": [
                    Command.create(
                        {"product_id": product.id, "product_uom_qty": per_line}
                    )
                    for _line in range(args.lines)
                ],
            }
            for _order in range(args.orders)
        ]
    )
    orders.action_confirm()
    for picking in orders.picking_ids:
        for move in picking.move_ids:
            move.quantity = move.product_uom_qty
        picking.move_ids.picked = True
        picking.button_validate()
    # one invoice per order, as a B2B customer is invoiced
    orders._create_invoices(grouped=True).action_post()
    return orders.order_line, reason


def run(env, sale_lines, reason, count):
    from odoo import Command  # noqa: PLC0415

    Return = env["sale.flow.return"]
    for index in range(count):
        sale_line = sale_lines[index % len(sale_lines)]
        rma = Return.create(
            {
                "partner_id": sale_line.order_id.partner_id.id,
                "sale_order_ids": [Command.set(sale_line.order_id.ids)],
                "line_ids": [
                    Command.create(
                        {
                            "product_id": sale_line.product_id.id,
                            "sale_line_id": sale_line.id,
                            "move_id": sale_line.move_ids.filtered(
                                lambda m: m.location_dest_id.usage == "customer"
                            )[:1].id,
                            "product_uom_qty": 1.0,
                            "reason_id": reason.id,
                        }
                    )
                ],
            }
        )
        rma.action_request()
        rma.action_approve()
        receipt = rma.picking_ids
        receipt.move_ids.quantity = 1.0
        receipt.move_ids.picked = True
        receipt.button_validate()
        rma.action_refund()
        assert rma.state == "processed", rma.state
        # a user works one return at a time: do not let the cache of the
        # whole run slow each step down
        env.flush_all()
        env.invalidate_all()


def main():
    args = parse_args()
    context = {"tracking_disable": True, "mail_notrack": True}
    with bench_env(args, "sale.flow.return", context) as env:
        start = time.perf_counter()
        sale_lines, reason = setup(env, args)
        print(
            f"setup (not timed): {args.orders} orders of {args.lines} lines "
            f"in {time.perf_counter() - start:.2f} s"
        )
        start = time.perf_counter()
        with profiled(args.profile):
            run(env, sale_lines, reason, args.returns)
            env.flush_all()
        elapsed = time.perf_counter() - start
        print(
            f"returns: {args.returns} returns (request -> receipt -> credit note) "
            f"in {elapsed:.2f} s, {elapsed / args.returns * 1000:.1f} ms per return"
        )


if __name__ == "__main__":
    main()
