/** @odoo-module **/

import { registry } from "@web/core/registry";

// A customer's contact requests a call-off on its agreement with its PO
// reference and a wanted date, opens the quotation it became, finds it among
// its quotations and sees it pending on the agreement. Data comes from the
// Python test (TestAgreementPortalCalloff).
function calloffSteps({ phone = false } = {}) {
    return [
        {
            content: "open the agreement",
            trigger: "a:contains(/^AGR-TOUR$/)",
            run: "click",
        },
        {
            content: "nothing pending yet",
            trigger: phone
                ? ".o_flow_agreement_compact dd:contains(0.00 Units)"
                : "td.o_flow_pending:contains(0.00 Units)",
        },
        {
            content: "the page fits the screen",
            trigger: "table.o_flow_agreement_lines",
            run() {
                const overflow = document.documentElement.scrollWidth - window.innerWidth;
                if (overflow > 0) {
                    throw new Error(`The agreement page overflows by ${overflow}px`);
                }
                for (const th of document.querySelectorAll("table.o_flow_agreement_lines th")) {
                    if (th.offsetParent && th.scrollWidth > th.clientWidth + 1) {
                        throw new Error(`Header "${th.textContent.trim()}" is cut`);
                    }
                }
            },
        },
        {
            content: "ask 20 units",
            trigger: "input.o_flow_calloff_qty",
            run: "edit 20",
        },
        {
            content: "give the PO reference",
            trigger: "input#calloff_client_order_ref",
            run: "edit PO-CALLOFF-7",
        },
        {
            content: "a wanted delivery date",
            trigger: "input#calloff_commitment_date",
            run() {
                const date = new Date(Date.now() + 10 * 24 * 3600 * 1000);
                this.anchor.value = date.toISOString().slice(0, 10);
            },
        },
        {
            content: "a note",
            trigger: "textarea#calloff_note",
            run: "edit Deliver to gate 3",
        },
        {
            content: "send the call-off",
            trigger: ".o_flow_calloff_details button[type='submit']",
            run: "click",
        },
        {
            content: "the call-off is pending on the agreement",
            trigger: phone
                ? ".o_flow_agreement_compact dd:contains(20.00 Units)"
                : "td.o_flow_pending:contains(20.00 Units)",
        },
        {
            content: "it is listed among the call-offs",
            trigger: "#sale_flow_calloff_orders a",
        },
        {
            content: "open the call-off from the confirmation",
            trigger: "#sale_flow_calloff_sent a",
            run: "click",
        },
        {
            content: "the customer opens it as a quotation under review",
            trigger: "#sale_flow_calloff_request",
        },
        {
            trigger: "#sale_info_table:contains(PO-CALLOFF-7)",
            run() {
                window.location.href = "/my/quotes";
            },
        },
        {
            content: "it is one of the customer's quotations",
            trigger: ".o_portal_my_doc_table a:contains(/^S\\d+/)",
        },
    ];
}

registry.category("web_tour.tours").add("sale_flow_portal_calloff", {
    url: "/my/agreements",
    steps: () => calloffSteps(),
});

registry.category("web_tour.tours").add("sale_flow_portal_calloff_phone", {
    url: "/my/agreements",
    steps: () => calloffSteps({ phone: true }),
});
