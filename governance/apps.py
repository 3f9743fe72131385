from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = _("平台与权限")

    def ready(self) -> None:
        from . import signals  # audit and login receivers

        signals.connect_delete_receivers()
        from .interchange import department  # noqa: F401  (the department record type)

        _publish_rules()


def _publish_rules() -> None:
    from django.conf import settings

    from .rules import publish

    publish(
        login_max_failures=lambda: settings.LOGIN_MAX_FAILURES,
        login_lockout_minutes=lambda: int(settings.LOGIN_LOCKOUT.total_seconds() // 60),
        session_idle_minutes=lambda: settings.SESSION_COOKIE_AGE // 60,
    )
