"""Receivers that feed the audit trail: model saves/deletes and logins."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from . import audit
from .choices import AuditAction
from .middleware import context_for


@receiver(post_save)
def audit_save(sender, instance, created, raw=False, **kwargs):
    if raw or not isinstance(instance, audit.AuditedModel):
        return
    changes = instance.audit_changes(created)
    if changes or created:
        audit.record(AuditAction.CREATE if created else AuditAction.UPDATE, instance=instance, changes=changes)
    instance.audit_refresh_snapshot()


@receiver(post_delete)
def audit_delete(sender, instance, **kwargs):
    if not isinstance(instance, audit.AuditedModel):
        return
    audit.record(AuditAction.DELETE, instance=instance, changes={"deleted": instance.audit_values()})


def _user_region(user) -> str:
    return user.region.code if getattr(user, "region_id", None) else ""


@receiver(user_logged_in)
def audit_login(sender, request, user, **kwargs):
    ctx = context_for(request, user) if request is not None else None
    audit.record(AuditAction.LOGIN, instance=user, region_code=_user_region(user), context=ctx)


@receiver(user_logged_out)
def audit_logout(sender, request, user, **kwargs):
    if user is None:
        return
    ctx = context_for(request, user) if request is not None else None
    audit.record(AuditAction.LOGOUT, instance=user, region_code=_user_region(user), context=ctx)


@receiver(user_login_failed)
def audit_login_failed(sender, credentials, request=None, **kwargs):
    username = str(credentials.get("username", ""))[:150]
    ctx = context_for(request) if request is not None else None
    audit.record(
        AuditAction.LOGIN_FAILED,
        model_label="governance.user",
        object_repr=username,
        changes={"username": username},
        context=ctx,
    )
