"""Mediation (矛盾纠纷调解): organisations, cases, parties and the records of a case's life."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from governance.audit import AuditedModel
from governance.choices import Role
from governance.codes import RegionCodeField, province_code_field
from governance.scoping import ScopedModel

from .choices import (
    CaseOutcome,
    CaseStatus,
    ConfirmationDecision,
    DisputeType,
    Fulfilment,
    OrgKind,
    PartyKind,
    PartySide,
    Referral,
    RiskLevel,
    Satisfaction,
)


class MediationOrganisation(ScopedModel, AuditedModel):
    """调解组织: a people's mediation committee, an administrative, court or petition mediation body,
    or the county's one-stop centre (which may host several of the others)."""

    region = models.ForeignKey(
        "grids.Region", on_delete=models.PROTECT, related_name="mediation_orgs", verbose_name=_("区划")
    )
    kind = models.CharField(_("类型"), max_length=24, choices=OrgKind.choices)
    name = models.CharField(_("名称"), max_length=100)
    trade = models.CharField(
        _("专业领域"), max_length=50, blank=True, help_text=_("专业性、行业性调委会的领域，如交通、医疗、劳动。")
    )
    department = models.ForeignKey(
        "governance.Department", on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("所属部门")
    )
    host = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="hosted", verbose_name=_("入驻的化解中心")
    )
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("调解组织")
        verbose_name_plural = _("调解组织")
        ordering = ["region__code", "name"]
        constraints = [models.UniqueConstraint(fields=["region", "name"], name="mediation_org_unique_name")]

    def __str__(self) -> str:
        return self.name


class Case(ScopedModel, AuditedModel):
    """矛盾纠纷案件: one dispute from registration to closure.

    The case belongs to the region of the organisation handling it (`region_code`, updated
    on transfer); `origin_region` is where the dispute arose.
    """

    number = models.CharField(_("案号"), max_length=32, unique=True, editable=False)
    organisation = models.ForeignKey(
        MediationOrganisation, on_delete=models.PROTECT, related_name="cases", verbose_name=_("调解组织")
    )
    region_code = RegionCodeField(_("区划代码"), max_length=15, db_index=True, editable=False)
    province_code = province_code_field()
    origin_region = models.ForeignKey(
        "grids.Region", on_delete=models.PROTECT, related_name="dispute_cases", verbose_name=_("纠纷发生地")
    )
    origin_event = models.OneToOneField(
        "grids.GridEvent",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="mediation_case",
        verbose_name=_("来源事件"),
    )
    dispute_type = models.CharField(_("纠纷类型"), max_length=24, choices=DisputeType.choices)
    risk_level = models.PositiveSmallIntegerField(_("风险等级"), choices=RiskLevel.choices, default=RiskLevel.GENERAL)
    people_involved = models.PositiveIntegerField(_("涉及人数"), default=2)
    largest_side = models.PositiveIntegerField(_("单方最多人数"), default=1)
    is_mass = models.BooleanField(_("群体性"), default=False, editable=False)
    title = models.CharField(_("案由"), max_length=100)
    facts = models.TextField(_("纠纷简要情况"), max_length=4000)
    status = models.CharField(
        _("状态"), max_length=12, choices=CaseStatus.choices, default=CaseStatus.REGISTERED, db_index=True
    )
    mediator = models.ForeignKey(
        "governance.User",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="mediated_cases",
        verbose_name=_("调解员"),
    )
    registered_by = models.ForeignKey(
        "governance.User",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="registered_cases",
        verbose_name=_("登记人"),
    )
    registered_at = models.DateTimeField(_("登记时间"), db_index=True)
    client_uuid = models.UUIDField(
        _("客户端编号"),
        null=True,
        blank=True,
        unique=True,
        editable=False,
        help_text=_("登记方生成的编号：同一编号重发时返回已登记的案件，不会重复登记。"),
    )
    accepted_at = models.DateTimeField(_("受理时间"), null=True, blank=True)
    concluded_at = models.DateTimeField(_("调解终结时间"), null=True, blank=True, db_index=True)
    outcome = models.CharField(_("调解结果"), max_length=8, choices=CaseOutcome.choices, blank=True, editable=False)
    # The first conclusion and the organisation's region when it was reached (what follow-ups and
    # confirmations count for); the state at a period end is read from CaseTransfer.
    first_concluded_at = models.DateTimeField(_("首次调解终结时间"), null=True, blank=True, editable=False)
    first_outcome = models.CharField(
        _("首次调解结果"), max_length=8, choices=CaseOutcome.choices, blank=True, editable=False
    )
    assessment_code = RegionCodeField(_("考核归属区划"), max_length=15, db_index=True, editable=False, default="")
    transferred_at = models.DateTimeField(_("最近移交时间"), null=True, blank=True, editable=False)
    closed_at = models.DateTimeField(_("结案时间"), null=True, blank=True)
    conclusion_deadline = models.DateTimeField(_("办理期限"), null=True, blank=True, db_index=True)
    conclusion_warn_at = models.DateTimeField(_("预警时间"), null=True, blank=True)
    decline_reason = models.CharField(_("不予受理理由"), max_length=300, blank=True)
    failure_reason = models.CharField(_("调解不成原因"), max_length=300, blank=True)
    referral = models.CharField(_("引导途径"), max_length=24, choices=Referral.choices, blank=True)
    is_repeat = models.BooleanField(_("重复纠纷"), default=False, db_index=True, editable=False)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    scope_path = "region_code"
    audit_exclude = ("updated_at",)

    class Meta:
        verbose_name = _("矛盾纠纷案件")
        verbose_name_plural = _("矛盾纠纷案件")
        ordering = ["-registered_at", "-pk"]
        indexes = [
            # A subtree's cases newest first, as the event list (grids.GridEvent's event_region_list_idx): the range
            # of the subtree's codes (`__under`, LIKE 'X%'), and the id so a page's ids come from the index alone.
            models.Index(
                fields=["region_code", "registered_at"],
                name="case_region_list_idx",
                opclasses=["varchar_pattern_ops", "timestamptz_ops"],
                include=["id"],
            )
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    def save(self, *args, **kwargs):
        if not self.assessment_code:  # rows written outside the services
            self.assessment_code = self.region_code
        if self.concluded_at and self.first_concluded_at is None:
            self.first_concluded_at, self.first_outcome = self.concluded_at, self.outcome
        super().save(*args, **kwargs)

    @classmethod
    def jurisdiction_q(cls, user) -> Q:
        """Region scoping; a mediator sees only the cases of their own organisation."""
        q = super().jurisdiction_q(user)
        if getattr(user, "is_authenticated", False) and not user.is_superuser and user.role == Role.MEDIATOR:
            q &= Q(organisation_id=user.mediation_org_id)
        return q


class CaseNumberSequence(models.Model):
    """案号计数: the last sequence number given under one case-number prefix (county + year).

    Registration locks its prefix's row, so concurrent registrations in one county and year
    get consecutive numbers instead of racing for the same one."""

    prefix = models.CharField(max_length=16, primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("案号计数")
        verbose_name_plural = _("案号计数")

    def __str__(self) -> str:
        return f"{self.prefix}: {self.last}"


class _CaseChild(ScopedModel):
    scope_path = "case__region_code"

    class Meta:
        abstract = True


class Party(_CaseChild, AuditedModel):
    """当事人: a natural person (ID number and phone encrypted, searchable by keyed hash) or an organisation."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="parties", verbose_name=_("案件"))
    side = models.CharField(_("身份"), max_length=12, choices=PartySide.choices)
    kind = models.CharField(_("类别"), max_length=12, choices=PartyKind.choices, default=PartyKind.PERSON)
    name = models.CharField(_("姓名或名称"), max_length=100)
    id_number = models.TextField(_("公民身份号码（加密）"), blank=True, editable=False)
    id_number_index = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    id_number_masked = models.CharField(_("公民身份号码"), max_length=18, blank=True, editable=False)
    phone = models.TextField(_("手机号码（加密）"), blank=True, editable=False)
    phone_index = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    phone_masked = models.CharField(_("手机号码"), max_length=11, blank=True, editable=False)
    # A credit code is public register data (国家企业信用信息公示系统): stored plain, indexed for repeats.
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, blank=True, db_index=True)
    legal_representative = models.CharField(_("法定代表人或负责人"), max_length=50, blank=True)
    address = models.CharField(_("住址"), max_length=200, blank=True)

    audit_exclude = ("id_number", "phone", "id_number_index", "phone_index")

    class Meta:
        verbose_name = _("当事人")
        verbose_name_plural = _("当事人")
        ordering = ["case", "side", "pk"]

    def __str__(self) -> str:
        return self.name


class MediationSession(_CaseChild, AuditedModel):
    """调解记录: one session — when, where, who attended, what happened."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="sessions", verbose_name=_("案件"))
    held_on = models.DateField(_("调解日期"))
    place = models.CharField(_("地点"), max_length=100)
    attendees = models.CharField(_("参加人员"), max_length=300)
    notes = models.TextField(_("调解情况"), max_length=4000)
    file = models.FileField(_("附件"), upload_to="cases/sessions/%Y/", blank=True)
    recorded_by = models.ForeignKey("governance.User", on_delete=models.PROTECT, null=True, blank=True)
    created_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("调解记录")
        verbose_name_plural = _("调解记录")
        ordering = ["held_on", "pk"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.held_on}"


class Agreement(_CaseChild, AuditedModel):
    """调解协议: the terms the parties signed."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="agreement", verbose_name=_("案件"))
    terms = models.TextField(_("协议内容"), max_length=8000)
    amount = models.DecimalField(_("涉及金额（元）"), max_digits=14, decimal_places=2, null=True, blank=True)
    signed_on = models.DateField(_("签订日期"))
    performance_deadline = models.DateField(_("履行期限"), null=True, blank=True)

    class Meta:
        verbose_name = _("调解协议")
        verbose_name_plural = _("调解协议")

    def __str__(self) -> str:
        return f"{self.case_id}"


class FollowUp(_CaseChild, AuditedModel):
    """履行回访: whether the agreement is being kept, and how satisfied the parties are."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="follow_ups", verbose_name=_("案件"))
    visited_on = models.DateField(_("回访日期"))
    fulfilment = models.CharField(_("履行情况"), max_length=10, choices=Fulfilment.choices)
    satisfaction = models.CharField(_("当事人满意度"), max_length=12, choices=Satisfaction.choices)
    notes = models.CharField(_("回访情况"), max_length=500, blank=True)
    recorded_by = models.ForeignKey("governance.User", on_delete=models.PROTECT, null=True, blank=True)

    class Meta:
        verbose_name = _("履行回访")
        verbose_name_plural = _("履行回访")
        ordering = ["visited_on", "pk"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.visited_on}"


class JudicialConfirmation(_CaseChild, AuditedModel):
    """司法确认: the application to a court and its decision (due within 7 working days)."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="confirmation", verbose_name=_("案件"))
    court = models.CharField(_("受理法院"), max_length=100)
    applied_on = models.DateField(_("申请日期"))
    deadline = models.DateField(_("应作出决定日期"))
    decided_on = models.DateField(_("决定日期"), null=True, blank=True)
    decision = models.CharField(_("决定"), max_length=10, choices=ConfirmationDecision.choices, blank=True)

    class Meta:
        verbose_name = _("司法确认")
        verbose_name_plural = _("司法确认")

    def __str__(self) -> str:
        return f"{self.case_id} {self.court}"


class CaseTransfer(_CaseChild):
    """移交记录: what a case was at the organisation a transfer took it from — the region that
    organisation answers for, when it took the case (NULL: at registration) and the conclusion
    it had reached (调解不成), which the transfer withdrew. The organisation holding the case
    now is on the case itself.

    Written by the same lifecycle step (disputes.lifecycle.transfer) for the live services and
    the historical import, append-only. The assessment reads a case's holder and state at any
    period end from these rows and the case (SPEC §5.2, reopenings)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="transfers", verbose_name=_("案件"))
    region_code = RegionCodeField(_("移出组织区划代码"), max_length=15)
    held_from = models.DateTimeField(_("接收时间"), null=True, blank=True)
    concluded_at = models.DateTimeField(_("调解终结时间"), null=True, blank=True)
    outcome = models.CharField(_("调解结果"), max_length=8, choices=CaseOutcome.choices, blank=True)
    transferred_at = models.DateTimeField(_("移交时间"))

    class Meta:
        verbose_name = _("移交记录")
        verbose_name_plural = _("移交记录")
        ordering = ["case", "transferred_at", "pk"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.region_code} → {self.transferred_at:%Y-%m-%d}"


class CaseHistory(_CaseChild):
    """案件流转记录 (append-only)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="history", verbose_name=_("案件"))
    at = models.DateTimeField(_("时间"))
    actor = models.ForeignKey("governance.User", on_delete=models.PROTECT, null=True, blank=True)
    actor_name = models.CharField(_("操作人"), max_length=100)
    action = models.CharField(_("操作"), max_length=24)
    from_status = models.CharField(_("原状态"), max_length=12, choices=CaseStatus.choices, blank=True)
    to_status = models.CharField(_("新状态"), max_length=12, choices=CaseStatus.choices)
    note = models.TextField(_("说明"), blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("案件流转记录")
        verbose_name_plural = _("案件流转记录")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.action}"


class CaseSupervision(_CaseChild, AuditedModel):
    """督办: an overdue case (30 days) or an undecided judicial confirmation taken up by the level above."""

    KIND_CHOICES = [("conclusion", _("调解期限")), ("confirmation", _("司法确认期限"))]

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="supervisions", verbose_name=_("案件"))
    kind = models.CharField(_("超期事项"), max_length=12, choices=KIND_CHOICES)
    supervising_region = models.ForeignKey("grids.Region", on_delete=models.PROTECT, verbose_name=_("督办单位"))
    deadline = models.DateTimeField(_("期限"))
    created_at = models.DateTimeField(_("督办时间"))

    class Meta:
        verbose_name = _("案件督办")
        verbose_name_plural = _("案件督办")
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["case", "kind"], name="case_supervision_once_per_kind")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind}"
