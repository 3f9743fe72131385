from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    name = "grids.events"
    label = "events"
    verbose_name = _("网格事件")

    def ready(self) -> None:
        from governance.demo import register_seeder
        from grids.events import interchange, navigation  # noqa: F401  (record types of the interchange)

        _publish_rules()
        navigation.register_navigation()
        register_seeder("events", place=40, run="grids.events.demo.seed_events", scales=("small",))
        register_seeder("resident-report", place=55, run="grids.events.demo.seed_resident_report", scales=("small",))


def _publish_rules() -> None:
    """The numbers the events' pages name (governance.rules)."""
    from governance.rules import percent, publish
    from grids.events import public_views, sla

    publish(
        amber_percent=percent(sla.AMBER_AT),
        public_report_limit=public_views.REPORT_LIMIT,
        public_status_limit=public_views.STATUS_LIMIT,
        public_report_window_minutes=public_views.REPORT_WINDOW // 60,
    )
