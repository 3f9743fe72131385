from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DisputesConfig(AppConfig):
    """Mediation cases (矛盾纠纷调解): organisations, cases, parties — see docs/architecture.md."""

    name = "disputes"
    verbose_name = _("矛盾纠纷调解")

    def ready(self) -> None:
        from governance.rules import publish

        from .services import CONFIRMATION_WORKING_DAYS, REPEAT_WINDOW_DAYS

        publish(repeat_window_days=REPEAT_WINDOW_DAYS, confirmation_working_days=CONFIRMATION_WORKING_DAYS)
