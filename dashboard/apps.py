from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardConfig(AppConfig):
    """The committee's dashboard (SPEC §5.5): reads assessment results, events and cases; nothing
    depends on it."""

    name = "dashboard"
    verbose_name = _("综治看板")
