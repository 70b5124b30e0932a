from odoo.tools import SQL


def lock_rows_for_retry(cr, table, ids):
    """Lock rows of ``table`` until the transaction ends, so that a check made
    after this call holds for as long as the transaction runs.

    The rows are locked in id order (two transactions cannot deadlock on them)
    and get a new row version: a transaction that took its snapshot before this
    one commits fails on its own lock (repeatable read) and Odoo retries it
    with fresh data, instead of going on from a stale view.
    """
    ids = sorted(set(ids))
    if not ids:
        return
    cr.execute(
        SQL(
            "SELECT id FROM %s WHERE id = ANY(%s) ORDER BY id FOR UPDATE",
            SQL.identifier(table),
            ids,
        )
    )
    cr.execute(
        SQL(
            "UPDATE %s SET write_date = write_date WHERE id = ANY(%s)",
            SQL.identifier(table),
            ids,
        )
    )
