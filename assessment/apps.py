from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssessmentConfig(AppConfig):
    """The 40-indicator assessment (综治考核) and its scoring cycles — see docs/architecture.md."""

    name = "assessment"
    verbose_name = _("综治考核")

    def ready(self) -> None:
        from . import interchange  # noqa: F401  (the interchange's record types)
