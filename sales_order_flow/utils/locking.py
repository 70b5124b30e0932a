from odoo.tools import SQL


def lock_rows_for_retry(cr, table, ids):
    """Lock rows of ``table`` until the transaction ends, so that a check made
    after this call holds for as long as the transaction runs.

    The rows are locked in id order (two transactions cannot deadlock on them)
    and get a new row version: a transaction that took its snapshot before this
    one commits fails on its own lock (repeatable read) and Odoo retries it
    with fresh data, instead of going on from a stale view.

    Only for the addon's own tables: locking a core row (a customer, a product)
    would block every unrelated write on it. See :func:`lock_keys_for_retry`.
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


def lock_keys_for_retry(cr, scope, ids):
    """The same guarantee as :func:`lock_rows_for_retry` for records the addon
    does not own (e.g. ``scope="exclusive_agreements"`` and customer ids): a
    row per (scope, id) of the addon's own ``sale_flow_lock`` table is locked
    and given a new version, so the customer's own row stays free for any
    other write.

    A second transaction waits for the first; if it took its snapshot before
    the first one committed, the database refuses it (serialization failure)
    and Odoo retries it with fresh data.
    """
    ids = sorted(set(ids))
    if not ids:
        return
    cr.execute(
        SQL(
            """
            INSERT INTO sale_flow_lock (scope, res_id, version)
            SELECT %s, res_id, 1 FROM unnest(%s::int[]) AS res_id ORDER BY res_id
            ON CONFLICT (scope, res_id)
            DO UPDATE SET version = sale_flow_lock.version + 1
            """,
            scope,
            ids,
        )
    )
