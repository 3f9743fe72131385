from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from .auth import locked_message


class LoginForm(AuthenticationForm):
    """The login form; says plainly when an account is locked rather than "wrong password"."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("用户名或密码不正确。连续失败5次后账户将锁定30分钟。"),
    }

    def clean(self):
        try:
            return super().clean()
        except forms.ValidationError:
            message = locked_message(self.cleaned_data.get("username", ""))
            if message:
                raise forms.ValidationError(message, code="locked") from None
            raise
