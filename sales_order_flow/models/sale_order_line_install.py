"""Install cheaply on a database with many order lines.

The ORM computes every new stored computed field for every existing row when
it creates its column: on a database with a million order lines, the install
reads each line into memory and rewrites it. The columns are created here
first, filled by SQL, so the ORM finds them and computes nothing:

- the agreement of a line: no agreement exists before the install, every
  existing line has none (NULL);
- what is still to deliver: 0 by a column default (no row rewritten), then one
  UPDATE for the confirmed lines still to deliver;
- the committed date: one UPDATE (every line has one).

``_flow_fill_install_columns`` must give what the computes give:
``TestDiscountOdooFlows.test_install_columns_match_computes`` compares them.
"""

from odoo import models
from odoo.tools import SQL
from odoo.tools.sql import column_exists, create_column, table_exists


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    def _auto_init(self):
        cr = self.env.cr
        if table_exists(cr, self._table):
            table = SQL.identifier(self._table)
            for fname in ("flow_agreement_line_id", "flow_agreement_id"):
                if not column_exists(cr, self._table, fname):
                    create_column(cr, self._table, fname, "int4")
            new = [
                fname
                for fname in ("flow_qty_to_deliver", "flow_commitment_date_effective")
                if not column_exists(cr, self._table, fname)
            ]
            if new:
                if "flow_qty_to_deliver" in new:
                    cr.execute(
                        SQL(
                            "ALTER TABLE %s ADD COLUMN flow_qty_to_deliver "
                            "numeric DEFAULT 0",
                            table,
                        )
                    )
                    cr.execute(
                        SQL(
                            "ALTER TABLE %s ALTER COLUMN flow_qty_to_deliver "
                            "DROP DEFAULT",
                            table,
                        )
                    )
                if "flow_commitment_date_effective" in new:
                    # its source, a plain field, is new as well (empty)
                    if not column_exists(cr, self._table, "flow_commitment_date"):
                        create_column(
                            cr, self._table, "flow_commitment_date", "timestamp"
                        )
                    create_column(
                        cr, self._table, "flow_commitment_date_effective", "timestamp"
                    )
                self._flow_fill_install_columns(new)
        return super()._auto_init()

    def _flow_fill_install_columns(self, fnames, ids=None):
        """Fill the columns ``fnames`` of existing lines (all, or ``ids``) by
        SQL, as their computes would."""
        where = SQL("TRUE") if ids is None else SQL("line.id = ANY(%s)", list(ids))
        table = SQL.identifier(self._table)
        if "flow_commitment_date_effective" in fnames:
            self.env.cr.execute(
                SQL(
                    """
                    UPDATE %s line
                       SET flow_commitment_date_effective = COALESCE(
                               line.flow_commitment_date,
                               sale_order.commitment_date,
                               date_trunc('second', sale_order.date_order
                                   + make_interval(secs =>
                                       COALESCE(line.customer_lead, 0) * 86400))
                           ),
                           flow_qty_to_deliver = CASE
                               WHEN line.state = 'sale'
                                AND line.display_type IS NULL
                                AND COALESCE(line.product_uom_qty, 0)
                                    > COALESCE(line.qty_delivered, 0)
                               THEN COALESCE(line.product_uom_qty, 0)
                                    - COALESCE(line.qty_delivered, 0)
                               ELSE 0 END
                      FROM sale_order
                     WHERE sale_order.id = line.order_id AND %s
                    """,
                    table,
                    where,
                )
            )
        elif "flow_qty_to_deliver" in fnames:
            self.env.cr.execute(
                SQL(
                    """
                    UPDATE %s line
                       SET flow_qty_to_deliver = COALESCE(line.product_uom_qty, 0)
                                                 - COALESCE(line.qty_delivered, 0)
                     WHERE line.state = 'sale' AND line.display_type IS NULL
                       AND COALESCE(line.product_uom_qty, 0)
                           > COALESCE(line.qty_delivered, 0)
                       AND %s
                    """,
                    table,
                    where,
                )
            )
