from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_noop

from .auth import locked_message
from .i18n import lazy_message


class LoginForm(AuthenticationForm):
    """The login form; says plainly when an account is locked rather than "wrong password"."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": lazy_message(
            gettext_noop("用户名或密码不正确。连续失败%(n)s次后账户将锁定%(minutes)s分钟。"),
            n=lambda: settings.LOGIN_MAX_FAILURES,
            minutes=lambda: int(settings.LOGIN_LOCKOUT.total_seconds() // 60),
        ),
    }

    def clean(self):
        try:
            return super().clean()
        except forms.ValidationError:
            message = locked_message(self.cleaned_data.get("username", ""))
            if message:
                raise forms.ValidationError(message, code="locked") from None
            raise


def apply_errors(form, exc: ValidationError, mapping: dict[str, str] | None = None) -> None:
    """Put a service's ValidationError onto the form (unknown fields become form errors)."""
    mapping = mapping or {}
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            target = mapping.get(field, field)
            form.add_error(target if target in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)
