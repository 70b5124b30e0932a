/** @odoo-module **/

import { registry } from "@web/core/registry";
import { redirect } from "@web/core/utils/urls";

// A customer whose company requires a PO opens its quotation, cannot accept it
// before giving the PO, gives it, then signs. Data comes from the Python test.
registry.category("web_tour.tours").add("sale_flow_portal_po", {
    url: "/my/quotes",
    steps: () => [
        {
            content: "open the quotation",
            trigger: "a:contains(/^Flow PO Quote$/)",
            run: "click",
        },
        {
            content: "the PO form is shown and signing is not offered yet",
            trigger: "#sale_flow_po_form",
        },
        {
            trigger: "#sale_order_sidebar_button:not(:has(a:contains('Sign')))",
        },
        {
            content: "enter the PO reference",
            trigger: "#sale_flow_po_form input[name='client_order_ref']",
            run: "edit PO-TOUR-42",
        },
        {
            content: "save it",
            trigger: "#sale_flow_po_form button[type='submit']",
            run: "click",
        },
        {
            content: "the PO is recorded",
            trigger: ".alert-success:contains('purchase order has been recorded')",
        },
        {
            content: "now the quotation can be signed",
            trigger: "a:contains('Sign')",
            run: "click",
        },
        {
            trigger: ".modal .o_web_sign_name_and_signature input:value(Flow Portal Buyer)",
        },
        {
            content: "pick a signature style",
            trigger: ".modal .o_web_sign_auto_select_style button",
            run: "click",
        },
        {
            trigger: ".o-dropdown-item:eq(1)",
            run: "click",
        },
        {
            // the chosen style is drawn asynchronously (an image loads): until
            // it is, the widget reports an empty signature, so wait for pixels
            content: "wait until the chosen style is drawn",
            trigger: ".modal canvas.o_web_sign_signature",
            run: async function () {
                const canvas = document.querySelector(".modal canvas.o_web_sign_signature");
                for (let attempt = 0; attempt < 200; attempt++) {
                    const pixels = canvas
                        .getContext("2d")
                        .getImageData(0, 0, canvas.width, canvas.height).data;
                    if (pixels.some((value, index) => index % 4 === 3 && value)) {
                        return;
                    }
                    await new Promise((resolve) => setTimeout(resolve, 100));
                }
            },
        },
        {
            content: "submit the signature",
            trigger: ".modal .o_portal_sign_submit:enabled",
            run: "click",
        },
        {
            // the page reloads once signed (the page before may already say
            // "Thank you" about the saved PO)
            content: "the order is confirmed",
            trigger: "#quote_content:contains('Your order has been confirmed')",
        },
        {
            trigger: "#quote_content",
            run: function () {
                redirect("/odoo");
            },
        },
        {
            trigger: "nav",
        },
    ],
});
