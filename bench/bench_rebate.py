#!/usr/bin/env python3
"""Benchmark: settle a rebate program over 100,000 invoice lines (on demand).

In a database where sales_order_flow is installed, creates customers (with a
tag), one real posted invoice through the ORM, and copies it by SQL into
posted invoices and 100,000 posted product lines spread over the customers
and the three months of a quarter (bulk INSERT through odoo.tools.SQL: posting
100,000 lines through the ORM would take far longer than what is measured).
The copies are product lines only, without their receivable counterpart: the
rebate basis reads nothing else, and everything is rolled back. Then it
settles the quarter of a stepped three-tier program (one basis query, one
posted credit note per customer, accrual reversal) and prints

    rebates: 100000 invoice lines, 500 customers settled in X.XX s
    (basis query X.XX s, N credit notes, total T)

The database is left as it was.

Usage:
    python3 bench/bench_rebate.py --db <db with sales_order_flow installed>
        [--lines 100000] [--customers 500] [--db-host HOST] [--profile]

Odoo is found through ODOO_PATH (default /opt/odoo) or an importable ``odoo``,
as bin/run and bin/test do. The goal is under 30 s on a 2-core machine.
"""

# pylint: disable=print-used
import time
from datetime import date

from _odoo_bench import argument_parser, bench_env, copy_rows, profiled

PERIOD_START = date(2023, 1, 1)
PERIOD_END = date(2023, 3, 31)


def parse_args():
    parser = argument_parser(__doc__)
    parser.add_argument("--lines", type=int, default=100000)
    parser.add_argument("--customers", type=int, default=500)
    return parser.parse_args()


def main():
    args = parse_args()
    with bench_env(args, "sale.flow.rebate.program", {"tracking_disable": True}) as env:
        started = time.perf_counter()
        program = setup(env, args)
        print(f"setup: {time.perf_counter() - started:.2f} s")
        start = time.perf_counter()
        program._get_basis(PERIOD_START, PERIOD_END)
        basis_time = time.perf_counter() - start
        start = time.perf_counter()
        with profiled(args.profile):
            settlement, _message = program._settle(PERIOD_END, date(2023, 4, 5))
            env.flush_all()
        elapsed = time.perf_counter() - start
        print(
            f"rebates: {args.lines} invoice lines, {args.customers} customers "
            f"settled in {elapsed:.2f} s (basis query {basis_time:.2f} s, "
            f"{len(settlement.line_ids.move_id)} credit notes, total "
            f"{settlement.amount_total:.2f})"
        )


def setup(env, args):
    """Customers, one real invoice copied into ``args.lines`` posted lines;
    returns an active program over them."""
    from odoo import Command  # noqa: PLC0415
    from odoo.tools import SQL  # noqa: PLC0415

    tag = env["res.partner.category"].create({"name": "Bench Rebate"})
    customers = env["res.partner"].create(
        [
            {
                "name": f"Bench Rebate Customer {index}",
                "is_company": True,
                "category_id": [Command.set(tag.ids)],
            }
            for index in range(args.customers)
        ]
    )
    product = env["product.product"].create(
        {"name": "Bench Rebate Widget", "taxes_id": [Command.clear()]}
    )
    rebate_product = env["product.product"].create(
        {"name": "Bench Rebate", "type": "service", "taxes_id": [Command.clear()]}
    )
    template = env["account.move"].create(
        {
            "move_type": "out_invoice",
            "partner_id": customers[0].id,
            "invoice_date": PERIOD_START,
            "invoice_line_ids": [
                Command.create(
                    {
                        "product_id": product.id,
                        "quantity": 1.0,
                        "price_unit": 10.0,
                        "tax_ids": [Command.clear()],
                    }
                )
            ],
        }
    )
    template.action_post()
    template_line = template.invoice_line_ids
    env.flush_all()
    cr = env.cr
    # one posted invoice per customer and month
    rows = copy_rows(
        cr,
        "account_move",
        template.ids,
        {
            "name": SQL("'BENCH/' || c.partner_id || '/' || m.month"),
            "partner_id": SQL("c.partner_id"),
            "commercial_partner_id": SQL("c.partner_id"),
            "invoice_date": SQL(
                "(%s::date + (m.month || ' month')::interval)::date", PERIOD_START
            ),
            "date": SQL(
                "(%s::date + (m.month || ' month')::interval)::date", PERIOD_START
            ),
        },
        sources=SQL(
            "unnest(%s::int[]) AS c(partner_id), generate_series(0, 2) AS m(month)",
            customers.ids,
        ),
        returning=SQL("id"),
    )
    move_ids = [row[0] for row in rows]
    # the lines, spread over those invoices, 1 to 10 units at 10.00
    copy_rows(
        cr,
        "account_move_line",
        template_line.ids,
        {
            "move_id": SQL("(%s::int[])[1 + mod(n, %s)]", move_ids, len(move_ids)),
            "quantity": SQL("1 + mod(n, 10)"),
            "price_unit": SQL("10.0"),
            "price_subtotal": SQL("10.0 * (1 + mod(n, 10))"),
            "price_total": SQL("10.0 * (1 + mod(n, 10))"),
            "balance": SQL("-10.0 * (1 + mod(n, 10))"),
            "amount_currency": SQL("-10.0 * (1 + mod(n, 10))"),
            "debit": SQL("0.0"),
            "credit": SQL("10.0 * (1 + mod(n, 10))"),
        },
        sources=SQL("generate_series(1, %s) AS n", args.lines - 1),
    )
    # the stored related fields of the lines follow their new moves
    cr.execute(
        SQL(
            """
            UPDATE account_move_line line
               SET partner_id = move.commercial_partner_id,
                   date = move.date,
                   invoice_date = move.invoice_date,
                   move_name = move.name
              FROM account_move move
             WHERE move.id = line.move_id AND move.id = ANY(%s)
            """,
            move_ids,
        )
    )
    cr.execute(SQL("ANALYZE account_move_line"))
    cr.execute(SQL("ANALYZE account_move"))
    env.invalidate_all()
    return env["sale.flow.rebate.program"].create(
        {
            "name": "Bench Rebate",
            "category_ids": [Command.set(tag.ids)],
            "period_type": "quarter",
            "date_start": PERIOD_START,
            "basis": "amount",
            "tier_method": "stepped",
            "product_id": rebate_product.id,
            "state": "active",
            "tier_ids": [
                Command.create({"threshold": 500.0, "rate": 1.0}),
                Command.create({"threshold": 1000.0, "rate": 2.0}),
                Command.create({"threshold": 2000.0, "rate": 3.0}),
            ],
        }
    )


if __name__ == "__main__":
    main()
