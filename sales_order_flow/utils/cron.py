"""Scheduled actions that survive a bad record.

Each unit of work runs in its own savepoint: a unit that fails is rolled back
alone, reported (log and an activity on the record, for its responsible user)
and the others go on. The work is committed batch by batch (not in tests, where
the test owns the transaction) and the progress reported to ``ir.cron``.
"""

import logging

import psycopg2

import odoo
from odoo.exceptions import UserError, ValidationError

_logger = logging.getLogger(__name__)


def cron_commit(env):
    """Commit the work done so far when run by the scheduler (``ir.cron``
    gives its jobs a progress record), never in tests, nor when the method is
    called from elsewhere (e.g. demo data loading: a commit there would end the
    module installation's transaction)."""
    if (
        env.context.get("ir_cron_progress_id")
        and not odoo.modules.module.current_test
        and not env.registry.in_test_mode()
    ):
        env.cr.commit()  # pylint: disable=invalid-commit


def error_text(env, error):
    """The reason of a failure, readable by the user who must fix it."""
    if isinstance(error, UserError | ValidationError) and error.args:
        return str(error.args[0])
    return env._(
        "Unexpected error (%(error)s); the server log has the details.",
        error=type(error).__name__,
    )


def run_isolated(env, units, process, on_failure, *, label, batch_size=1):
    """Run ``process(batch)`` on ``units`` (a list or a recordset) by batches.

    A batch that fails is rolled back and, when it holds several units, run
    again one unit at a time, so that only the bad unit is left out; then
    ``on_failure(unit, reason)`` reports it (in its own savepoint; ``reason``
    is a text for the user). Lock and serialization errors only postpone the
    unit (its batch) to the next run, logged at INFO, without a report.
    Progress is reported to ``ir.cron`` and the work committed after each
    batch (see :func:`cron_commit`). Returns the units that failed.
    """
    total = len(units)
    failed = []
    done = 0
    for start in range(0, total, batch_size):
        batch = units[start : start + batch_size]
        try:
            with env.cr.savepoint():
                process(batch)
        except psycopg2.OperationalError as error:
            _logger.info("%s: busy, left for the next run (%s)", label, error)
            failed.extend(batch)
        except Exception as error:  # noqa: BLE001 - reported, the rest goes on
            if len(batch) == 1:
                _report(env, batch[0], error, on_failure, label)
                failed.append(batch[0])
            else:
                failed.extend(
                    _run_one_by_one(env, batch, process, on_failure, label=label)
                )
        done += len(batch)
        env["ir.cron"]._notify_progress(done=done, remaining=total - done)
        cron_commit(env)
    return failed


def _run_one_by_one(env, batch, process, on_failure, *, label):
    failed = []
    for unit in batch:
        single = unit if isinstance(batch, odoo.models.BaseModel) else [unit]
        try:
            with env.cr.savepoint():
                process(single)
        except psycopg2.OperationalError as error:
            _logger.info("%s: busy, left for the next run (%s)", label, error)
            failed.append(unit)
        except Exception as error:  # noqa: BLE001 - reported, the rest goes on
            _report(env, unit, error, on_failure, label)
            failed.append(unit)
    return failed


def _report(env, unit, error, on_failure, label):
    reason = error_text(env, error)
    if isinstance(error, UserError | ValidationError):
        _logger.warning("%s: %s skipped: %s", label, unit, reason)
    else:
        _logger.warning("%s: %s failed", label, unit, exc_info=error)
    try:
        with env.cr.savepoint():
            on_failure(unit, reason)
    except Exception:  # noqa: BLE001 - the report must not stop the run
        _logger.warning("%s: could not report the failure of %s", label, unit)


def schedule_failure_activity(record, user, summary, note):
    """A to-do on ``record`` for ``user`` (or the record's creator), once: a
    failure repeated by the next runs does not pile up activities."""
    user = user if user and user.active and not user.share else record.create_uid
    # sudo: the activities of any user count, whoever runs the job
    existing = (
        record.env["mail.activity"]
        .sudo()
        .search_count(
            [
                ("res_model", "=", record._name),
                ("res_id", "=", record.id),
                ("summary", "=", summary),
                ("user_id", "=", user.id),
            ],
            limit=1,
        )
    )
    if existing:
        return record.env["mail.activity"]
    return record.activity_schedule(
        "mail.mail_activity_data_todo", summary=summary, note=note, user_id=user.id
    )
