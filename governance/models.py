"""Users, departments and the audit trail."""

from __future__ import annotations

import re

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .audit import AuditedModel, canonical_json, to_jsonable
from .audit_guard import CONTENT_COLUMNS
from .choices import AuditAction, DepartmentKind, ImportStatus, Role
from .codes import RegionCodeField
from .scoping import ScopedModel, ScopedQuerySet


class Department(ScopedModel, AuditedModel):
    """职能部门: a department of a region's government (e.g. 城关区公安分局) that events are dispatched to."""

    region = models.ForeignKey(
        "grids.Region", on_delete=models.PROTECT, related_name="departments", verbose_name=_("区划")
    )
    kind = models.CharField(_("部门类别"), max_length=16, choices=DepartmentKind.choices)
    name = models.CharField(_("名称"), max_length=100)
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("职能部门")
        verbose_name_plural = _("职能部门")
        ordering = ["region__code", "kind", "name"]
        constraints = [models.UniqueConstraint(fields=["region", "name"], name="department_unique_name_per_region")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """Departments sit at township level or above (派出所, 司法所 … of a 乡镇/街道); a village has none."""
        from .codes import Level

        super().clean()
        if self.region_id and self.region.level > Level.TOWNSHIP:
            raise ValidationError({"region": _("职能部门只能设在乡镇（街道）及以上区划。")})


class ScopedUserManager(UserManager.from_queryset(ScopedQuerySet)):
    pass


class User(ScopedModel, AuditedModel, AbstractUser):
    """平台用户: a person or a system bound to a region (and, for some roles, a department)."""

    display_name = models.CharField(_("姓名"), max_length=50, blank=True)
    role = models.CharField(_("角色"), max_length=24, choices=Role.choices)
    region = models.ForeignKey(
        "grids.Region",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
        verbose_name=_("所属区划"),
        help_text=_("用户只能查看和办理本区划及下级区划的事项。"),
    )
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, null=True, blank=True, related_name="users", verbose_name=_("所属部门")
    )
    mediation_org = models.ForeignKey(
        "disputes.MediationOrganisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="mediators",
        verbose_name=_("所属调解组织"),
    )
    failed_logins = models.PositiveSmallIntegerField(_("连续登录失败次数"), default=0, editable=False)
    locked_until = models.DateTimeField(_("锁定至"), null=True, blank=True, editable=False)

    objects = ScopedUserManager()

    audit_exclude = ("last_login", "failed_logins", "locked_until")
    audit_redact = ("password",)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        ordering = ["username"]

    def __str__(self) -> str:
        return self.display_name or self.username

    def clean(self) -> None:
        super().clean()
        if not self.is_superuser and self.region_id is None:
            raise ValidationError({"region": _("除平台超级管理员外，每个用户都必须绑定区划。")})
        if self.role == Role.DEPARTMENT_HANDLER and self.department_id is None:
            raise ValidationError({"department": _("部门经办人必须绑定所属部门。")})
        if self.role == Role.MEDIATOR and self.mediation_org_id is None:
            raise ValidationError({"mediation_org": _("调解员必须绑定所属调解组织。")})
        if self.department_id and self.region_id and not self.department.region.code.startswith(self.region.code):
            raise ValidationError({"department": _("所属部门必须位于用户的区划范围内。")})

    def save(self, *args, **kwargs):
        password_changed = self._password is not None and not self._state.adding
        super().save(*args, **kwargs)
        if password_changed:  # the old password's API tokens stop with it (sessions: Django's auth hash)
            from rest_framework.authtoken.models import Token

            Token.objects.filter(user=self).delete()

    @property
    def is_locked(self) -> bool:
        return self.locked_until is not None and self.locked_until > timezone.now()

    def can(self, capability: str) -> bool:
        """Role-based capability check; jurisdiction is checked separately by scoping."""
        from .roles import has_capability

        return has_capability(self, capability)


DEFAULT_REPR = re.compile(r"\w+ object \((\w+)\)")


class AuditLogQuerySet(ScopedQuerySet):
    def update(self, **kwargs):
        raise TypeError("The audit trail is append-only.")

    def delete(self):
        raise TypeError("The audit trail is append-only.")


class AuditLog(ScopedModel):
    """审计日志: one append-only entry of the audit trail, sealed into the keyed hash chain at
    `chain_seq` a moment after it commits (governance/audit.py)."""

    seq = models.BigAutoField(primary_key=True)
    at = models.DateTimeField(_("时间"), db_index=True)
    actor_id = models.BigIntegerField(_("操作人ID"), null=True, blank=True, db_index=True)
    actor_name = models.CharField(_("操作人"), max_length=150)
    ip = models.GenericIPAddressField(_("来源地址"), null=True, blank=True)
    action = models.CharField(_("操作"), max_length=16, choices=AuditAction.choices)
    model = models.CharField(_("对象类型"), max_length=100, blank=True)
    object_id = models.CharField(_("对象ID"), max_length=64, blank=True)
    object_repr = models.CharField(_("对象"), max_length=200, blank=True)
    region_code = RegionCodeField(_("区划代码"), max_length=15, blank=True, db_index=True)
    changes = models.JSONField(_("变更内容"), default=dict, blank=True)
    chain_seq = models.BigIntegerField(_("链序号"), null=True, blank=True, unique=True, editable=False)
    prev_hash = models.CharField(max_length=64, blank=True, default="", editable=False)
    hash = models.CharField(max_length=64, blank=True, default="", editable=False)
    key_id = models.CharField(max_length=32, blank=True, default="", editable=False)

    objects = AuditLogQuerySet.as_manager()
    scope_path = "region_code"

    class Meta:
        verbose_name = _("审计日志")
        verbose_name_plural = _("审计日志")
        ordering = ["-seq"]
        indexes = [
            models.Index(fields=["model", "object_id"], name="audit_object_idx"),
            # The sealer's queue: the few unsealed entries, without walking millions of sealed ones.
            models.Index(fields=["seq"], condition=models.Q(chain_seq__isnull=True), name="audit_unsealed_idx"),
        ]

    @property
    def model_display(self) -> str:
        """The Chinese name of the record type ("用户" for governance.user); other labels as stored."""
        from django.apps import apps

        try:
            return str(apps.get_model(self.model)._meta.verbose_name) if self.model else ""
        except (LookupError, ValueError):
            return self.model

    @property
    def object_display(self) -> str:
        """The object's own label; Django's "Model object (17)" of entries written before a model had
        one is shown as "#17"."""
        match = DEFAULT_REPR.fullmatch(self.object_repr)
        return f"#{match.group(1)}" if match else self.object_repr

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.model}:{self.object_id}"

    def content_json(self) -> str:
        """The entry's content as canonical JSON: what its seal covers."""
        return canonical_json({name: to_jsonable(getattr(self, name)) for name in CONTENT_COLUMNS})

    def save_new(self, using: str | None = None) -> None:
        super().save(force_insert=True, using=using)

    def save(self, *args, **kwargs):
        raise TypeError("The audit trail is append-only: use governance.audit.record().")

    def delete(self, *args, **kwargs):
        raise TypeError("The audit trail is append-only.")


class ExternalRef(ScopedModel):
    """导入记录对照: a record imported from an older system, keyed by that system's own id.

    It makes imports idempotent (the same id with the same content is skipped) and lets a
    file that reuses an id for different content be rejected; `digest` is the SHA-256 of
    the record's canonical JSON. Written by governance.interchange only.
    """

    source = models.CharField(_("来源系统"), max_length=60)
    kind = models.CharField(_("记录类型"), max_length=24)
    external_id = models.CharField(_("原系统编号"), max_length=100)
    object_id = models.BigIntegerField(_("平台记录ID"))
    digest = models.CharField(max_length=64)
    region_code = RegionCodeField(_("区划代码"), max_length=15, blank=True, db_index=True)
    imported_at = models.DateTimeField(_("导入时间"), default=timezone.now)

    scope_path = "region_code"

    class Meta:
        verbose_name = _("导入记录对照")
        verbose_name_plural = _("导入记录对照")
        constraints = [
            models.UniqueConstraint(fields=["source", "kind", "external_id"], name="external_ref_once"),
        ]
        indexes = [models.Index(fields=["kind", "object_id"], name="external_ref_object_idx")]

    def __str__(self) -> str:
        return f"{self.source}:{self.kind}:{self.external_id}"


class ImportJob(ScopedModel, AuditedModel):
    """导入任务: one interchange file uploaded on the /records/ page and imported by the worker
    (governance.tasks.run_import), so a file of any size leaves the request at once.

    Scoped by the uploader's region. The upload itself is audited (a create entry); the worker's
    status updates are bookkeeping written with update(), and the records the import writes carry
    their own bulk audit entries (with the uploader and address as actor). The stored file is
    deleted when the job ends: it may hold personal data in clear, which the platform otherwise
    keeps only encrypted. `language` is the uploader's, so the rejection reasons read as the page.
    """

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="import_jobs", verbose_name=_("上传人"))
    region_code = RegionCodeField(_("区划代码"), max_length=15, blank=True, db_index=True)
    ip = models.GenericIPAddressField(_("来源地址"), null=True, blank=True)
    language = models.CharField(_("语言"), max_length=10, blank=True)
    file = models.FileField(_("数据文件"), upload_to="imports/%Y/%m/", max_length=255, blank=True)
    name = models.CharField(_("文件名"), max_length=255)
    size = models.BigIntegerField(_("文件大小（字节）"))
    dry_run = models.BooleanField(_("仅校验，不保存"), default=False)
    status = models.CharField(_("状态"), max_length=12, choices=ImportStatus.choices, default=ImportStatus.QUEUED)
    phase = models.CharField(_("当前步骤"), max_length=12, blank=True)
    lines = models.BigIntegerField(_("已处理行数"), default=0)
    bytes_read = models.BigIntegerField(_("已读取字节数"), default=0)
    report = models.JSONField(_("导入报告"), default=dict, blank=True)
    rejected_rows = models.BigIntegerField(_("拒绝行数"), default=0)
    error = models.TextField(_("错误"), blank=True)
    created_at = models.DateTimeField(_("上传时间"), default=timezone.now)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)

    scope_path = "region_code"
    audit_exclude = ("report", "lines", "bytes_read")

    class Meta:
        verbose_name = _("导入任务")
        verbose_name_plural = _("导入任务")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_status_display()})"

    @property
    def is_active(self) -> bool:
        return self.status in (ImportStatus.QUEUED, ImportStatus.VALIDATING, ImportStatus.WRITING)
