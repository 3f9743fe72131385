from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardConfig(AppConfig):
    """The committee's dashboard (SPEC §5.5) and the per-role home page (工作台): they read
    assessment results, events and cases; nothing depends on them."""

    name = "dashboard"
    verbose_name = _("综治看板")

    def ready(self) -> None:
        from governance.demo import register_seeder

        register_navigation()
        register_seeder("dashboard-activity", place=90, run="dashboard.demo.seed")


def register_navigation() -> None:
    """The home page first, the dashboard second (places: see governance.navigation)."""
    from governance.navigation import register

    register("home", place=10, url_name="home", label=_("工作台"))
    register(
        "dashboard",
        place=20,
        url_name="dashboard:index",
        label=_("综治看板"),
        visible=lambda user: user.can("dashboard.view"),
    )
