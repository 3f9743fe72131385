from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GridsConfig(AppConfig):
    name = "grids"
    verbose_name = _("区划与网格")

    def ready(self) -> None:
        from . import signals  # noqa: F401  (grid worker counts)

        _publish_rules()


def _publish_rules() -> None:
    """The numbers the hierarchy's and the events' pages name (governance.rules)."""
    from governance.rules import number, percent, publish

    from . import public_views, sla
    from .models import MAX_RADIUS_KM, RESIDENTS_PER_FULLTIME_WORKER, RURAL_HOUSEHOLDS, URBAN_MAX_HOUSEHOLDS

    publish(
        rural_households_min=RURAL_HOUSEHOLDS[0],
        rural_households_max=RURAL_HOUSEHOLDS[1],
        urban_max_households=URBAN_MAX_HOUSEHOLDS,
        residents_per_fulltime_worker=RESIDENTS_PER_FULLTIME_WORKER,
        rural_radius_km=number(MAX_RADIUS_KM[False]),
        urban_radius_km=number(MAX_RADIUS_KM[True]),
        amber_percent=percent(sla.AMBER_AT),
        public_report_limit=public_views.REPORT_LIMIT,
        public_status_limit=public_views.STATUS_LIMIT,
        public_report_window_minutes=public_views.REPORT_WINDOW // 60,
    )
