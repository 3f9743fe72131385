from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssessmentConfig(AppConfig):
    """The 40-indicator assessment (综治考核) and its scoring cycles — see docs/architecture.md."""

    name = "assessment"
    verbose_name = _("综治考核")

    def ready(self) -> None:
        from governance.rules import percent, publish

        from . import (
            interchange,  # noqa: F401  (the interchange's record types)
            services,
        )
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
        )
