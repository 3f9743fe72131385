"""Receivers that feed the audit trail: model saves/deletes and logins."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.backends.signals import connection_created
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from . import audit
from .choices import AuditAction
from .middleware import context_for


@receiver(post_save)
def audit_save(sender, instance, created, raw=False, **kwargs):
    if raw or not isinstance(instance, audit.AuditedModel):
        return
    if getattr(instance, "_audit_explicit", False):
        return  # a transition service writes this entry itself (audit.save_and_record)
    changes = instance.audit_changes(created)
    if changes or created:
        audit.record(AuditAction.CREATE if created else AuditAction.UPDATE, instance=instance, changes=changes)
    instance.audit_refresh_snapshot()


def audit_delete(sender, instance, **kwargs):
    audit.record(AuditAction.DELETE, instance=instance, changes={"deleted": instance.audit_values()})


def connect_delete_receivers() -> None:
    """Deletes are audited per audited model (connected by model, not globally, so that
    Django can still delete derived rows — e.g. recomputed assessment results — in one statement)."""
    from django.apps import apps

    for model in apps.get_models():
        if issubclass(model, audit.AuditedModel):
            post_delete.connect(audit_delete, sender=model, dispatch_uid=f"audit-delete-{model._meta.label_lower}")


@receiver(connection_created)
def widen_sqlite_parameters(sender, connection, **kwargs):
    """SQLite since 3.32 accepts 32,766 parameters per statement; Django 5.2 still assumes 999,
    which would split bulk writes into many small statements."""
    if connection.vendor == "sqlite":
        import sqlite3

        connection.features.max_query_params = connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)


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
