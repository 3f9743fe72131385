"""Login security: lockout after repeated failures and the character-class password rule."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from . import audit
from .choices import AuditAction


class AccountLocked(PermissionDenied):
    """Raised (and turned into a failed login by Django) while an account is locked."""


class LockoutModelBackend(ModelBackend):
    """ModelBackend that locks an account for LOGIN_LOCKOUT after LOGIN_MAX_FAILURES consecutive failures.

    The failure counter is incremented in SQL (F expression), so concurrent wrong
    guesses are all counted.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        User = get_user_model()
        if username is None:
            username = kwargs.get(User.USERNAME_FIELD)
        if username is None or password is None:
            return None
        user = User._default_manager.filter(**{User.USERNAME_FIELD: username}).first()
        if user is not None and user.is_locked:
            User().set_password(password)  # same cost as a real check: no timing oracle
            raise AccountLocked
        result = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            return result
        if result is None:
            register_failure(user)
        elif user.failed_logins or user.locked_until:
            User._default_manager.filter(pk=user.pk).update(failed_logins=0, locked_until=None)
        return result

    def get_user(self, user_id):
        """A session ends while its account is locked (as a deactivated one's does already)."""
        user = super().get_user(user_id)
        return None if user is not None and user.is_locked else user


class LockAwareTokenAuthentication(TokenAuthentication):
    """DRF's token check (which already refuses inactive accounts), also refusing tokens while
    the account is locked. A password change deletes the account's tokens (User.save)."""

    def authenticate_credentials(self, key):
        # DRF's own check, with the account's region read in the same query: every API request
        # scopes by it (governance.scoping.scope_prefix), so it would otherwise cost a second query.
        model = self.get_model()
        try:
            token = model.objects.select_related("user__region").get(key=key)
        except model.DoesNotExist:
            raise AuthenticationFailed(_("Invalid token.")) from None
        user = token.user
        if not user.is_active:
            raise AuthenticationFailed(_("User inactive or deleted."))
        if user.is_locked:
            raise AuthenticationFailed(_("账号已被锁定，请稍后再试或联系管理员解锁。"))
        return user, token


def register_failure(user) -> None:
    User = type(user)
    User._default_manager.filter(pk=user.pk).update(failed_logins=F("failed_logins") + 1)
    failures = User._default_manager.filter(pk=user.pk).values_list("failed_logins", flat=True).get()
    if failures >= settings.LOGIN_MAX_FAILURES:
        until = timezone.now() + settings.LOGIN_LOCKOUT
        User._default_manager.filter(pk=user.pk).update(failed_logins=0, locked_until=until)
        audit.record(
            AuditAction.LOCKOUT,
            instance=user,
            region_code=user.region.code if user.region_id else "",
            changes={"locked_until": until.isoformat(), "failures": failures},
        )


def locked_message(username: str) -> str | None:
    """A user-facing message if this account is locked now, else None."""
    User = get_user_model()
    until = (
        User._default_manager.filter(**{User.USERNAME_FIELD: username}, locked_until__gt=timezone.now())
        .values_list("locked_until", flat=True)
        .first()
    )
    if until is None:
        return None
    local = timezone.localtime(until)
    return _("连续登录失败次数过多，账户已锁定，请于 %(time)s 后再试。") % {"time": local.strftime("%H:%M")}


def character_classes(password: str) -> int:
    """How many of upper-case ASCII, lower-case ASCII, digits and other characters occur
    (anything else, Chinese characters included, counts as a symbol)."""
    tests = (
        lambda ch: "A" <= ch <= "Z",
        lambda ch: "a" <= ch <= "z",
        lambda ch: "0" <= ch <= "9",
        lambda ch: not (ch.isascii() and ch.isalnum()),
    )
    return sum(any(test(ch) for ch in password) for test in tests)


class CharacterClassValidator:
    """At least `min_classes` of: upper-case letters, lower-case letters, digits, symbols."""

    def __init__(self, min_classes: int = 3):
        self.min_classes = min_classes

    def validate(self, password: str, user=None) -> None:
        if character_classes(password) < self.min_classes:
            raise ValidationError(self.get_help_text(), code="password_too_simple")

    def get_help_text(self) -> str:
        return ngettext(
            "密码须包含大写字母、小写字母、数字、符号中的至少%(n)d类。",
            "密码须包含大写字母、小写字母、数字、符号中的至少%(n)d类。",
            self.min_classes,
        ) % {"n": self.min_classes}
