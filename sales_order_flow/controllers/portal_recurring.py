"""Recurring orders on the customer portal (issue 13)."""

from odoo import http
from odoo.exceptions import AccessError, MissingError, UserError
from odoo.http import request

from odoo.addons.sale.controllers import portal as sale_portal

PORTAL_ACTIONS = {
    "pause": "action_flow_recurring_pause",
    "resume": "action_flow_recurring_resume",
    "close": "action_flow_recurring_close_period_end",
}


class CustomerPortal(sale_portal.CustomerPortal):
    @http.route(
        ["/my/orders/<int:order_id>/recurring/<string:action>"],
        type="http",
        auth="public",
        methods=["POST"],
        website=True,
    )
    def portal_order_recurring(self, order_id, action, access_token=None, **kwargs):
        """Pause, resume or close a recurring order, when the company allows it."""
        try:
            order_sudo = self._document_check_access(
                "sale.order", order_id, access_token=access_token
            )
        except (AccessError, MissingError):
            return request.redirect("/my")
        url = order_sudo.get_portal_url()
        if (
            action not in PORTAL_ACTIONS
            or not order_sudo.company_id.flow_recurring_portal_manage
        ):
            return request.redirect(f"{url}&recurring_error=not_allowed")
        try:
            # sudo (from the access check above): the customer's own order,
            # and the company lets customers manage it
            getattr(order_sudo, PORTAL_ACTIONS[action])()
        except UserError:
            return request.redirect(f"{url}&recurring_error=state")
        return request.redirect(f"{url}&recurring_ok={action}")
