import base64
import math

from odoo import Command, http
from odoo.exceptions import AccessError, MissingError, UserError, ValidationError
from odoo.http import request
from odoo.tools import float_compare, formatLang
from odoo.tools.misc import format_date

from odoo.addons.portal.controllers.portal import pager as portal_pager

from .portal import CustomerPortal

# What a customer may attach to a return request, and how large.
RETURN_ATTACHMENT_MIMETYPES = ("application/pdf", "image/png", "image/jpeg")
RETURN_ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024


class CustomerPortalReturn(CustomerPortal):
    # ---- returns (issue 12) ----
    # Customers request returns from their orders and follow them; record
    # rules restrict returns to their commercial entity, tokens give access
    # to one return as for Odoo's documents.
    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "return_count" in counters:
            Return = request.env["sale.flow.return"]
            values["return_count"] = (
                Return.search_count(self._prepare_returns_domain())
                if Return.has_access("read")
                else 0
            )
        return values

    def _prepare_returns_domain(self):
        return [
            (
                "commercial_partner_id",
                "=",
                request.env.user.partner_id.commercial_partner_id.id,
            ),
        ]

    @http.route(
        ["/my/returns", "/my/returns/page/<int:page>"],
        type="http",
        auth="user",
        website=True,
    )
    def portal_my_returns(self, page=1, **kw):
        Return = request.env["sale.flow.return"]
        if not Return.has_access("read"):
            return request.redirect("/my")
        domain = self._prepare_returns_domain()
        pager = portal_pager(
            url="/my/returns",
            total=Return.search_count(domain),
            page=page,
            step=self._items_per_page,
        )
        returns = Return.search(
            domain, limit=self._items_per_page, offset=pager["offset"]
        )
        request.session["my_returns_history"] = returns.ids[:100]
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "returns": returns,
                "page_name": "return",
                "pager": pager,
                "default_url": "/my/returns",
            }
        )
        return request.render("sales_order_flow.portal_my_returns", values)

    @http.route(
        ["/my/returns/<int:return_id>"], type="http", auth="public", website=True
    )
    def portal_return_page(
        self, return_id, access_token=None, report_type=None, download=False, **kw
    ):
        try:
            rma_sudo = self._document_check_access(
                "sale.flow.return", return_id, access_token=access_token
            )
        except (AccessError, MissingError):
            return request.redirect("/my")
        if report_type in ("html", "pdf", "text"):
            return self._show_report(
                model=rma_sudo,
                report_type=report_type,
                report_ref="sales_order_flow.action_report_sale_flow_return",
                download=download,
            )
        values = self._get_page_view_values(
            rma_sudo,
            access_token,
            {"rma": rma_sudo, "page_name": "return"},
            "my_returns_history",
            False,
        )
        return request.render("sales_order_flow.portal_return_page", values)

    def _flow_return_form_values(
        self, order_sudo, access_token, error=None, post=None, picking_sudo=None
    ):
        # sudo: the caller checked the order's access (ownership or token) and
        # that the delivery is one of its own; what is read here is only that
        # order's (or delivery's) returnable moves and the reasons
        Return = request.env["sale.flow.return"].sudo()
        moves = (
            picking_sudo.move_ids if picking_sudo else order_sudo.order_line.move_ids
        )
        rows = Return._flow_returnable_rows(moves)
        reasons = (
            request.env["sale.flow.return.reason"]
            .sudo()
            .search(
                [("company_id", "in", (order_sudo.company_id.id, False))],
                order="sequence, id",
            )
        )
        action = (
            f"/my/orders/{order_sudo.id}/deliveries/{picking_sudo.id}/return"
            if picking_sudo
            else f"/my/orders/{order_sudo.id}/return"
        )
        return {
            "order": order_sudo,
            "picking": picking_sudo,
            "access_token": access_token,
            "form_action": action,
            "rows": rows,
            "status": Return._flow_returnable_status(rows),
            "show_deliveries": len({row["move"].picking_id for row in rows}) > 1,
            "reasons": reasons,
            "error": error,
            "post": post or {},
            "page_name": "return_request",
        }

    def _flow_render_return_form(
        self, order_sudo, access_token, post, picking_sudo=None
    ):
        """GET: the form; POST: the request, or the form again with the
        message and nothing created."""
        if request.httprequest.method != "POST":
            return request.render(
                "sales_order_flow.portal_return_request",
                self._flow_return_form_values(
                    order_sudo, access_token, picking_sudo=picking_sudo
                ),
            )
        try:
            rma = self._flow_create_portal_return(order_sudo, post, picking_sudo)
        except (UserError, ValidationError) as error:
            return request.render(
                "sales_order_flow.portal_return_request",
                self._flow_return_form_values(
                    order_sudo,
                    access_token,
                    error=error.args[0],
                    post=post,
                    picking_sudo=picking_sudo,
                ),
            )
        return request.redirect(rma.get_portal_url())

    @http.route(
        ["/my/orders/<int:order_id>/return"],
        type="http",
        auth="public",
        methods=["GET", "POST"],
        website=True,
    )
    def portal_order_return(self, order_id, access_token=None, **post):
        """The customer's return request from one of its orders: lines and
        quantities still returnable, a reason, a comment and photos. Bad
        input is explained on the form and nothing is created."""
        try:
            order_sudo = self._document_check_access(
                "sale.order", order_id, access_token=access_token
            )
        except (AccessError, MissingError):
            return request.redirect("/my")
        return self._flow_render_return_form(order_sudo, access_token, post)

    @http.route(
        ["/my/orders/<int:order_id>/deliveries/<int:picking_id>/return"],
        type="http",
        auth="public",
        methods=["GET", "POST"],
        website=True,
    )
    def portal_delivery_return(self, order_id, picking_id, access_token=None, **post):
        """The same request from one delivery of the order: only its moves.
        404 unless the order is the customer's (or the token is the order's)
        and the delivery is one of the order's deliveries to the customer."""
        try:
            order_sudo = self._document_check_access(
                "sale.order", order_id, access_token=access_token
            )
        except (AccessError, MissingError):
            raise request.not_found()
        picking_sudo = order_sudo.picking_ids.filtered(
            lambda p: p.id == picking_id and p.picking_type_code == "outgoing"
        )
        if not picking_sudo:
            raise request.not_found()
        return self._flow_render_return_form(
            order_sudo, access_token, post, picking_sudo
        )

    def _flow_create_portal_return(self, order_sudo, post, picking_sudo=None):
        env = request.env
        values = self._flow_return_form_values(
            order_sudo, None, picking_sudo=picking_sudo
        )
        reason = values["reasons"].filtered(
            lambda r: str(r.id) == (post.get("reason_id") or "")
        )
        if not reason:
            raise UserError(env._("Choose the reason of the return."))
        line_commands = []
        for row in values["rows"]:
            raw = (post.get(row["key"]) or "").strip()
            if not raw:
                continue
            product = row["move"].product_id.display_name
            try:
                qty = float(raw)
            except ValueError as error:
                raise UserError(
                    env._(
                        "%(product)s: %(value)s is not a quantity.",
                        product=product,
                        value=raw,
                    )
                ) from error
            if not math.isfinite(qty):
                raise UserError(
                    env._(
                        "%(product)s: %(value)s is not a quantity.",
                        product=product,
                        value=raw,
                    )
                )
            if qty < 0:
                raise UserError(
                    env._(
                        "%(product)s: the quantity to return cannot be negative.",
                        product=product,
                    )
                )
            if not qty:
                continue
            if row["expired"]:
                raise UserError(
                    env._(
                        "%(product)s was delivered on %(date)s, %(age)s days ago: "
                        "the return window is %(window)s days.",
                        product=product,
                        date=format_date(env, row["date"]),
                        age=row["age"],
                        window=row["window"],
                    )
                )
            if (
                float_compare(
                    qty,
                    row["returnable"],
                    precision_rounding=row["uom"].rounding,
                )
                > 0
            ):
                raise UserError(
                    env._(
                        "%(product)s (delivery %(delivery)s): %(requested)s %(uom)s "
                        "requested, but %(delivered)s delivered and %(other)s "
                        "already returned or requested: at most %(max)s can be "
                        "returned.",
                        product=product,
                        delivery=row["move"].picking_id.name,
                        requested=self._flow_format_qty(qty),
                        uom=row["uom"].name,
                        delivered=self._flow_format_qty(row["delivered"]),
                        other=self._flow_format_qty(row["other"]),
                        max=self._flow_format_qty(row["returnable"]),
                    )
                )
            line_commands.append(
                Command.create(
                    {**row["values"], "product_uom_qty": qty, "reason_id": reason.id}
                )
            )
        if not line_commands:
            raise UserError(env._("Enter the quantity of at least one product."))
        files = [
            upload
            for upload in request.httprequest.files.getlist("attachments")
            if upload and upload.filename
        ]
        attachments = []
        for upload in files:
            content, mimetype = self._flow_read_upload(
                upload, RETURN_ATTACHMENT_MAX_BYTES, RETURN_ATTACHMENT_MIMETYPES
            )
            if content is None:
                raise UserError(
                    env._(
                        "%(name)s: attach PDF, PNG or JPEG files of up to 10 MB.",
                        name=upload.filename,
                    )
                )
            attachments.append((upload.filename, content, mimetype))
        user_partner = env.user.partner_id
        partner = (
            user_partner
            if not env.user._is_public()
            and user_partner.commercial_partner_id
            == order_sudo.partner_id.commercial_partner_id
            else order_sudo.partner_id
        )
        # sudo: the customer reaches the order by ownership or token (checked
        # by the caller); the request goes to the order's salesperson, through
        # the same checks as in the back office; a failure leaves nothing.
        with env.cr.savepoint():
            rma = (
                env["sale.flow.return"]
                .sudo()
                .with_company(order_sudo.company_id)
                .create(
                    {
                        "partner_id": partner.id,
                        "company_id": order_sudo.company_id.id,
                        "user_id": order_sudo.user_id.id,
                        "sale_order_ids": [Command.set(order_sudo.ids)],
                        "comment": (post.get("comment") or "").strip() or False,
                        "line_ids": line_commands,
                    }
                )
            )
            # sudo: portal users cannot create attachments on the return;
            # the files were checked by content above, and Odoo's own
            # sanitising still judges the real user (ir.attachment
            # _check_contents reads the views' rights without sudo)
            for name, content, mimetype in attachments:
                env["ir.attachment"].sudo().create(
                    {
                        "name": name,
                        "datas": base64.b64encode(content),
                        "mimetype": mimetype,
                        "res_model": rma._name,
                        "res_id": rma.id,
                    }
                )
            rma.action_request()
            rma.message_post(
                body=env._("Return requested by the customer on the portal."),
                author_id=partner.id,
            )
        return rma

    def _flow_format_qty(self, qty):
        return formatLang(request.env, qty, dp="Product Unit of Measure")
