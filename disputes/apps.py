from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DisputesConfig(AppConfig):
    """Mediation cases (矛盾纠纷调解): organisations, cases, parties — see docs/architecture.md."""

    name = "disputes"
    verbose_name = _("矛盾纠纷调解")

    def ready(self) -> None:
        from governance.demo import register_seeder
        from grids.events.conversion import ConversionTarget, register_conversion

        from . import interchange  # noqa: F401  (the interchange's record types)

        def form_fields(user):
            from .forms import convert_form_fields

            return convert_form_fields(user)

        def api_fields():
            from .api.serializers import convert_api_fields

            return convert_api_fields()

        def register(**fields):
            from .services import case_register

            return case_register(**fields)

        def linked(event):
            from .selectors import linked_case

            return linked_case(event)

        # Grid events are converted into mediation cases here (events never import disputes).
        register_conversion(
            ConversionTarget(register=register, form_fields=form_fields, api_fields=api_fields, linked=linked)
        )
        from governance.rules import publish

        from .services import CONFIRMATION_WORKING_DAYS, REPEAT_WINDOW_DAYS

        publish(repeat_window_days=REPEAT_WINDOW_DAYS, confirmation_working_days=CONFIRMATION_WORKING_DAYS)
        register_navigation()
        # The organisations come before the accounts (a mediator belongs to one), the cases after them.
        register_seeder("mediation-organisations", place=25, run="disputes.demo.seed_organisations")
        register_seeder("cases", place=50, run="disputes.demo.seed_cases", scales=("small",))


def register_navigation() -> None:
    """The case board in the bar (places: see governance.navigation): a mediator's own board, or
    the cases of the jurisdiction for the centres and the committee (SPEC §4)."""
    from governance.choices import Role
    from governance.navigation import register

    def is_mediator(user) -> bool:
        return user.role == Role.MEDIATOR

    def oversees_cases(user) -> bool:
        return not is_mediator(user) and (user.is_superuser or user.role in (Role.CENTRE_STAFF, Role.COMMITTEE_STAFF))

    register("case-board", place=50, url_name="disputes:board", label=_("调解工作台"), visible=is_mediator)
    register("cases", place=51, url_name="disputes:board", label=_("矛盾纠纷"), visible=oversees_cases)
