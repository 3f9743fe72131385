from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GridsConfig(AppConfig):
    name = "grids"
    verbose_name = _("区划与网格")

    def ready(self) -> None:
        from grids import interchange, signals  # noqa: F401  (record types; worker counts)
