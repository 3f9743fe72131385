from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssessmentConfig(AppConfig):
    """The 40-indicator assessment (综治考核) and its scoring cycles — see docs/architecture.md."""

    name = "assessment"
    verbose_name = _("综治考核")

    def ready(self) -> None:
        from governance.demo import register_seeder

        from . import interchange  # noqa: F401  (the interchange's record types)

        _publish_rules()
        register_navigation()
        register_seeder("assessment", place=60, run="assessment.demo.seed", scales=("small",))


def _publish_rules() -> None:
    """The numbers the assessment's pages name (governance.rules)."""
    from governance.rules import percent, publish

    from . import services
    from .engine import scoring
    from .engine.run import V04_THRESHOLD
    from .rules import APPEAL_WORKING_DAYS, DECISION_WORKING_DAYS

    publish(
        spot_check_percent=percent(services.SAMPLE_SHARE),
        rectify_below_percent=percent(services.RECTIFY_BELOW),
        notice_working_days=services.NOTICE_WORKING_DAYS,
        appeal_working_days=APPEAL_WORKING_DAYS,
        decision_working_days=DECISION_WORKING_DAYS,
        survey_min_answers=scoring.SURVEY_MIN_ANSWERS,
        survey_channel_percent=percent(scoring.SURVEY_CHANNEL_WEIGHT),
        lead_percent=percent(scoring.LEAD_SHARE),
        collaborators_percent=percent(scoring.COLLABORATORS_SHARE),
        v04_threshold_percent=percent(V04_THRESHOLD),
        spread_limit_points=scoring.SPREAD_LIMIT_POINTS,
        pass_score=scoring.FAIL_BELOW,
        bonus_cap_points=scoring.BONUS_CAP_POINTS,
    )


def register_navigation() -> None:
    """Results for staff who read or run them, inputs for those who enter them (SPEC §5);
    places: see governance.navigation."""
    from governance.choices import Role
    from governance.navigation import register

    def reads_results(user) -> bool:
        return user.is_superuser or user.role in (Role.CENTRE_STAFF, Role.COMMITTEE_STAFF, Role.ASSESSOR)

    register("assessment", place=60, url_name="assessment:cycles", label=_("综治考核"), visible=reads_results)
    register(
        "assessment-inputs",
        place=61,
        url_name="assessment:inputs",
        label=_("考核填报"),
        visible=lambda user: user.can("assessment.inputs"),
    )
