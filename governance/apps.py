from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = _("平台与权限")

    def ready(self) -> None:
        from . import signals  # audit and login receivers

        signals.connect_delete_receivers()
        from .interchange import department  # noqa: F401  (the department record type)
