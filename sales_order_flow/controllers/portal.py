import base64

from odoo import _, fields, http
from odoo.exceptions import AccessError, MissingError, ValidationError
from odoo.http import request

from odoo.addons.sale.controllers import portal as sale_portal

# What a customer may upload as its purchase order, and how large.
PO_DOCUMENT_MIMETYPES = ("application/pdf", "image/png", "image/jpeg")
PO_DOCUMENT_MAX_BYTES = 10 * 1024 * 1024


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
            return {"error": _("Invalid order.")}
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
                content = po_document.read()
                if (
                    po_document.mimetype not in PO_DOCUMENT_MIMETYPES
                    or len(content) > PO_DOCUMENT_MAX_BYTES
                ):
                    error = "po_document"
                else:
                    values["flow_po_document"] = base64.b64encode(content)
                    values["flow_po_document_name"] = po_document.filename
        if error:
            return request.redirect(
                order_sudo.get_portal_url(query_string=f"&po_error={error}")
            )
        # sudo: the customer reaches the order through its access token, and
        # only these PO values, validated above, are written.
        order_sudo.write(values)
        order_sudo.message_post(
            body=_(
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


class PaymentPortal(sale_portal.PaymentPortal):
    @http.route()
    def portal_order_transaction(self, order_id, access_token, **kwargs):
        try:
            order_sudo = self._document_check_access(
                "sale.order", order_id, access_token
            )
        except AccessError as error:
            raise ValidationError(_("The access token is invalid.")) from error
        if order_sudo.state in ("draft", "sent"):
            blockers = order_sudo._flow_portal_blockers()
            if blockers:
                raise ValidationError("\n".join(blockers))
        return super().portal_order_transaction(order_id, access_token, **kwargs)
