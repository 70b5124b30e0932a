#!/usr/bin/env python3
"""Benchmark: commissions of 100,000 invoice lines (run on demand, not in CI).

Creates customers with a default agent, a plan with a default, a category and
a tiered rule, and ten real posted customer invoices of 100 lines through the
ORM, then copies them by SQL into 1,000 posted invoices (100,000 invoice
lines; posting them through the ORM would take some 18 minutes and measure
Odoo's accounting, not commissions). It times the two steps of the feature:

    commissions: 100000 invoice lines -> N commission lines in X.XX s
    settlement: N lines -> M settlements in X.XX s
    total: X.XX s

The commission step runs the method posting calls
(``_flow_commission_create_lines``) on the invoices in batches of ``--batch``
invoices, as posting a batch of invoices does. Everything is rolled back: the
database is left as it was.

Usage:
    python3 bench/bench_commission.py --db <db with sales_order_flow installed>
        [--invoices 1000] [--lines 100] [--batch 100] [--db-host HOST] [--profile]

The goal is under 60 s on a 2-core machine.
"""

# pylint: disable=print-used
import time

from _odoo_bench import argument_parser, bench_env, copy_rows, profiled

TEMPLATES = 10


def parse_args():
    parser = argument_parser(__doc__)
    parser.add_argument("--invoices", type=int, default=1000)
    parser.add_argument("--lines", type=int, default=100)
    parser.add_argument("--batch", type=int, default=100)
    return parser.parse_args()


def main():
    args = parse_args()
    context = {"tracking_disable": True, "mail_notrack": True}
    with bench_env(args, "sale.flow.commission.line", context) as env:
        start = time.perf_counter()
        invoices, agents = setup(env, args)
        print(
            f"setup (not timed): {len(invoices)} invoices of {args.lines} lines "
            f"in {time.perf_counter() - start:.2f} s"
        )
        Line = env["sale.flow.commission.line"]
        start = time.perf_counter()
        with profiled(args.profile):
            for index in range(0, len(invoices), args.batch):
                invoices[index : index + args.batch]._flow_commission_create_lines()
                env.flush_all()
                env.invalidate_all()
        compute = time.perf_counter() - start
        count = Line.search_count([("agent_id", "in", agents.ids)])
        print(
            f"commissions: {len(invoices) * args.lines} invoice lines -> "
            f"{count} commission lines in {compute:.2f} s"
        )
        start = time.perf_counter()
        with profiled(args.profile):
            wizard = env["sale.flow.commission.settle"].create(
                {
                    "period_type": "year",
                    "period_date": "2024-06-30",
                    "agent_ids": [(6, 0, agents.ids)],
                    "create_bills": True,
                }
            )
            settlements = wizard._flow_settle()
            settlements._flow_create_bills(wizard.journal_id)
            env.flush_all()
        settle = time.perf_counter() - start
        print(
            f"settlement: {count} lines -> {len(settlements)} settlements "
            f"in {settle:.2f} s"
        )
        print(f"total: {compute + settle:.2f} s (goal: under 60 s)")


def setup(env, args):
    """Agents, plan, customers, and posted invoices copied from ten real ones
    (without commission lines)."""
    from odoo import Command  # noqa: PLC0415
    from odoo.tools import SQL  # noqa: PLC0415

    category = env["product.category"].create({"name": "Bench Category"})
    plan = env["sale.flow.commission.plan"].create(
        {
            "name": "Bench Plan",
            "volume_period": "quarter",
            "rule_ids": [
                Command.create({"rate": 5.0}),
                Command.create({"rate": 7.0, "categ_id": category.id}),
                Command.create(
                    {
                        "rate_type": "tiers",
                        "tier_mode": "progressive",
                        "partner_category_id": env["res.partner.category"]
                        .create({"name": "Bench Key Account"})
                        .id,
                        "tier_ids": [
                            Command.create({"sequence": 1, "threshold": 0, "rate": 2}),
                            Command.create(
                                {"sequence": 2, "threshold": 50000, "rate": 4}
                            ),
                        ],
                    }
                ),
            ],
        }
    )
    agents = env["res.partner"].create(
        [
            {
                "name": f"Bench Agent {index}",
                "flow_is_commission_agent": True,
                "flow_agent_type": "external",
                "flow_commission_plan_id": plan.id,
            }
            for index in range(20)
        ]
    )
    key_tag = plan.rule_ids.partner_category_id
    customers = env["res.partner"].create(
        [
            {
                "name": f"Bench Customer {index}",
                "is_company": True,
                "category_id": [Command.set(key_tag.ids)] if index % 4 == 0 else [],
                "flow_commission_assignment_ids": [
                    Command.create({"agent_id": agents[index % len(agents)].id})
                ],
            }
            for index in range(100)
        ]
    )
    products = env["product.product"].create(
        [
            {
                "name": f"Bench Product {index}",
                "list_price": 10.0 + index,
                "standard_price": 5.0 + index / 2,
                "categ_id": category.id
                if index % 3 == 0
                else env.ref("product.product_category_all").id,
                "taxes_id": [Command.clear()],
            }
            for index in range(50)
        ]
    )
    journal = env["account.journal"].search(
        [("type", "=", "sale"), ("company_id", "=", env.company.id)], limit=1
    )
    templates = env["account.move"].create(
        [
            {
                "move_type": "out_invoice",
                "partner_id": customers[index].id,
                "journal_id": journal.id,
                "invoice_date": "2024-01-15",
                "invoice_line_ids": [
                    Command.create(
                        {
                            "product_id": products[(index + line) % len(products)].id,
                            "quantity": 1 + line % 5,
                            "price_unit": 10.0 + line % 7,
                            "tax_ids": [Command.clear()],
                        }
                    )
                    for line in range(args.lines)
                ],
            }
            for index in range(TEMPLATES)
        ]
    )
    templates._post(soft=False)
    env.flush_all()
    cr = env.cr
    # the timed step computes the commissions: none made at posting stay
    cr.execute(
        SQL(
            "DELETE FROM sale_flow_commission_line WHERE invoice_id = ANY(%s)",
            templates.ids,
        )
    )
    invoice_date = "('2024-01-15'::date + mod(n, 12) * '1 month'::interval)::date"
    # invoice n copies template n mod 10, for customer n mod 100, in month
    # n mod 12 of 2024; ``ref`` holds the template until the lines are copied
    rows = copy_rows(
        cr,
        "account_move",
        templates.ids,
        {
            "name": SQL("'BENCH/' || n"),
            "ref": SQL("src.id::text"),
            "partner_id": SQL("(%s::int[])[1 + mod(n, %s)]", customers.ids, 100),
            "commercial_partner_id": SQL(
                "(%s::int[])[1 + mod(n, %s)]", customers.ids, 100
            ),
            "invoice_date": SQL(invoice_date),
            "date": SQL(invoice_date),
        },
        sources=SQL("generate_series(0, %s) AS n", args.invoices - 1),
        where=SQL("src.id = (%s::int[])[1 + mod(n, %s)]", templates.ids, TEMPLATES),
        returning=SQL("id"),
    )
    move_ids = [row[0] for row in rows]
    copy_rows(
        cr,
        "account_move_line",
        templates.line_ids.ids,
        {
            "move_id": SQL("m.id"),
            "partner_id": SQL("m.commercial_partner_id"),
            "date": SQL("m.date"),
            "invoice_date": SQL("m.invoice_date"),
            "move_name": SQL("m.name"),
        },
        sources=SQL("account_move m"),
        where=SQL("m.id = ANY(%s) AND m.ref = src.move_id::text", move_ids),
    )
    cr.execute(SQL("UPDATE account_move SET ref = NULL WHERE id = ANY(%s)", move_ids))
    cr.execute(SQL("ANALYZE account_move_line"))
    cr.execute(SQL("ANALYZE account_move"))
    env.invalidate_all()
    return env["account.move"].browse(move_ids), agents


if __name__ == "__main__":
    main()
