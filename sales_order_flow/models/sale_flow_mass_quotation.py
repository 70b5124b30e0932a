import logging
import time

import psycopg2
from dateutil.relativedelta import relativedelta

import odoo
from odoo import Command, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import format_date
from odoo.tools.safe_eval import datetime as safe_datetime
from odoo.tools.safe_eval import safe_eval
from odoo.tools.safe_eval import time as safe_time

_logger = logging.getLogger(__name__)


class SaleFlowMassQuotation(models.Model):
    """A run sending one offer to many customers: one quotation per customer,
    priced with that customer's pricelist, terms and addresses."""

    _name = "sale.flow.mass.quotation"
    _description = "Mass Quotation Run"
    _inherit = ["mail.thread"]
    _order = "id desc"
    _check_company_auto = True

    # customers created per sale.order.create() call (and per savepoint)
    _flow_batch_size = 100
    # runs up to this many customers are processed at once, larger ones by cron
    _flow_immediate_limit = 200
    # sending renders each quotation's PDF (about a second each): smaller batches
    # and only small runs at once, so no request or cron call runs too long
    _flow_send_batch_size = 20
    _flow_send_immediate_limit = 20
    # one cron call starts no new batch after this many batches or seconds; it
    # reports what remains and Odoo calls it again
    _flow_cron_batches = 20
    _flow_cron_time_budget = 60

    def _default_name(self):
        return self.env._(
            "Mass quotation %(date)s",
            date=format_date(self.env, fields.Date.context_today(self)),
        )

    name = fields.Char(
        required=True, default=lambda self: self._default_name(), tracking=True
    )
    company_id = fields.Many2one(
        comodel_name="res.company",
        required=True,
        index=True,
        default=lambda self: self.env.company,
        readonly=True,
    )
    user_id = fields.Many2one(
        comodel_name="res.users",
        string="Salesperson",
        required=True,
        default=lambda self: self.env.user,
        domain="[('share', '=', False), ('company_ids', 'in', company_id)]",
        tracking=True,
        help="Salesperson of the created quotations (their sales team follows); "
        "the emails are sent in their name.",
    )
    source_order_id = fields.Many2one(
        comodel_name="sale.order",
        string="Source Quotation",
        check_company=True,
        domain="[('state', 'in', ('draft', 'sent'))]",
        tracking=True,
        help="Quotation whose lines (products, quantities, descriptions, discounts, "
        "sections and notes) are copied for every customer. Prices are computed "
        "again with each customer's pricelist.",
    )
    sale_order_template_id = fields.Many2one(
        comodel_name="sale.order.template",
        string="Quotation Template",
        check_company=True,
        tracking=True,
        help="Quotation template whose lines and optional products are used for "
        "every customer, instead of a source quotation.",
    )
    partner_ids = fields.Many2many(
        comodel_name="res.partner",
        relation="sale_flow_mass_quotation_partner_rel",
        column1="run_id",
        column2="partner_id",
        string="Customers",
        help="Customers who receive a quotation, in addition to those matching the "
        "filter.",
    )
    use_partner_domain = fields.Boolean(
        string="Add Customers by Filter",
        help="Also send the offer to every customer matching a filter.",
    )
    partner_domain = fields.Char(
        string="Customer Filter",
        help="With 'Add Customers by Filter', customers matching this filter also "
        "receive a quotation; 'Match all records' means every contact.",
    )
    send_quotations = fields.Boolean(
        string="Send by Email",
        help="Email each created quotation to its customer and mark it as sent. "
        "Quotations waiting for approval are created but not sent.",
    )
    state = fields.Selection(
        selection=[
            ("draft", "Draft"),
            ("running", "Running"),
            ("done", "Done"),
            ("failed", "Failed"),
        ],
        default="draft",
        required=True,
        readonly=True,
        copy=False,
        index=True,
        tracking=True,
        help="Running: quotations are being created (large runs in the background). "
        "Done: every customer was handled, see the results. Failed: no quotation "
        "could be created.",
    )
    line_ids = fields.One2many(
        comodel_name="sale.flow.mass.quotation.line",
        inverse_name="run_id",
        string="Results",
        readonly=True,
        copy=False,
    )
    customer_count = fields.Integer(
        string="Customers Targeted",
        compute="_compute_customer_count",
        help="Customers of the list and of the filter, each counted once.",
    )
    created_count = fields.Integer(
        string="Created",
        compute="_compute_counters",
        help="Quotations created, sent or not.",
    )
    sent_count = fields.Integer(string="Sent", compute="_compute_counters")
    failed_count = fields.Integer(
        string="Failed",
        compute="_compute_counters",
        help="Customers for whom no quotation could be created.",
    )
    progress = fields.Float(
        string="Progress (%)",
        compute="_compute_counters",
        digits=(16, 1),
        help="Share of the customers already handled.",
    )

    _sql_constraints = [
        (
            "one_source",
            "CHECK(source_order_id IS NULL OR sale_order_template_id IS NULL)",
            (
                "A mass quotation uses either a source quotation or a quotation "
                "template, not both."
            ),
        ),
    ]

    # ------------------------------------------------------------------
    # Compute methods
    # ------------------------------------------------------------------
    @api.depends("partner_ids", "use_partner_domain", "partner_domain", "line_ids")
    def _compute_customer_count(self):
        counts = self._flow_line_counts()
        for run in self:
            if run.state == "draft" and run._origin.id not in counts:
                try:
                    run.customer_count = len(run._get_target_partners())
                except UserError:
                    run.customer_count = 0
            else:
                run.customer_count = sum(counts.get(run._origin.id, {}).values())

    @api.depends("line_ids.state")
    def _compute_counters(self):
        counts = self._flow_line_counts()
        for run in self:
            by_state = counts.get(run._origin.id, {})
            total = sum(by_state.values())
            run.sent_count = by_state.get("sent", 0)
            run.created_count = by_state.get("created", 0) + run.sent_count
            run.failed_count = by_state.get("failed", 0)
            run.progress = (
                100.0 * (total - by_state.get("pending", 0)) / total if total else 0.0
            )

    def _flow_line_counts(self):
        """Return {run id: {line state: count}} in one query."""
        ids = [run_id for run_id in self._origin.ids if run_id]
        if not ids:
            return {}
        counts = {}
        groups = self.env["sale.flow.mass.quotation.line"]._read_group(
            [("run_id", "in", ids)], ["run_id", "state"], ["__count"]
        )
        for run, state, count in groups:
            counts.setdefault(run.id, {})[state] = count
        return counts

    # ------------------------------------------------------------------
    # Constraints and onchanges
    # ------------------------------------------------------------------
    @api.constrains("partner_domain")
    def _check_partner_domain(self):
        for run in self:
            run._parse_partner_domain()

    @api.onchange("use_partner_domain")
    def _onchange_use_partner_domain(self):
        # start from the customers, as the filter widget will count them
        if self.use_partner_domain and not self.partner_domain:
            self.partner_domain = "[('customer_rank', '>', 0)]"

    @api.onchange("source_order_id")
    def _onchange_source_order_id(self):
        if self.source_order_id:
            self.sale_order_template_id = False

    @api.onchange("sale_order_template_id")
    def _onchange_sale_order_template_id(self):
        if self.sale_order_template_id:
            self.source_order_id = False

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------
    @api.ondelete(at_uninstall=False)
    def _unlink_except_running(self):
        if any(run.state == "running" for run in self):
            raise UserError(
                self.env._(
                    "A running mass quotation cannot be deleted: wait until it is done."
                )
            )

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_generate(self):
        """Create the quotations: at once for small runs, by cron for large ones."""
        for run in self:
            run._flow_start()
        return True

    def action_view_orders(self):
        self.ensure_one()
        orders = self.line_ids.order_id
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "sale.action_quotations_with_onboarding"
        )
        action.update(
            {
                "domain": [("id", "in", orders.ids)],
                "context": {"create": False},
                "name": self.env._("Quotations of %(run)s", run=self.name),
            }
        )
        if len(orders) == 1:
            action.update(
                {"views": [(False, "form")], "view_mode": "form", "res_id": orders.id}
            )
        return action

    def action_view_failed(self):
        """Open the results of the run, filtered on the failed customers."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "sales_order_flow.sale_flow_mass_quotation_line_action"
        )
        action.update(
            {
                "domain": [("run_id", "=", self.id)],
                "context": {"search_default_failed": 1, "create": False},
                "name": self.env._("Results of %(run)s", run=self.name),
            }
        )
        return action

    # ------------------------------------------------------------------
    # Business methods: targets and values
    # ------------------------------------------------------------------
    def _get_partner_domain(self):
        """Return the customer filter as a domain, None when there is none
        (an empty domain matches every contact, as the filter widget shows).

        :raise ValidationError: when the filter is not a valid domain
        """
        self.ensure_one()
        if not self.use_partner_domain:
            return None
        return self._parse_partner_domain()

    def _parse_partner_domain(self):
        """The filter's text as a domain (None when empty), checked even while
        the filter is off: a saved filter is always a valid one.

        :raise ValidationError: when the filter is not a valid domain
        """
        self.ensure_one()
        text = (self.partner_domain or "").strip()
        if not text:
            return None
        eval_context = {
            "uid": self.env.uid,
            "user": self.env.user,
            "time": safe_time,
            "datetime": safe_datetime,
            "relativedelta": relativedelta,
            "context_today": lambda: fields.Date.context_today(self),
            "company_id": self.company_id.id,
            "company_ids": self.env.companies.ids,
        }
        try:
            domain = safe_eval(text, eval_context)
            if not isinstance(domain, list | tuple):
                raise TypeError(text)
            # validates field names and operators
            self.env["res.partner"]._search(domain)
        except Exception as error:
            raise ValidationError(
                self.env._(
                    "The customer filter of %(run)s is not valid: %(error)s",
                    run=self.name,
                    error=error,
                )
            ) from error
        return list(domain)

    def _get_target_partners(self):
        """Customers of the list and of the filter, each once, in a stable order."""
        self.ensure_one()
        # archived customers stay in the list, to be reported as failed; _origin:
        # in the form, the list holds new records wrapping the real ones
        partners = self.with_context(active_test=False).partner_ids._origin
        domain = self._get_partner_domain()
        if domain is not None:
            partners |= self.env["res.partner"].search(domain, order="id")
        return partners

    def _get_partner_failure(self, partner):
        """Why a quotation is not even tried for ``partner`` (False when it is)."""
        self.ensure_one()
        if partner.company_id and partner.company_id != self.company_id:
            return self.env._(
                "%(customer)s belongs to company %(partner_company)s: quotations of "
                "%(company)s cannot be made for them.",
                customer=partner.display_name,
                partner_company=partner.company_id.name,
                company=self.company_id.name,
            )
        if not partner.active:
            return self.env._(
                "%(customer)s is archived.", customer=partner.display_name
            )
        return False

    def _prepare_order_line_values_list(self):
        """Values of the order lines every quotation gets (without prices: each
        customer's pricelist gives them)."""
        self.ensure_one()
        if self.sale_order_template_id:
            values_list = [
                line._prepare_order_line_values()
                for line in self.sale_order_template_id.sale_order_template_line_ids
            ]
        else:
            lines = self.source_order_id.order_line.filtered(
                lambda line: not line.is_downpayment
            ).sorted(lambda line: (line.sequence, line.id))
            values_list = [self._prepare_order_line_values(line) for line in lines]
        # without distribution models, the per-line analytic lookup (a search per
        # line, the costliest part of a large run) can only give nothing
        if not self._flow_has_analytic_models():
            for values in values_list:
                if not values.get("display_type"):
                    values["analytic_distribution"] = False
        return values_list

    @api.model
    def _prepare_order_line_values(self, line):
        """Values copied from a line of the source quotation."""
        values = {
            "display_type": line.display_type,
            "name": line.name,
            "sequence": line.sequence,
        }
        if not line.display_type:
            values.update(
                {
                    "product_id": line.product_id.id,
                    "product_uom_qty": line.product_uom_qty,
                    "product_uom": line.product_uom.id,
                    "discount": line.discount,
                }
            )
        return values

    def _flow_has_analytic_models(self):
        """Whether analytic distribution models may apply to the run's lines."""
        self.ensure_one()
        # sudo: only asks whether any model exists; reading them needs analytic
        # accounting rights a sales administrator may lack
        Model = self.env["account.analytic.distribution.model"].sudo()
        return bool(
            Model.search_count(
                [("company_id", "in", (False, self.company_id.id))], limit=1
            )
        )

    def _prepare_order_option_values_list(self):
        """Values of the optional products every quotation gets."""
        self.ensure_one()
        if self.sale_order_template_id:
            return [
                option._prepare_option_line_values()
                for option in self.sale_order_template_id.sale_order_template_option_ids
            ]
        return [
            {
                "name": option.name,
                "product_id": option.product_id.id,
                "quantity": option.quantity,
                "uom_id": option.uom_id.id,
                "discount": option.discount,
            }
            for option in self.source_order_id.sale_order_option_ids.filtered(
                lambda option: not option.line_id
            )
        ]

    def _prepare_order_values(self, partner, line_values_list, option_values_list):
        """Values of the quotation for ``partner``.

        Pricelist, payment term, invoice and delivery addresses, fiscal position
        and taxes are left to sale.order's computes, so each customer gets their
        own.
        """
        self.ensure_one()
        template = (
            self.sale_order_template_id or self.source_order_id.sale_order_template_id
        )
        values = {
            "partner_id": partner.id,
            "company_id": self.company_id.id,
            "user_id": self.user_id.id,
            "origin": self.name,
            "order_line": [Command.create(dict(vals)) for vals in line_values_list],
        }
        if template:
            values["sale_order_template_id"] = template.id
        if option_values_list:
            values["sale_order_option_ids"] = [
                Command.create(dict(vals)) for vals in option_values_list
            ]
        return values

    # ------------------------------------------------------------------
    # Business methods: processing
    # ------------------------------------------------------------------
    def _flow_check_can_start(self):
        self.ensure_one()
        if self.state != "draft":
            raise UserError(
                self.env._("%(run)s has already been generated.", run=self.display_name)
            )
        if not self.source_order_id and not self.sale_order_template_id:
            raise UserError(
                self.env._(
                    "Choose a source quotation or a quotation template for "
                    "%(run)s: it gives the lines of every quotation.",
                    run=self.display_name,
                )
            )
        if not self._prepare_order_line_values_list():
            raise UserError(
                self.env._(
                    "The source of %(run)s has no lines: add products to it first.",
                    run=self.display_name,
                )
            )

    def _flow_start(self, immediate=None):
        """Check the run, record its customers and process or schedule it.

        :param bool immediate: process in this transaction whatever the size
            (True) or leave it to the cron (False); by default small runs are
            processed at once and large ones by the cron
        """
        self.ensure_one()
        self._flow_check_can_start()
        partners = self._get_target_partners()
        if not partners:
            raise UserError(
                self.env._(
                    "Select at least one customer, or a filter matching customers, "
                    "before generating the quotations of %(run)s.",
                    run=self.display_name,
                )
            )
        line_values = []
        for partner in partners:
            failure = self._get_partner_failure(partner)
            line_values.append(
                {
                    "run_id": self.id,
                    "partner_id": partner.id,
                    "state": "failed" if failure else "pending",
                    "message": failure or False,
                }
            )
        self.env["sale.flow.mass.quotation.line"].create(line_values)
        self.state = "running"
        if immediate is None:
            immediate = len(partners) <= (
                self._flow_send_immediate_limit
                if self.send_quotations
                else self._flow_immediate_limit
            )
        if immediate:
            self._flow_process_pending()
        else:
            self.message_post(
                body=self.env._(
                    "%(count)s customers: the quotations are created in the "
                    "background, in batches of %(batch)s.",
                    count=len(partners),
                    batch=self._flow_get_batch_size(),
                )
            )
            self.env.ref("sales_order_flow.ir_cron_sale_flow_mass_quotation")._trigger()

    def _flow_pending_lines(self, limit=None):
        self.ensure_one()
        return self.env["sale.flow.mass.quotation.line"].search(
            [("run_id", "=", self.id), ("state", "=", "pending")],
            order="id",
            limit=limit,
        )

    def _flow_process_pending(self):
        """Process every pending customer of the run, batch by batch, then close."""
        self.ensure_one()
        while lines := self._flow_pending_lines(limit=self._flow_get_batch_size()):
            self._flow_process_batch(lines)
        self._flow_finish()

    def _flow_get_batch_size(self):
        self.ensure_one()
        if self.send_quotations:
            return self._flow_send_batch_size
        return self._flow_batch_size

    def _flow_process_batch(self, lines):
        """Create (and send) the quotations of one batch of run lines.

        The whole batch is created in one ``create`` inside a savepoint; when it
        fails the batch is retried customer by customer, each in its own
        savepoint, so a failing customer leaves nothing behind and does not stop
        the others.
        """
        self.ensure_one()
        run = self.with_company(self.company_id)
        # no "Quotation created" log per order: the origin names the run
        SaleOrder = run.env["sale.order"].with_context(mail_create_nolog=True)
        line_values_list = run._prepare_order_line_values_list()
        if not line_values_list:
            # the source was deleted or emptied after the run started
            lines.write(
                {
                    "state": "failed",
                    "message": self.env._(
                        "The source of the run has no lines any more."
                    ),
                }
            )
            return
        option_values_list = run._prepare_order_option_values_list()
        values_list = [
            run._prepare_order_values(
                line.partner_id, line_values_list, option_values_list
            )
            for line in lines
        ]
        created = {}
        try:
            with self.env.cr.savepoint():
                orders = SaleOrder.create(values_list)
            created = dict(zip(lines.ids, orders, strict=True))
        except psycopg2.OperationalError:
            raise  # concurrency or lock issues: let the transaction be retried
        except Exception:  # noqa: BLE001 - each customer is retried alone below
            _logger.info(
                "Mass quotation %s: batch failed, retrying customer by customer",
                self.id,
            )
            for line, values in zip(lines, values_list, strict=True):
                try:
                    with self.env.cr.savepoint():
                        created[line.id] = SaleOrder.create(values)
                except psycopg2.OperationalError:
                    raise
                except Exception as error:  # noqa: BLE001 - reported on the line
                    line.write(
                        {"state": "failed", "message": self._flow_error_text(error)}
                    )
        for line in lines:
            if line.id in created:
                line.write(
                    {
                        "state": "created",
                        "order_id": created[line.id].id,
                        "message": False,
                    }
                )
        if self.send_quotations and created:
            self._flow_send(lines.filtered(lambda line: line.state == "created"))

    def _flow_send(self, lines):
        """Email the quotations of ``lines`` and mark them sent, except those
        that approval blocks or whose customer has no email address."""
        self.ensure_one()
        to_send = self.env["sale.flow.mass.quotation.line"]
        for line in lines:
            reasons = line.order_id._flow_approval_blockers()
            if reasons:
                line.message = self.env._(
                    "Created but not sent: %(reasons)s", reasons="\n".join(reasons)
                )
            elif not line.partner_id.email:
                line.message = self.env._(
                    "Created but not sent: %(customer)s has no email address.",
                    customer=line.partner_id.display_name,
                )
            else:
                to_send |= line
        if not to_send:
            return
        try:
            with self.env.cr.savepoint():
                self._flow_send_orders(to_send.order_id)
            to_send.write({"state": "sent"})
            return
        except psycopg2.OperationalError:
            raise
        except Exception:  # noqa: BLE001 - each quotation is retried alone below
            _logger.info(
                "Mass quotation %s: sending failed, retrying one by one", self.id
            )
        for line in to_send:
            try:
                with self.env.cr.savepoint():
                    self._flow_send_orders(line.order_id)
                line.state = "sent"
            except psycopg2.OperationalError:
                raise
            except Exception as error:  # noqa: BLE001 - reported on the line
                line.message = self.env._(
                    "Created but not sent: %(error)s",
                    error=self._flow_error_text(error),
                )

    def _flow_send_orders(self, orders):
        """Post the quotation email of ``orders`` (queued, not sent inline) and
        mark them sent, as the quotation's "Send" button does."""
        template = self.env.ref(
            "sale.email_template_edi_sale", raise_if_not_found=False
        )
        if not template:
            raise UserError(self.env._("The quotation email template is missing."))
        orders.with_context(mark_so_as_sent=True).message_post_with_source(
            template,
            email_layout_xmlid="mail.mail_notification_layout_with_responsible_signature",
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )

    @api.model
    def _flow_error_text(self, error):
        """A readable reason for ``error``; details of unexpected ones go to the log."""
        if isinstance(error, UserError | ValidationError) and error.args:
            return str(error.args[0])
        _logger.warning("Mass quotation: unexpected error", exc_info=error)
        return self.env._(
            "The quotation could not be created because of an unexpected error; "
            "the server log has the details."
        )

    def _flow_finish(self):
        """Close the run and leave a summary in its chatter."""
        self.ensure_one()
        self.invalidate_recordset(["created_count", "sent_count", "failed_count"])
        self.state = "done" if self.created_count or not self.failed_count else "failed"
        self.message_post(
            body=self.env._(
                "Mass quotation finished: %(created)s quotations created, %(sent)s "
                "sent, %(failed)s customers failed.",
                created=self.created_count,
                sent=self.sent_count,
                failed=self.failed_count,
            )
        )

    @api.model
    def _cron_process_mass_quotations(self):
        """Process the running runs batch by batch, reporting progress to the cron
        and committing after each batch (outside tests) so work done is kept."""
        Line = self.env["sale.flow.mass.quotation.line"]
        pending_domain = [("run_id.state", "=", "running"), ("state", "=", "pending")]
        done = batches = 0
        deadline = time.monotonic() + self._flow_cron_time_budget

        def out_of_budget():
            return batches >= self._flow_cron_batches or time.monotonic() > deadline

        for run in self.search([("state", "=", "running")], order="id"):
            # work as the run's salesperson: their rights, their name on emails
            if run.user_id.active:
                run = run.with_user(run.user_id)
            run = run.with_company(run.company_id)
            while run.state == "running" and not out_of_budget():
                lines = run._flow_pending_lines(limit=run._flow_get_batch_size())
                if lines:
                    run._flow_process_batch(lines)
                    batches += 1
                    done += len(lines)
                if not run._flow_pending_lines(limit=1):
                    run._flow_finish()
                self.env["ir.cron"]._notify_progress(
                    done=done, remaining=Line.search_count(pending_domain)
                )
                self._flow_commit()
            if out_of_budget():
                break
        remaining = Line.search_count(pending_domain)
        if remaining:
            self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
            # in case Odoo stops calling us before the end (its own batch limit)
            self.env.ref("sales_order_flow.ir_cron_sale_flow_mass_quotation")._trigger()
        return True

    def _flow_commit(self):
        """Commit a processed batch, except in tests where the test owns the
        transaction."""
        if not odoo.modules.module.current_test:
            self.env.cr.commit()  # pylint: disable=invalid-commit
