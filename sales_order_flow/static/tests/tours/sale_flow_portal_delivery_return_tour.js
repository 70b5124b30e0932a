/** @odoo-module **/

import { registry } from "@web/core/registry";

// A customer's buyer opens a delivered order, asks to return 3 units of its
// first delivery, and finds the request among its returns. Data comes from
// the Python test (TestReturnPortal.test_delivery_return_tour*).
function checkFits() {
    const overflow = document.documentElement.scrollWidth - window.innerWidth;
    if (overflow > 0) {
        throw new Error(`The page overflows by ${overflow}px`);
    }
}

function deliveryReturnSteps() {
    return [
        {
            content: "open the order",
            trigger: "a:contains(FLOW-RET-TOUR)",
            run: "click",
        },
        {
            content: "return products of the first delivery",
            trigger:
                "div[name='delivery_order']:contains(FLOW/OUT/FIRST) a.o_flow_delivery_return_btn",
            run: "click",
        },
        {
            content: "the form lists that delivery's 6 units",
            trigger: ".o_flow_return_lines .o_flow_return_returnable:contains(6.00)",
            run: checkFits,
        },
        {
            content: "return 3 units",
            trigger: "input.o_flow_return_qty",
            run: "edit 3",
        },
        {
            content: "the reason",
            trigger: "select#reason_id",
            run: "selectByLabel Defective",
        },
        {
            content: "a comment",
            trigger: "textarea#comment",
            run: "edit Three arrived scratched",
        },
        {
            content: "request the return",
            trigger: ".o_portal_sale_flow_return_request button[type='submit']",
            run: "click",
        },
        {
            content: "the request is shown, requested",
            trigger: ".o_portal_sale_flow_return h3:contains(RMA/):contains(Requested)",
            run() {
                checkFits();
                window.location.href = "/my/returns";
            },
        },
        {
            content: "it is among the customer's returns",
            trigger: ".o_portal_my_doc_table tr:contains(FLOW-RET-TOUR):contains(Requested)",
            run: checkFits,
        },
    ];
}

registry.category("web_tour.tours").add("sale_flow_portal_delivery_return", {
    url: "/my/orders",
    steps: () => deliveryReturnSteps(),
});

registry.category("web_tour.tours").add("sale_flow_portal_delivery_return_phone", {
    url: "/my/orders",
    steps: () => deliveryReturnSteps(),
});
