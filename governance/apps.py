from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = _("平台与权限")

    def ready(self) -> None:
        from . import signals  # audit and login receivers
        from .interchange import department  # noqa: F401  (the department record type)

        signals.connect_delete_receivers()

        _publish_rules()
        register_navigation()


def _publish_rules() -> None:
    from django.conf import settings

    from .rules import publish

    publish(
        login_max_failures=lambda: settings.LOGIN_MAX_FAILURES,
        login_lockout_minutes=lambda: int(settings.LOGIN_LOCKOUT.total_seconds() // 60),
        session_idle_minutes=lambda: settings.SESSION_COOKIE_AGE // 60,
    )


def register_navigation() -> None:
    """The platform's own pages in the bar (places: see governance.navigation)."""
    from .navigation import register

    register(
        "interchange",
        place=72,
        url_name="interchange:records",
        label=_("历史数据"),
        visible=lambda user: user.can("region.import"),
    )
    register(
        "departments",
        place=80,
        url_name="governance:department-list",
        label=_("职能部门"),
        visible=lambda user: user.can("department.change") or user.can("user.view"),
    )
    register(
        "audit",
        place=81,
        url_name="governance:audit-list",
        label=_("审计日志"),
        visible=lambda user: user.can("audit.view"),
    )
    register("api-docs", place=95, url_name="api-docs", label=_("接口文档"))
    register("admin", place=99, url_name="admin:index", label=_("系统配置"), visible=lambda user: user.is_superuser)
