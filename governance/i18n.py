"""A translated message that names a rule's number without writing it: the msgid carries
%(name)s placeholders, the values come from the rule's one home (a constant, or a callable that
reads a setting when the message is shown)."""

from __future__ import annotations

from django.utils.functional import lazy
from django.utils.translation import gettext


def _interpolate(message: str, values: dict) -> str:
    return gettext(message) % {key: value() if callable(value) else value for key, value in values.items()}


_lazy_interpolate = lazy(_interpolate, str)


def lazy_message(message: str, **values):
    """Translated and filled in each time it is shown (form help texts, class-level labels).
    Mark `message` with gettext_noop so it is extracted."""
    return _lazy_interpolate(message, values)
