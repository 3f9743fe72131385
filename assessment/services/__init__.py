"""The assessment's writes (SPEC §5.2–§5.4), one module per concern, and their public names.

Inputs that are not platform records — the monthly core table (`monthly_reports`), survey answers
(`surveys`), assessor groups, scores and reviews (`scores`), veto rulings (`vetoes`), innovation
awards (`awards`), tolerance claims (`tolerance`) and the rectification loop (`rectification`) —
and the cycle lifecycle (`cycles`); appeals on scores (`appeals`), the data-credibility checks
(`credibility`) and the report bundles (`reports`) are imported as modules.

Pages, the API, tests and other apps call these functions; each one checks who may act (capability,
jurisdiction and, for a unit's own steps, that the user belongs to the unit; the state machines are
assessment.transitions), validates with field-level Chinese messages and writes inside one
transaction. Models derive from `AuditedModel`, so each save lands in the audit trail; what a save
cannot show (group membership, the reason a rectification report was returned, survey answers,
which are not an audited model) is written with `audit.record` in the same transaction.
"""

from ..transitions import InputError
from .awards import award_record, year_end_finalised
from .base import assessment_levels, check_evidence, unit_error
from .cycles import (
    NOTICE_WORKING_DAYS,
    RECTIFY_BELOW,
    RECTIFY_DAYS,
    SAMPLE_SHARE,
    STALE_RUN,
    AssessmentError,
    blocking_items,
    create_cycle,
    default_levels,
    draw_sample,
    finalise,
    progress_recorder,
    publish,
    rectification_dates,
    run_cycle,
    sample_visible_to,
    set_check_date,
    start_due_cycles,
    start_run,
)
from .monthly_reports import (
    REPORT_LIMITS,
    month_of,
    report_is_correctable,
    report_submit,
    report_value_errors,
)
from .rectification import (
    rectification_close,
    rectification_overdue,
    rectification_report,
    rectification_return,
    rectification_step,
)
from .scores import (
    SPREAD_LIMIT,
    group_save,
    review_record,
    score_record,
)
from .surveys import (
    ANONYMOUS,
    SURVEY_ANSWER_FIELDS,
    SURVEY_CHOICES,
    SURVEY_RESERVE_SIZE,
    SURVEY_ROUNDS,
    SURVEY_SAMPLE_SIZE,
    SampleHousehold,
    offline_key,
    online_key,
    round_of,
    sample_households,
    sample_seed,
    survey_answer_online,
    survey_record_offline,
    survey_sample,
)
from .tolerance import claim_decide, claim_file
from .vetoes import (
    APPEAL_WORKING_DAYS,
    RULED_VETOES,
    appeal_deadline,
    veto_appeal,
    veto_decide,
    veto_record,
)

__all__ = [
    "ANONYMOUS",
    "APPEAL_WORKING_DAYS",
    "NOTICE_WORKING_DAYS",
    "RECTIFY_BELOW",
    "RECTIFY_DAYS",
    "REPORT_LIMITS",
    "RULED_VETOES",
    "SAMPLE_SHARE",
    "SPREAD_LIMIT",
    "STALE_RUN",
    "SURVEY_ANSWER_FIELDS",
    "SURVEY_CHOICES",
    "SURVEY_RESERVE_SIZE",
    "SURVEY_ROUNDS",
    "SURVEY_SAMPLE_SIZE",
    "AssessmentError",
    "InputError",
    "SampleHousehold",
    "appeal_deadline",
    "assessment_levels",
    "award_record",
    "blocking_items",
    "check_evidence",
    "claim_decide",
    "claim_file",
    "create_cycle",
    "default_levels",
    "draw_sample",
    "finalise",
    "group_save",
    "month_of",
    "offline_key",
    "online_key",
    "progress_recorder",
    "publish",
    "rectification_close",
    "rectification_dates",
    "rectification_overdue",
    "rectification_report",
    "rectification_return",
    "rectification_step",
    "report_is_correctable",
    "report_submit",
    "report_value_errors",
    "review_record",
    "round_of",
    "run_cycle",
    "sample_households",
    "sample_seed",
    "sample_visible_to",
    "score_record",
    "set_check_date",
    "start_due_cycles",
    "start_run",
    "survey_answer_online",
    "survey_record_offline",
    "survey_sample",
    "unit_error",
    "veto_appeal",
    "veto_decide",
    "veto_record",
    "year_end_finalised",
]
