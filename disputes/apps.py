from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DisputesConfig(AppConfig):
    """Mediation cases (矛盾纠纷调解): organisations, cases, parties — see docs/architecture.md."""

    name = "disputes"
    verbose_name = _("矛盾纠纷调解")

    def ready(self) -> None:
        from . import interchange  # noqa: F401  (the interchange's record types)
