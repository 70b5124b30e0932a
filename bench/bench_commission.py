#!/usr/bin/env python3
"""Benchmark: commissions of 100,000 invoice lines (run on demand, not in CI).

Creates customers with a default agent, a plan with a default, a category and
a tiered rule, and 1,000 customer invoices of 100 lines (100,000 invoice lines),
then times the two steps of the feature:

    commissions: 100000 invoice lines -> N commission lines in X.XX s
    settlement: N lines -> M settlements in X.XX s
    total: X.XX s

Invoices are inserted in bulk (``account.move.create`` of 1,000 invoices) and
posted with ``_post`` with the commission hook switched off; the commission
step then runs the same method posting calls (``_flow_commission_create_lines``)
on all invoices at once, in batches of ``--batch`` invoices as a posting
cron would. Setting up the invoices is not timed. Everything is rolled back:
the database is left as it was.

Usage:
    python3 bench/bench_commission.py --db <db with sales_order_flow installed>
        [--invoices 1000] [--lines 100] [--batch 100] [--db-host HOST]

Odoo is found through ODOO_PATH (default /opt/odoo) or an importable ``odoo``,
as bin/run and bin/test do. The goal is under 60 s on a 2-core machine.
"""

# pylint: disable=print-used
import argparse
import os
import sys
import time
from unittest.mock import patch

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
    parser.add_argument("--invoices", type=int, default=1000)
    parser.add_argument("--lines", type=int, default=100)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument(
        "--db-host", default="", help="PostgreSQL host (default: local socket)"
    )
    return parser.parse_args()


def main():
    args = parse_args()
    odoo, odoo_path = import_odoo()
    from odoo import SUPERUSER_ID, api  # noqa: PLC0415
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
            env = api.Environment(
                cr, SUPERUSER_ID, {"tracking_disable": True, "mail_notrack": True}
            )
            if "sale.flow.commission.line" not in env:
                sys.exit(f"sales_order_flow is not installed in {args.db}.")
            start = time.perf_counter()
            invoices, agents = setup(env, args)
            print(
                f"setup (not timed): {len(invoices)} invoices of {args.lines} lines "
                f"in {time.perf_counter() - start:.2f} s"
            )
            Line = env["sale.flow.commission.line"]
            start = time.perf_counter()
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
        finally:
            # a benchmark leaves no trace: never commit
            cr.rollback()


def setup(env, args):
    """Agents, plan, customers and posted invoices (commission hook off)."""
    from odoo import Command  # noqa: PLC0415

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
    invoices = env["account.move"]
    Move = env["account.move"]
    for chunk in range(0, args.invoices, 100):
        invoices |= Move.create(
            [
                {
                    "move_type": "out_invoice",
                    "partner_id": customers[index % len(customers)].id,
                    "journal_id": journal.id,
                    "invoice_date": f"2024-{1 + index % 12:02d}-15",
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "product_id": products[line % len(products)].id,
                                "quantity": 1 + line % 5,
                                "price_unit": 10.0 + line % 7,
                                "tax_ids": [Command.clear()],
                            }
                        )
                        for line in range(args.lines)
                    ],
                }
                for index in range(chunk, min(chunk + 100, args.invoices))
            ]
        )
        env.flush_all()
    # post without the hook: the timed step computes the commissions
    with patch.object(
        type(env["account.move"]), "_flow_commission_create_lines", lambda self: None
    ):
        invoices._post(soft=False)
    env.flush_all()
    env.invalidate_all()
    return invoices, agents


if __name__ == "__main__":
    main()
