from odoo import api, fields, models


class SaleFlowOrderApproval(models.Model):
    """One approval a quotation needs: one record per (order, matched rule).

    Records are created, approved and rejected only through the approval
    methods of ``sale.order`` (which check that the user is an allowed
    approver); users only read them.
    """

    _name = "sale.flow.order.approval"
    _description = "Sales Flow Order Approval"
    _order = "order_id, level, id"
    _rec_name = "rule_id"

    order_id = fields.Many2one(
        "sale.order",
        required=True,
        index=True,
        ondelete="cascade",
        readonly=True,
    )
    rule_id = fields.Many2one(
        "sale.flow.approval.rule",
        required=True,
        ondelete="restrict",
        readonly=True,
        help="The approval rule the quotation matched.",
    )
    level = fields.Integer(
        readonly=True, help="Approval level copied from the rule when it matched."
    )
    company_id = fields.Many2one(
        related="order_id.company_id", store=True, index=True, readonly=True
    )
    state = fields.Selection(
        [
            ("to_request", "To Request"),
            ("pending", "Waiting Approval"),
            ("approved", "Approved"),
            ("rejected", "Rejected"),
        ],
        default="to_request",
        required=True,
        readonly=True,
        help="To Request: approval not asked yet. Waiting Approval: asked, the "
        "approvers have an activity. Approved / Rejected: decided.",
    )
    approver_user_ids = fields.Many2many(
        "res.users",
        string="Possible Approvers",
        compute="_compute_approver_user_ids",
        help="Users who may decide this approval (named on the rule or members "
        "of its approver group).",
    )
    approved_user_id = fields.Many2one(
        "res.users", string="Approved By", readonly=True, copy=False
    )
    approved_date = fields.Datetime(readonly=True, copy=False)
    rejected_user_id = fields.Many2one(
        "res.users", string="Rejected By", readonly=True, copy=False
    )
    rejected_date = fields.Datetime(readonly=True, copy=False)
    reject_reason = fields.Text(string="Rejection Reason", readonly=True, copy=False)

    _sql_constraints = [
        (
            "order_rule_uniq",
            "UNIQUE(order_id, rule_id)",
            "A quotation needs each approval rule only once.",
        ),
    ]

    @api.depends("rule_id.approver_user_ids", "rule_id.approver_group_id.users")
    def _compute_approver_user_ids(self):
        for approval in self:
            approval.approver_user_ids = approval.rule_id._get_approver_users()
