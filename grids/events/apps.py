from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    name = "grids.events"
    label = "events"
    verbose_name = _("网格事件")

    def ready(self) -> None:
        from grids.events import interchange  # noqa: F401  (record types of the interchange)
