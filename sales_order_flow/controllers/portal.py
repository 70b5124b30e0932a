import base64
import math
import os
from datetime import datetime, time

from odoo import fields, http
from odoo.exceptions import AccessError, MissingError, UserError, ValidationError
from odoo.http import request
from odoo.osv import expression
from odoo.tools import plaintext2html
from odoo.tools.mimetypes import guess_mimetype

from odoo.addons.portal.controllers.portal import pager as portal_pager
from odoo.addons.sale.controllers import portal as sale_portal

# What a customer may upload as its purchase order, and how large.
PO_DOCUMENT_MIMETYPES = ("application/pdf", "image/png", "image/jpeg")
PO_DOCUMENT_MAX_BYTES = 10 * 1024 * 1024
# Room for the other fields of the PO form in the request's size.
PO_FORM_OVERHEAD_BYTES = 64 * 1024
# Larger portal call-off quantities are typing mistakes (and overflow amounts).
CALLOFF_MAX_QUANTITY = 1e9
# Longest customer note of a portal call-off (characters).
CALLOFF_NOTE_MAX_LENGTH = 2000


class CustomerPortal(sale_portal.CustomerPortal):
    @http.route()
    def portal_quote_accept(
        self, order_id, access_token=None, name=None, signature=None
    ):
        # The same checks as an internal confirmation, with customer wording,
        # before Odoo stores the signature and confirms.
        access_token = access_token or request.httprequest.args.get("access_token")
        try:
            order_sudo = self._document_check_access(
                "sale.order", order_id, access_token=access_token
            )
        except (AccessError, MissingError):
            return {"error": request.env._("Invalid order.")}
        blockers = order_sudo._flow_portal_blockers()
        if blockers:
            return {"error": "\n".join(blockers)}
        return super().portal_quote_accept(
            order_id, access_token=access_token, name=name, signature=signature
        )

    @http.route(
        ["/my/orders/<int:order_id>/purchase_order"],
        type="http",
        auth="public",
        methods=["POST"],
        website=True,
    )
    def portal_order_purchase_order(
        self,
        order_id,
        access_token=None,
        client_order_ref=None,
        po_date=None,
        po_document=None,
        **kwargs,
    ):
        """Let the customer give its purchase order on a quotation."""
        try:
            order_sudo = self._document_check_access(
                "sale.order", order_id, access_token=access_token
            )
        except (AccessError, MissingError):
            return request.redirect("/my")
        error = None
        values = {}
        reference = (client_order_ref or "").strip()
        if order_sudo.state not in ("draft", "sent"):
            error = "po_not_quotation"
        elif not reference or len(reference) > 64:
            error = "po_reference"
        else:
            values["client_order_ref"] = reference
            if po_date:
                try:
                    values["flow_po_date"] = fields.Date.to_date(po_date)
                except ValueError:
                    error = "po_date"
            if po_document and getattr(po_document, "filename", None):
                content = self._flow_read_po_document(po_document)
                if content is None:
                    error = "po_document"
                else:
                    values["flow_po_document"] = base64.b64encode(content)
                    values["flow_po_document_name"] = po_document.filename
        if error:
            return request.redirect(
                order_sudo.get_portal_url(query_string=f"&po_error={error}")
            )
        # sudo: the customer reaches the order through its access token, and
        # only these PO values, validated above, are written. The document is
        # stored by the binary field through ir.attachment's create/write,
        # whose _check_contents still judges the real (portal/public) user.
        order_sudo.write(values)
        order_sudo.message_post(
            body=request.env._(
                "Purchase order %(reference)s entered by the customer on the portal.",
                reference=reference,
            ),
            author_id=(
                order_sudo.partner_id.id
                if request.env.user._is_public()
                else request.env.user.partner_id.id
            ),
        )
        return request.redirect(order_sudo.get_portal_url(query_string="&po_ok=1"))

    @http.route(
        ["/my/orders/<int:order_id>/purchase_order/document"],
        type="http",
        auth="public",
        methods=["GET"],
        website=True,
    )
    def portal_order_purchase_order_document(self, order_id, access_token=None, **kw):
        """Download the PO document the customer gave on its order."""
        try:
            order_sudo = self._document_check_access(
                "sale.order", order_id, access_token=access_token
            )
        except (AccessError, MissingError):
            return request.redirect("/my")
        if not order_sudo.flow_po_document:
            raise request.not_found()
        # sudo (order_sudo): the customer reaches its order by ownership or
        # token, checked above; only the PO document it gave is sent back
        stream = request.env["ir.binary"]._get_stream_from(
            order_sudo,
            "flow_po_document",
            filename=order_sudo.flow_po_document_name,
        )
        return stream.get_response(as_attachment=True)

    @staticmethod
    def _flow_read_po_document(po_document):
        """Content of an uploaded PO document, or None when it is too large
        or is not, by its content, a PDF, PNG or JPEG file (whatever its name
        and the type the browser gives). The size is checked on the request
        and on the uploaded stream before anything is read into memory."""
        if (request.httprequest.content_length or 0) > PO_DOCUMENT_MAX_BYTES + (
            PO_FORM_OVERHEAD_BYTES
        ):
            return None
        content, _mimetype = CustomerPortal._flow_read_upload(
            po_document, PO_DOCUMENT_MAX_BYTES, PO_DOCUMENT_MIMETYPES
        )
        return content

    @staticmethod
    def _flow_read_upload(upload, max_bytes, mimetypes):
        """(content, mimetype) of an uploaded file, or (None, None) when it is
        larger than ``max_bytes`` or its content is none of ``mimetypes``
        (judged by ``guess_mimetype``, never by its name or the browser's
        claim). The stream's size is checked before it is read."""
        stream = upload.stream
        try:
            stream.seek(0, os.SEEK_END)
            size = stream.tell()
            stream.seek(0)
        except (AttributeError, OSError):
            size = None
        if size is not None and size > max_bytes:
            return None, None
        content = upload.read(max_bytes + 1)
        if len(content) > max_bytes:
            return None, None
        mimetype = guess_mimetype(content)
        if mimetype not in mimetypes:
            return None, None
        return content, mimetype

    def _prepare_quotations_domain(self, partner):
        # The call-offs a customer requested on an agreement's portal page
        # are its quotation requests, listed with the quotations while our
        # salesperson reviews them (Odoo lists sent quotations only).
        domain = super()._prepare_quotations_domain(partner)
        return expression.OR(
            [
                domain,
                [
                    (
                        "message_partner_ids",
                        "child_of",
                        [partner.commercial_partner_id.id],
                    ),
                    ("state", "=", "draft"),
                    ("flow_agreement_id", "!=", False),
                ],
            ]
        )

    # ---- commissions (issue 5) ----
    # Portal agents (portal users whose commercial partner is a commission
    # agent) read their commission lines and settlement statements; record
    # rules restrict both to their own.
    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "commission_count" in counters:
            Line = request.env["sale.flow.commission.line"]
            values["commission_count"] = (
                Line.search_count(self._prepare_commission_domain(), limit=1)
                if Line.has_access("read")
                else 0
            )
        self._prepare_agreement_home_values(values, counters)
        return values

    def _prepare_commission_domain(self):
        return [
            ("agent_id", "=", request.env.user.commercial_partner_id.id),
            ("state", "!=", "cancelled"),
        ]

    def _prepare_commission_settlement_domain(self):
        return [
            ("agent_id", "=", request.env.user.commercial_partner_id.id),
            ("state", "!=", "cancel"),
        ]

    @http.route(
        ["/my/commissions", "/my/commissions/page/<int:page>"],
        type="http",
        auth="user",
        website=True,
    )
    def portal_my_commissions(self, page=1, **kwargs):
        Line = request.env["sale.flow.commission.line"]
        Settlement = request.env["sale.flow.commission.settlement"]
        if not Line.has_access("read"):
            return request.redirect("/my")
        domain = self._prepare_commission_domain()
        pager = portal_pager(
            url="/my/commissions",
            total=Line.search_count(domain),
            page=page,
            step=self._items_per_page,
        )
        lines = Line.search(domain, limit=self._items_per_page, offset=pager["offset"])
        settlements = Settlement.search(self._prepare_commission_settlement_domain())
        values = self._prepare_portal_layout_values()
        values.update(
            {
                # sudo: the searches above ran with the agent's rights; the
                # customers and products they name are shown, not browsed
                "commission_lines": lines.sudo(),
                "settlements": settlements.sudo(),
                "page_name": "commission",
                "pager": pager,
                "default_url": "/my/commissions",
            }
        )
        return request.render("sales_order_flow.portal_my_commissions", values)

    @http.route(
        ["/my/commissions/settlement/<int:settlement_id>"],
        type="http",
        auth="public",
        website=True,
    )
    def portal_commission_statement(
        self, settlement_id, access_token=None, report_type="pdf", download=False, **kw
    ):
        try:
            settlement_sudo = self._document_check_access(
                "sale.flow.commission.settlement", settlement_id, access_token
            )
        except (AccessError, MissingError):
            return request.redirect("/my")
        return self._show_report(
            model=settlement_sudo,
            report_type=report_type if report_type in ("html", "pdf") else "pdf",
            report_ref="sales_order_flow.action_report_sale_flow_commission_statement",
            download=download,
        )

    # ---- agreements (issue 4) ----
    # Customers' contacts read their agreements (record rule on the commercial
    # partner) or reach one by its access token, download its PDF and request
    # call-offs against it.
    def _prepare_agreement_home_values(self, values, counters):
        if "agreement_count" in counters:
            Agreement = request.env["sale.flow.agreement"]
            values["agreement_count"] = (
                Agreement.search_count(self._prepare_agreements_domain())
                if Agreement.has_access("read")
                else 0
            )

    def _prepare_agreements_domain(self):
        return [
            (
                "commercial_partner_id",
                "=",
                request.env.user.partner_id.commercial_partner_id.id,
            ),
            ("state", "in", ("active", "expired", "closed")),
        ]

    def _get_agreement_searchbar_sortings(self):
        return {
            "date": {
                "label": request.env._("Newest"),
                "order": "date_start desc, id desc",
            },
            "end": {
                "label": request.env._("Ending First"),
                "order": "date_end asc, id desc",
            },
            "name": {"label": request.env._("Number"), "order": "name asc, id desc"},
        }

    @http.route(
        ["/my/agreements", "/my/agreements/page/<int:page>"],
        type="http",
        auth="user",
        website=True,
    )
    def portal_my_agreements(self, page=1, sortby=None, **kw):
        Agreement = request.env["sale.flow.agreement"]
        if not Agreement.has_access("read"):
            return request.redirect("/my")
        domain = self._prepare_agreements_domain()
        sortings = self._get_agreement_searchbar_sortings()
        sortby = sortby if sortby in sortings else "date"
        pager = portal_pager(
            url="/my/agreements",
            url_args={"sortby": sortby},
            total=Agreement.search_count(domain),
            page=page,
            step=self._items_per_page,
        )
        agreements = Agreement.search(
            domain,
            order=sortings[sortby]["order"],
            limit=self._items_per_page,
            offset=pager["offset"],
        )
        request.session["my_agreements_history"] = agreements.ids[:100]
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "agreements": agreements,
                "page_name": "agreement",
                "pager": pager,
                "default_url": "/my/agreements",
                "searchbar_sortings": sortings,
                "sortby": sortby,
            }
        )
        return request.render("sales_order_flow.portal_my_agreements", values)

    @http.route(
        ["/my/agreements/<int:agreement_id>"],
        type="http",
        auth="public",
        website=True,
    )
    def portal_agreement_page(
        self, agreement_id, access_token=None, report_type=None, download=False, **kw
    ):
        try:
            agreement_sudo = self._document_check_access(
                "sale.flow.agreement", agreement_id, access_token=access_token
            )
        except (AccessError, MissingError):
            return request.redirect("/my")
        if agreement_sudo.state in ("draft", "cancelled"):
            return request.redirect("/my")
        if report_type in ("html", "pdf", "text"):
            return self._show_report(
                model=agreement_sudo,
                report_type=report_type,
                report_ref="sales_order_flow.action_report_sale_flow_agreement",
                download=download,
            )
        values = self._get_page_view_values(
            agreement_sudo,
            access_token,
            {
                "agreement": agreement_sudo,
                "consumption": agreement_sudo.line_ids._flow_get_consumption(),
                "pending": agreement_sudo.line_ids._flow_get_pending(),
                "page_name": "agreement",
                "calloff_error": kw.get("calloff_error"),
                "calloff_order": self._flow_get_calloff_order(
                    agreement_sudo, kw.get("calloff_order")
                ),
                "calloff_orders": self._flow_get_calloff_orders(agreement_sudo),
                "calloff_po_required": (
                    agreement_sudo.commercial_partner_id.flow_po_required
                ),
                "calloff_today": fields.Date.context_today(agreement_sudo),
            },
            "my_agreements_history",
            False,
            **kw,
        )
        return request.render("sales_order_flow.portal_agreement_page", values)

    @staticmethod
    def _flow_get_calloff_order(agreement_sudo, order_id):
        """The call-off just requested on the agreement (its link is shown in
        the confirmation), or an empty recordset."""
        Order = request.env["sale.order"].sudo()
        try:
            order_id = int(order_id or 0)
        except ValueError:
            return Order
        if not 0 < order_id < 2**31:  # beyond PostgreSQL's integer ids
            return Order
        # sudo: only a call-off of this agreement the customer follows (one
        # it requested, or was sent), which the visitor reaches by the
        # agreement; not the salesperson's drafts
        order = Order.browse(order_id).exists()
        if (
            order.flow_agreement_id != agreement_sudo
            or agreement_sudo.commercial_partner_id
            not in order.message_partner_ids.commercial_partner_id
        ):
            return Order
        return order

    @staticmethod
    def _flow_get_calloff_orders(agreement_sudo):
        """The call-offs of the agreement the visitor can open itself (the
        orders it follows), newest first."""
        Order = request.env["sale.order"]
        if request.env.user._is_public() or not Order.has_access("read"):
            return Order
        return Order.search(
            [
                ("flow_agreement_id", "=", agreement_sudo.id),
                ("state", "in", ("draft", "sent", "sale")),
            ],
            order="date_order desc, id desc",
            limit=20,
        ).sudo()

    @http.route(
        ["/my/agreements/<int:agreement_id>/calloff"],
        type="http",
        auth="public",
        methods=["POST"],
        website=True,
    )
    def portal_agreement_calloff(self, agreement_id, access_token=None, **post):
        """Request a call-off: a quotation for the salesperson, or a confirmed
        order when the agreement allows it; minimum, maximum and enforced
        limits apply as in the back office."""
        try:
            agreement_sudo = self._document_check_access(
                "sale.flow.agreement", agreement_id, access_token=access_token
            )
        except (AccessError, MissingError):
            return request.redirect("/my")
        lines_values = self._flow_parse_calloff_quantities(agreement_sudo, post)
        url = agreement_sudo.get_portal_url()
        sep = "&" if "?" in url else "?"
        if not lines_values:
            return request.redirect(f"{url}{sep}calloff_error=quantity")
        order_values, date, note, error = self._flow_parse_calloff_order_values(
            agreement_sudo, post
        )
        if error:
            return request.redirect(f"{url}{sep}calloff_error={error}")
        user_partner = request.env.user.partner_id
        partner = (
            user_partner
            if not request.env.user._is_public()
            and user_partner.commercial_partner_id
            == agreement_sudo.commercial_partner_id
            else agreement_sudo.partner_id
        )
        try:
            agreement_sudo._flow_check_calloff(lines_values)
        except UserError:
            return request.redirect(f"{url}{sep}calloff_error=limit")
        try:
            # sudo: the customer reaches the agreement by ownership or token;
            # the call-off is created for its salesperson within the limits
            # checked above; a refused confirmation leaves no order behind.
            order = agreement_sudo._flow_create_calloff(
                lines_values,
                date=date,
                confirm=agreement_sudo.allow_confirmed_calloff,
                partner=partner,
                order_values=order_values,
            )
        except UserError:
            # e.g. a PO reference or an approval is needed to confirm it
            return request.redirect(f"{url}{sep}calloff_error=confirm")
        # the customer's contact follows its call-off: it is one of its
        # documents on the portal (quotations or orders), with its messages
        order.message_subscribe(partner_ids=partner.ids)
        order.message_post(
            body=request.env._("Call-off requested by the customer on the portal."),
            author_id=partner.id,
        )
        if note:
            order.message_post(
                body=plaintext2html(note),
                author_id=partner.id,
                # a message, not an internal note: the customer finds it in
                # the call-off's history and the salesperson is told
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
            )
        return request.redirect(f"{url}{sep}calloff_order={order.id}")

    @staticmethod
    def _flow_parse_calloff_order_values(agreement_sudo, post):
        """``(order values, wanted date, note, error)`` of the posted
        call-off: the customer's PO reference (required when the customer
        requires a PO), the wanted delivery date (today or later) and a
        note; ``error`` names what is wrong, or is None."""
        values = {}
        reference = (post.get("client_order_ref") or "").strip()
        if len(reference) > 64 or (
            not reference and agreement_sudo.commercial_partner_id.flow_po_required
        ):
            return values, None, None, "po_reference"
        if reference:
            values["client_order_ref"] = reference
        date = None
        raw_date = (post.get("commitment_date") or "").strip()
        if raw_date:
            try:
                date = fields.Date.to_date(raw_date)
            except ValueError:
                date = None
            if not date or date < fields.Date.context_today(agreement_sudo):
                return values, None, None, "date"
            # noon: the same day whatever the customer's time zone
            date = datetime.combine(date, time(12, 0))
        note = (post.get("note") or "").strip()
        if len(note) > CALLOFF_NOTE_MAX_LENGTH:
            return values, None, None, "note"
        if not agreement_sudo.allow_confirmed_calloff:
            # a request our salesperson reviews and confirms: the customer
            # does not sign or pay it on the portal meanwhile
            values.update(require_signature=False, require_payment=False)
        return values, date, note, None

    @staticmethod
    def _flow_parse_calloff_quantities(agreement_sudo, post):
        """``[(agreement line, quantity)]`` of the posted call-off; empty when
        nothing is asked or a quantity is not a finite positive number (the
        whole call-off is then refused, not part of it)."""
        lines_values = []
        # Only quantity lines take a call-off quantity on the portal; value
        # lines are ordered with the salesperson.
        for line in agreement_sudo.line_ids.filtered(
            lambda line: line.product_id and line.commitment_type == "quantity"
        ):
            raw = (post.get(f"qty_{line.id}") or "").strip()
            if not raw:
                continue
            try:
                qty = float(raw)
            except ValueError:
                return []
            if not math.isfinite(qty) or qty < 0 or qty > CALLOFF_MAX_QUANTITY:
                return []
            if qty:
                lines_values.append((line, qty))
        return lines_values


class PaymentPortal(sale_portal.PaymentPortal):
    @http.route()
    def portal_order_transaction(self, order_id, access_token, **kwargs):
        try:
            order_sudo = self._document_check_access(
                "sale.order", order_id, access_token
            )
        except AccessError as error:
            raise ValidationError(
                request.env._("The access token is invalid.")
            ) from error
        if order_sudo.state in ("draft", "sent"):
            blockers = order_sudo._flow_portal_blockers()
            if blockers:
                raise ValidationError("\n".join(blockers))
        return super().portal_order_transaction(order_id, access_token, **kwargs)
