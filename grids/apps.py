from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GridsConfig(AppConfig):
    name = "grids"
    verbose_name = _("区划与网格")

    def ready(self) -> None:
        from governance.navigation import register
        from grids import interchange, signals  # noqa: F401  (record types; worker counts)

        _publish_rules()
        register("regions", place=70, url_name="grids:region-root", label=_("区划与网格"))
        register(
            "region-import",
            place=71,
            url_name="grids:region-import",
            label=_("导入区划"),
            visible=lambda user: user.can("region.import"),
        )
        register_demo()


def _publish_rules() -> None:
    """The sizing numbers the hierarchy's pages name (governance.rules)."""
    from governance.rules import number, publish
    from grids.models import MAX_RADIUS_KM, RESIDENTS_PER_FULLTIME_WORKER, RURAL_HOUSEHOLDS, URBAN_MAX_HOUSEHOLDS

    publish(
        rural_households_min=RURAL_HOUSEHOLDS[0],
        rural_households_max=RURAL_HOUSEHOLDS[1],
        urban_max_households=URBAN_MAX_HOUSEHOLDS,
        residents_per_fulltime_worker=RESIDENTS_PER_FULLTIME_WORKER,
        rural_radius_km=number(MAX_RADIUS_KM[False]),
        urban_radius_km=number(MAX_RADIUS_KM[True]),
    )


def register_demo() -> None:
    """The hierarchy's demo steps (places: see governance.demo and the other apps)."""
    from governance.demo import register_seeder

    from .demo import SCALES

    register_seeder(
        "regions", place=10, run="grids.demo.seed_regions", scales=tuple(SCALES), refuse="grids.demo.refuse_rebuild"
    )
    register_seeder("departments", place=20, run="grids.demo.seed_departments")
    register_seeder("accounts", place=30, run="grids.demo.seed_accounts")
