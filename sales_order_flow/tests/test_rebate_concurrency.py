import logging
import threading
from datetime import date

import psycopg2
import psycopg2.errors

from odoo import Command
from odoo.tests import tagged
from odoo.tools import mute_logger

from .concurrency_common import CONFLICTS as RACE_CONFLICTS
from .concurrency_common import CommittedDataCase, run_together

_logger = logging.getLogger(__name__)

PERIOD_DAY = date(2024, 3, 31)
SETTLE_DAY = date(2024, 4, 5)
# a settlement losing the race may also meet the settlement's unique keys
CONFLICTS = (*RACE_CONFLICTS, psycopg2.IntegrityError)


@tagged("post_install", "-at_install")
class TestRebateConcurrency(CommittedDataCase):
    """Settlements in separate, committed transactions, as two users or a user
    and the scheduled action would run them. The data is committed (another
    transaction cannot see uncommitted rows) and deleted afterwards."""

    def _commit_data(self):
        with self.registry.cursor() as cr:
            env = self._env(cr)
            partners = env["res.partner"].create(
                [
                    {"name": f"Concurrent Rebate Buyer {index}", "is_company": True}
                    for index in range(2)
                ]
            )
            product = env["product.product"].create(
                {"name": "Concurrent Rebate Widget", "taxes_id": [Command.clear()]}
            )
            rebate_product = env["product.product"].create(
                {
                    "name": "Concurrent Rebate",
                    "type": "service",
                    "taxes_id": [Command.clear()],
                }
            )
            program = env["sale.flow.rebate.program"].create(
                {
                    "name": "Concurrent Rebate",
                    "partner_ids": [Command.set(partners.ids)],
                    "period_type": "quarter",
                    "date_start": "2024-01-01",
                    "product_id": rebate_product.id,
                    "state": "active",
                    "tier_ids": [Command.create({"threshold": 1000, "rate": 2})],
                }
            )
            invoices = env["account.move"].create(
                [
                    {
                        "move_type": "out_invoice",
                        "partner_id": partner.id,
                        "invoice_date": "2024-02-10",
                        "invoice_line_ids": [
                            Command.create(
                                {
                                    "product_id": product.id,
                                    "quantity": 1,
                                    "price_unit": 2000.0,
                                    "tax_ids": [Command.clear()],
                                }
                            )
                        ],
                    }
                    for partner in partners
                ]
            )
            invoices.action_post()
            return {
                "partners": partners.ids,
                "products": (product | rebate_product).ids,
                "program": program.id,
            }

    def _delete_data(self):
        with self.registry.cursor() as cr:
            env = self._env(cr)
            program = env["sale.flow.rebate.program"].browse(self.data["program"])
            moves = (
                env["account.move"]
                .with_context(active_test=False)
                .search([("partner_id", "in", self.data["partners"])])
            )
            moves.filtered(lambda move: move.state != "draft").button_draft()
            moves.with_context(force_delete=True).unlink()
            program.settlement_ids.unlink()
            program.unlink()
            env["product.product"].browse(self.data["products"]).unlink()
            env["res.partner"].browse(self.data["partners"]).unlink()

    def _settle_in_thread(self, barrier, results):
        try:
            with self.registry.cursor() as cr:
                env = self._env(cr)
                program = env["sale.flow.rebate.program"].browse(self.data["program"])
                barrier.wait(timeout=30)
                try:
                    settlement, _message = program._settle(PERIOD_DAY, SETTLE_DAY)
                    # a real, separate transaction is what is tested
                    cr.commit()  # pylint: disable=invalid-commit
                    results.append(("settled", len(settlement.line_ids)))
                except CONFLICTS as error:
                    cr.rollback()
                    results.append(("conflict", type(error).__name__))
        except Exception as error:  # noqa: BLE001 - reported by the test
            results.append(("error", repr(error)))

    def _paid(self):
        with self.registry.cursor() as cr:
            env = self._env(cr)
            program = env["sale.flow.rebate.program"].browse(self.data["program"])
            notes = env["account.move"].search(
                [("flow_rebate_settlement_line_id.program_id", "=", program.id)]
            )
            return (
                len(program.settlement_ids),
                len(notes),
                sum(notes.mapped("amount_total")),
            )

    @mute_logger("odoo.sql_db")
    def test_two_runs_at_once_pay_once(self):
        barrier = threading.Barrier(2)
        results = []
        run_together(
            [lambda: self._settle_in_thread(barrier, results) for _index in range(2)]
        )
        _logger.info("two settlement runs at once: %s", results)
        self.assertEqual(len(results), 2, results)
        self.assertNotIn("error", [status for status, _detail in results], results)
        # one run paid both customers; the other paid nothing (it either lost
        # the lock, saw the payment, or hit the unique key)
        settled = [detail for status, detail in results if status == "settled"]
        self.assertIn(2, settled, results)
        self.assertEqual(sorted(settled)[-1], 2)
        self.assertEqual(self._paid(), (1, 2, 80.0))

    @mute_logger("odoo.sql_db")
    def test_lock_and_unique_key(self):
        """Deterministic interleaving: B while A holds the lock, and C working
        from a snapshot taken before A committed."""
        Program = "sale.flow.rebate.program"
        with (
            self.registry.cursor() as cr_a,
            self.registry.cursor() as cr_b,
            self.registry.cursor() as cr_c,
        ):
            program_c = self._env(cr_c)[Program].browse(self.data["program"])
            # C's snapshot starts now, before A settles
            self.assertEqual(program_c.settlement_count, 0)
            self._env(cr_a)[Program].browse(self.data["program"])._settle(
                PERIOD_DAY, SETTLE_DAY
            )
            # B runs while A holds the lock: fails at once, nothing written
            with self.assertRaises(psycopg2.errors.LockNotAvailable):
                self._env(cr_b)[Program].browse(self.data["program"])._settle(
                    PERIOD_DAY, SETTLE_DAY
                )
            cr_b.rollback()
            cr_a.commit()  # pylint: disable=invalid-commit
            # C gets the lock but does not see A's settlement: the database
            # refuses the second payment
            with self.assertRaises(psycopg2.IntegrityError):
                program_c._settle(PERIOD_DAY, SETTLE_DAY)
                program_c.env.flush_all()
            cr_c.rollback()
            # a fresh run sees what was paid and pays nothing more
            settlement, message = (
                self._env(cr_b)[Program]
                .browse(self.data["program"])
                ._settle(PERIOD_DAY, SETTLE_DAY)
            )
            self.assertFalse(settlement)
            self.assertIn("Nothing to settle", message)
            cr_b.commit()  # pylint: disable=invalid-commit
        self.assertEqual(self._paid(), (1, 2, 80.0))

    @mute_logger("odoo.sql_db")
    def test_cron_leaves_a_busy_program_for_the_next_run(self):
        """The scheduled settlement meets a program another run is settling:
        it is left (with its later periods) for the next run, without an
        activity, and settled then."""
        Program = "sale.flow.rebate.program"
        with self.registry.cursor() as cr:
            program = self._env(cr)[Program].browse(self.data["program"])
            program.auto_settle = True
            program.env.flush_all()
        with self.registry.cursor() as cr_a, self.registry.cursor() as cr_b:
            cr_a.execute(
                "SELECT id FROM sale_flow_rebate_program WHERE id = %s FOR UPDATE",
                [self.data["program"]],
            )
            env_b = self._env(cr_b)
            program = env_b[Program].browse(self.data["program"])
            q2_invoice = env_b["account.move"].create(
                {
                    "move_type": "out_invoice",
                    "partner_id": self.data["partners"][0],
                    "invoice_date": "2024-05-10",
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "product_id": self.data["products"][0],
                                "quantity": 1,
                                "price_unit": 2000.0,
                                "tax_ids": [Command.clear()],
                            }
                        )
                    ],
                }
            )
            q2_invoice.action_post()
            # the program is busy (logged at INFO): no settlement, no activity
            env_b[Program]._cron_settle_rebates(date(2024, 8, 1))
            self.assertFalse(program.settlement_ids)
            self.assertFalse(program.activity_ids)
            cr_a.rollback()
            env_b[Program]._cron_settle_rebates(date(2024, 8, 1))
            self.assertEqual(
                program.settlement_ids.sorted("period_start").mapped(
                    lambda settlement: (
                        settlement.period_start,
                        settlement.amount_total,
                    )
                ),
                [(date(2024, 1, 1), 80.0), (date(2024, 4, 1), 40.0)],
            )
            cr_b.rollback()
