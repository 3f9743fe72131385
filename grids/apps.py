from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GridsConfig(AppConfig):
    name = "grids"
    verbose_name = _("区划与网格")

    def ready(self) -> None:
        from governance.navigation import register

        from . import event_navigation, signals  # noqa: F401  (signals: grid worker counts)

        register("regions", place=70, url_name="grids:region-root", label=_("区划与网格"))
        register(
            "region-import",
            place=71,
            url_name="grids:region-import",
            label=_("导入区划"),
            visible=lambda user: user.can("region.import"),
        )
        event_navigation.register_navigation()
