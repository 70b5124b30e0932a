from odoo import api, fields, models
from odoo.exceptions import ValidationError

APPROVER_GROUP_XMLID = "sales_order_flow.group_sale_flow_approver"


class SaleFlowApprovalRule(models.Model):
    _name = "sale.flow.approval.rule"
    _description = "Sales Flow Approval Rule"
    _order = "level, sequence, id"

    name = fields.Char(required=True, translate=True)
    active = fields.Boolean(default=True)
    sequence = fields.Integer(
        default=10, help="Order of the rules within the same approval level."
    )
    level = fields.Integer(
        string="Approval Level",
        default=1,
        required=True,
        help="Levels are approved in increasing order: approvers of level 2 are "
        "asked only once every rule of level 1 is approved.",
    )
    company_id = fields.Many2one(
        "res.company",
        required=True,
        index=True,
        default=lambda self: self.env.company,
        help="The rule applies to quotations of this company only.",
    )
    currency_id = fields.Many2one(related="company_id.currency_id")

    # Conditions: a rule matches when every condition it sets holds.
    check_discount = fields.Boolean(
        default=False,
        string="Discount Condition",
        help="Match when a line's discount is above the maximum discount.",
    )
    min_discount = fields.Float(
        string="Maximum Discount (%)",
        digits="Discount",
        help="Quotations with a line discounted by more than this percentage "
        "(0-100) need approval.",
    )
    check_margin = fields.Boolean(
        default=False,
        string="Margin Condition",
        help="Match when the margin is below the minimum margin.",
    )
    min_margin = fields.Float(
        string="Minimum Margin (%)",
        help="Quotations whose margin is below this percentage (-100 to 100) "
        "need approval.",
    )
    margin_scope = fields.Selection(
        [("order", "Whole Order"), ("line", "Any Line")],
        default="order",
        required=True,
        help="Whole Order: compare the order's margin. Any Line: match as soon "
        "as one line's margin is below the minimum.",
    )
    check_amount = fields.Boolean(
        default=False,
        string="Amount Condition",
        help="Match when the untaxed amount is above the maximum amount.",
    )
    min_amount = fields.Monetary(
        string="Maximum Untaxed Amount",
        currency_field="currency_id",
        help="Quotations whose untaxed amount, converted to the company's "
        "currency, is above this amount need approval.",
    )
    partner_ids = fields.Many2many(
        "res.partner",
        "sale_flow_approval_rule_partner_rel",
        "rule_id",
        "partner_id",
        string="Customers",
        help="Match quotations of these customers (their company and every "
        "contact of it). Together with Customer Tags, a quotation matches when "
        "its customer is listed OR carries one of the tags.",
    )
    partner_category_ids = fields.Many2many(
        "res.partner.category",
        "sale_flow_approval_rule_partner_category_rel",
        "rule_id",
        "category_id",
        string="Customer Tags",
        help="Match quotations whose customer (or its company) has one of these tags.",
    )
    team_ids = fields.Many2many(
        "crm.team",
        "sale_flow_approval_rule_team_rel",
        "rule_id",
        "team_id",
        string="Sales Teams",
        help="Match quotations of these sales teams.",
    )
    check_payment_term = fields.Boolean(
        default=False,
        string="Non-default Payment Terms",
        help="Match when the quotation's payment terms differ from the "
        "customer's default payment terms.",
    )

    # Approvers
    approver_user_ids = fields.Many2many(
        "res.users",
        "sale_flow_approval_rule_user_rel",
        "rule_id",
        "user_id",
        string="Approvers",
        domain=lambda self: [
            ("share", "=", False),
            ("groups_id", "in", self.env.ref(APPROVER_GROUP_XMLID).ids),
        ],
        help="Users who may approve quotations matching this rule; they must "
        "belong to the Sales Flow / Approver group.",
    )
    approver_group_id = fields.Many2one(
        "res.groups",
        help="Every member of this group may approve quotations matching this "
        "rule; the group must grant Sales Flow / Approver.",
    )
    note = fields.Text(
        help="Shown to the approvers: why this rule exists, what to check.",
        translate=True,
    )

    _sql_constraints = [
        (
            "min_discount_range",
            "CHECK(min_discount >= 0 AND min_discount <= 100)",
            "The maximum discount of an approval rule must be between 0 and 100 %.",
        ),
        (
            "min_margin_range",
            "CHECK(min_margin >= -100 AND min_margin <= 100)",
            "The minimum margin of an approval rule must be between -100 and 100 %.",
        ),
        (
            "min_amount_positive",
            "CHECK(min_amount >= 0)",
            "The maximum amount of an approval rule cannot be negative.",
        ),
    ]

    # ------------------------------------------------------------------
    # Constraints
    # ------------------------------------------------------------------
    @api.constrains(
        "check_discount",
        "check_margin",
        "check_amount",
        "partner_ids",
        "partner_category_ids",
        "team_ids",
        "check_payment_term",
    )
    def _check_has_condition(self):
        for rule in self:
            if not rule._has_condition():
                raise ValidationError(
                    self.env._(
                        "Approval rule %(rule)s has no condition: set at least one "
                        "(discount, margin, amount, customers or tags, sales teams "
                        "or payment terms).",
                        rule=rule.name,
                    )
                )

    # company_id (always set, it has a default) makes the check run on every
    # create, also when a caller (RPC, import) gives no approver field at all.
    @api.constrains("approver_user_ids", "approver_group_id", "company_id")
    def _check_has_approver(self):
        """A rule needs approvers, and each of them must be able to decide.

        Approving needs the Sales Flow / Approver group: it grants reading the
        quotation to approve (record rules) and the rejection wizard. Naming a
        user outside it would leave an approval nobody named can give, so the
        rule is refused with the names to fix rather than granting access from
        a rule's configuration.
        """
        approver_group = self.env.ref(APPROVER_GROUP_XMLID)
        # sudo: group membership is checked whoever configures the rule.
        members = approver_group.sudo().users
        for rule in self:
            if not rule.approver_user_ids and not rule.approver_group_id:
                raise ValidationError(
                    self.env._(
                        "Approval rule %(rule)s has no approver: name approvers or "
                        "an approver group.",
                        rule=rule.name,
                    )
                )
            outsiders = rule.approver_user_ids - members
            if outsiders:
                raise ValidationError(
                    self.env._(
                        "Approval rule %(rule)s names %(users)s as approver, but "
                        "approving needs the Sales Flow / Approver group: add them "
                        "to it (Settings / Users) or name other approvers.",
                        rule=rule.name,
                        users=", ".join(outsiders.mapped("name")),
                    )
                )
            # sudo: whoever saves the rule may not read the groups' implications
            group = rule.approver_group_id.sudo()
            if group and approver_group not in group | group.trans_implied_ids:
                raise ValidationError(
                    self.env._(
                        "Approval rule %(rule)s: the members of %(group)s cannot "
                        "approve, the group does not grant Sales Flow / Approver. "
                        "Choose a group that does (e.g. Sales Flow / Approver).",
                        rule=rule.name,
                        group=group.full_name,
                    )
                )

    # ------------------------------------------------------------------
    # Business methods
    # ------------------------------------------------------------------
    def _has_condition(self):
        self.ensure_one()
        return bool(
            self.check_discount
            or self.check_margin
            or self.check_amount
            or self.partner_ids
            or self.partner_category_ids
            or self.team_ids
            or self.check_payment_term
        )

    def _get_approver_users(self):
        """Users allowed to approve for these rules (named users and members of
        the approver groups)."""
        users = self.approver_user_ids | self.approver_group_id.users
        # Users who left the approver group since the rule was saved can no
        # longer read the quotation: they are not asked.
        # sudo: membership is read whoever looks at the approval.
        members = self.env.ref(APPROVER_GROUP_XMLID).sudo().users
        return users.filtered(lambda u: u.active and not u.share and u in members)

    @api.model
    def _get_candidate_rules(self, companies):
        """Active rules of ``companies``, in one query."""
        return self.search([("company_id", "in", companies.ids)])

    @api.model
    def _get_matching_rules(self, order, figures, rules=None):
        """Return the rules matching ``order`` given its approval ``figures``.

        :param order: a sale.order record
        :param figures: dict returned by ``sale.order._flow_get_approval_figures``
        :param rules: candidate rules already fetched (batch evaluation); when
            not given, the rules of the order's company are searched once.
        :return: sale.flow.approval.rule recordset
        """
        if rules is None:
            rules = self._get_candidate_rules(order.company_id)
        company_id = figures["company_id"]
        return rules.filtered(
            lambda rule: (
                rule.company_id.id == company_id and rule._matches_figures(figures)
            )
        )

    def _matches_figures(self, figures):
        """Whether every condition set on this rule holds for ``figures``."""
        self.ensure_one()
        if not self._has_condition():
            return False
        if self.check_discount and not figures["max_discount"] > self.min_discount:
            return False
        if self.check_margin:
            if self.margin_scope == "line":
                margin = figures["min_line_margin_percent"]
            else:
                margin = figures["order_margin_percent"]
            if margin is None or not margin < self.min_margin:
                return False
        if self.check_amount and not (
            self.currency_id.compare_amounts(figures["amount_untaxed"], self.min_amount)
            > 0
        ):
            return False
        if self.partner_ids or self.partner_category_ids:
            customer_ok = (
                figures["partner_id"] in self.partner_ids.commercial_partner_id.ids
            ) or bool(
                set(figures["partner_category_ids"])
                & set(self.partner_category_ids.ids)
            )
            if not customer_ok:
                return False
        if self.team_ids and figures["team_id"] not in self.team_ids.ids:
            return False
        if self.check_payment_term and not figures["payment_term_differs"]:
            return False
        return True
