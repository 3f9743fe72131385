"""Users, departments and the audit trail."""

from __future__ import annotations

import hashlib

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grids.lookups import RegionCodeField

from .audit import AuditedModel, canonical_json
from .choices import AuditAction, DepartmentKind, Role
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

    @property
    def is_locked(self) -> bool:
        return self.locked_until is not None and self.locked_until > timezone.now()

    def can(self, capability: str) -> bool:
        """Role-based capability check; jurisdiction is checked separately by scoping."""
        from .roles import has_capability

        return has_capability(self, capability)


class AuditLogQuerySet(ScopedQuerySet):
    def update(self, **kwargs):
        raise TypeError("The audit trail is append-only.")

    def delete(self):
        raise TypeError("The audit trail is append-only.")


class AuditLog(ScopedModel):
    """审计日志: one append-only, hash-chained entry of the audit trail."""

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
    prev_hash = models.CharField(max_length=64, editable=False)
    hash = models.CharField(max_length=64, editable=False)

    objects = AuditLogQuerySet.as_manager()
    scope_path = "region_code"

    class Meta:
        verbose_name = _("审计日志")
        verbose_name_plural = _("审计日志")
        ordering = ["-seq"]
        indexes = [models.Index(fields=["model", "object_id"], name="audit_object_idx")]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.model}:{self.object_id}"

    def compute_hash(self) -> str:
        content = canonical_json(
            {
                "at": self.at.isoformat(),
                "actor_id": self.actor_id,
                "actor_name": self.actor_name,
                "ip": self.ip,
                "action": self.action,
                "model": self.model,
                "object_id": self.object_id,
                "object_repr": self.object_repr,
                "region_code": self.region_code,
                "changes": self.changes,
            }
        )
        return hashlib.sha256((self.prev_hash + content).encode("utf-8")).hexdigest()

    def save_new(self, using: str | None = None) -> None:
        super().save(force_insert=True, using=using)

    def save(self, *args, **kwargs):
        raise TypeError("The audit trail is append-only: use governance.audit.record().")

    def delete(self, *args, **kwargs):
        raise TypeError("The audit trail is append-only.")
