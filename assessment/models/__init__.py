"""The assessment's records (SPEC §5), one module per concern: the catalogue and its weight
profiles (`catalogue`), the cycles with their stored results (`cycles`), the inputs that are not
platform records (`inputs`), and what follows the scores (`after_scores`). Every record is
imported from here, `assessment.models`.
"""

from .after_scores import CredibilityFlag, ReportBundle, ScoreAppeal
from .catalogue import (
    SCORE_DIGITS,
    CatalogueVersion,
    Indicator,
    IndicatorWeight,
    ProfileOverride,
    WeightProfile,
)
from .cycles import (
    AnnualResult,
    Cycle,
    IndicatorResult,
    ResultScoped,
    SampledUnit,
    UnitResult,
)
from .inputs import (
    REPORT_VALUE_FIELDS,
    AssessorGroup,
    AssessorScore,
    InnovationAward,
    MonthlyReport,
    RectificationItem,
    ScoreReview,
    SurveyResponse,
    ToleranceClaim,
    UnitCode,
    VetoRuling,
    default_report_due_day,
    month_deadline,
)

__all__ = [
    "REPORT_VALUE_FIELDS",
    "SCORE_DIGITS",
    "AnnualResult",
    "AssessorGroup",
    "AssessorScore",
    "CatalogueVersion",
    "CredibilityFlag",
    "Cycle",
    "Indicator",
    "IndicatorResult",
    "IndicatorWeight",
    "InnovationAward",
    "MonthlyReport",
    "ProfileOverride",
    "RectificationItem",
    "ReportBundle",
    "ResultScoped",
    "SampledUnit",
    "ScoreAppeal",
    "ScoreReview",
    "SurveyResponse",
    "ToleranceClaim",
    "UnitCode",
    "UnitResult",
    "VetoRuling",
    "WeightProfile",
    "default_report_due_day",
    "month_deadline",
]
