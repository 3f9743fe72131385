"""The computed indicators of indicators.csv, each as one numerator and one denominator
condition over one kind of platform record.

A definition is used twice and only written once: the engine counts it for every unit in one
grouped aggregate query per record kind (`engine.facts`), and traceability lists the very
rows it counted (`engine.trace`). Deadlines, resolution levels, outcomes and the moment an
event left the open set are stored on the records when they happen, and so is every
resolution or conclusion a reopening withdrew (grids.WithdrawnResolution, disputes.CaseTransfer):
the state at a period end is one filtered left join, and every condition a comparison of
stored columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import timedelta
from functools import reduce
from operator import or_

from django.db.models import Case as SqlCase
from django.db.models import (
    CharField,
    Count,
    DateTimeField,
    Exists,
    F,
    FilteredRelation,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Length
from django.utils.translation import gettext_lazy as _

from disputes.choices import CaseOutcome
from disputes.lifecycle import CONCLUSION_DAYS
from disputes.models import Case, FollowUp, JudicialConfirmation
from governance.codes import Level, RegionCodeField
from grids.events.choices import Feedback
from grids.events.models import GridEvent, VisitRecord
from grids.models import MAX_RADIUS_KM, RESIDENTS_PER_FULLTIME_WORKER, GridWorker, Region, max_area_km2

from ..models import RectificationItem
from ..periods import Period

LOCAL_LEVELS = (Level.TOWNSHIP, Level.VILLAGE, Level.GRID)
WORK_SAFETY_CATEGORY = "work_safety"  # 安全生产隐患 in the default taxonomy (grids.events.catalogue)
ACTIVITY_PER_MONTH = 20
# The data-credibility checks (assessment.services.credibility) count two sets of events in the engine's
# event scan instead of scanning the events again: reported in the period (with the likely
# duplicates), and first resolved in the period (with those resolved within 10 minutes).
CREDIBILITY_REPORTED = "~reported"
CREDIBILITY_RESOLVED = "~resolved"
INSTANT_WINDOW = timedelta(minutes=10)


def instant_resolution_filters(p: Period) -> tuple[Q, Q]:
    """(resolved, instant) for the instant-closure check: events whose FIRST resolution falls in
    the period, and those of them resolved within 10 minutes (inclusive) of being reported. The
    one place that rule reads resolution timestamps."""
    resolved = Q(first_resolved_at__gte=p.start, first_resolved_at__lt=p.end)
    return resolved, resolved & Q(first_resolved_at__lte=F("reported_at") + INSTANT_WINDOW)


@dataclass(frozen=True)
class Measure:
    indicator: str
    model: type
    scope: str  # lookup from the record to its region code
    numerator: Q
    denominator: Q
    numerator_label: str = ""
    denominator_label: str = ""
    annotations: dict = field(default_factory=dict, hash=False, compare=False)
    columns: tuple[str, ...] = ()  # what a trace lists
    # The numerator as a condition on rows already in the denominator, when that is cheaper than
    # `numerator` itself (it must select exactly the same rows among them).
    numerator_within: Q | None = None
    # Region paths of which one lies in a subtree exactly when `scope` does, cheaper to filter on
    # (stored columns the planner can estimate, rather than an expression); default: `scope`.
    scope_paths: tuple[str, ...] = ()

    @property
    def extra(self) -> Q:
        return self.numerator_within if self.numerator_within is not None else self.numerator

    def under(self, code: str) -> Q:
        """The records of region `code`'s subtree."""
        return reduce(or_, [Q(**{f"{path}__under": code}) for path in self.scope_paths or (self.scope,)])

    def rows(self):
        """The records annotated as the conditions need (a filtered relation is made afresh for
        each query: Django resolves it in place)."""
        fresh = {
            name: FilteredRelation(a.relation_name, condition=a.condition) if isinstance(a, FilteredRelation) else a
            for name, a in self.annotations.items()
        }
        return self.model.objects.annotate(**fresh)

    @property
    def group(self) -> tuple:
        """Measures over the same records with the same annotations share one query."""
        return (self.model, self.scope, tuple(sorted(self.annotations)))


def _active_at(day) -> Q:
    return Q(started_on__lte=day) & (Q(ended_on__isnull=True) | Q(ended_on__gte=day))


def _events_at_end(p: Period) -> dict:
    """Each event's resolution standing at the period's end (SPEC §5.2, reopenings): the
    event's own resolution if it was made before the end (it has not been reopened since), or
    else the withdrawn one that was made before the end and reopened only after it. At most one
    of them stands; without either the event was not resolved at the end."""
    e = p.end
    withdrawn = "withdrawn_resolutions"
    own = Q(resolved_at__lt=e)
    return {
        "standing": FilteredRelation(
            withdrawn, condition=Q(**{f"{withdrawn}__resolved_at__lt": e, f"{withdrawn}__reopened_at__gte": e})
        ),
        "resolved_at_end": SqlCase(When(own, then=F("resolved_at")), default=F("standing__resolved_at")),
        "level_at_end": SqlCase(When(own, then=F("resolved_level")), default=F("standing__level")),
    }


def _event_measures(p: Period, safety_categories: list[int]) -> list[Measure]:
    s, e = p.start, p.end
    # Resolved in the period: by the resolution standing at its end, made within it; that
    # resolution's time and level are the ones judged.
    resolved_in = Q(resolved_at_end__gte=s)
    open_overdue = (
        Q(reported_at__lt=e) & Q(resolved_at_end__isnull=True) & ~Q(closed_at__lt=e) & Q(resolve_deadline__lt=e)
    )  # neither resolved nor returned / merged / converted by the period's end
    on_time = resolved_in & Q(resolved_at_end__lte=F("resolve_deadline"))
    reported_in = Q(reported_at__gte=s, reported_at__lt=e)
    resolved, instant = instant_resolution_filters(p)
    # Merging or converting an unanswered event answers it (closed_at records the moment).
    answered_on_time = Q(responded_at__lte=F("respond_deadline")) | Q(
        responded_at__isnull=True, closed_at__lte=F("respond_deadline")
    )
    unanswered_not_due = (
        (Q(responded_at__isnull=True) | Q(responded_at__gte=e))
        & (Q(closed_at__isnull=True) | Q(closed_at__gte=e))
        & Q(respond_deadline__gte=e)
    )
    feedback_in = Q(feedback_at__gte=s, feedback_at__lt=e) & ~Q(feedback="")
    safety = Q(category_id__in=safety_categories)
    cols = ("id", "title", "category__name", "status", "reported_at", "responded_at", "respond_deadline")
    cols_resolved = (
        "id", "title", "status", "reported_at", "resolved_at_end", "resolve_deadline", "level_at_end",
    )  # fmt: skip
    at_end = _events_at_end(p)  # every event measure shares it, so they stay one query
    measures = [
        Measure(
            "B03",
            GridEvent,
            "region_code",
            feedback_in & Q(feedback__in=[Feedback.SATISFIED, Feedback.BASICALLY]),
            feedback_in,
            _("回访满意或基本满意的事件"),
            _("期内回访的事件"),
            columns=("id", "title", "feedback", "feedback_at"),
        ),
        Measure(
            "C04",
            GridEvent,
            "region_code",
            on_time,
            resolved_in | open_overdue,
            _("期内按期办结的事件"),
            _("期内办结的事件 + 期末未办结且已超期的事件"),
            columns=cols_resolved,
        ),
        Measure(
            "C05",
            GridEvent,
            "region_code",
            # within the denominator explicitly: the shared scan also reads events outside it
            reported_in & ~unanswered_not_due & answered_on_time,
            reported_in & ~unanswered_not_due,
            _("期内上报且在响应时限内受理或退回的事件"),
            _("期内上报的事件（不含期末未响应且响应期限在期末之后的）"),
            columns=cols,
        ),
        Measure(
            "C11",
            GridEvent,
            "region_code",
            on_time & safety,
            (resolved_in | open_overdue) & safety,
            _("期内按期办结的安全生产隐患事件"),
            _("期内办结的 + 期末超期未办结的安全生产隐患事件"),
            columns=cols_resolved,
        ),
        Measure(
            "C06",
            GridEvent,
            "region_code",
            resolved_in & Q(level_at_end__in=LOCAL_LEVELS),
            resolved_in,
            _("期内在村（社区）或乡镇（街道）层级办结的事件"),
            _("期内办结的事件"),
            columns=cols_resolved,
        ),
        Measure(
            CREDIBILITY_REPORTED, GridEvent, "region_code", reported_in & Q(duplicate_of__isnull=False), reported_in
        ),
        Measure(CREDIBILITY_RESOLVED, GridEvent, "region_code", instant, resolved),
    ]
    return [replace(m, annotations=at_end) for m in measures]


def _cases_at_end(p: Period) -> dict:
    """Each case's holder and conclusion at the period's end (SPEC §5.2, reopenings). A transfer
    withdraws the failed conclusion of the organisation it leaves; if one took place after the
    end, the organisation it left held the case at the end (`held`, the transfer whose holding
    spans the end), with the conclusion it had then; otherwise the case's own organisation did,
    with its conclusion if it was reached before the end."""
    e = p.end
    held = Q(transfers__transferred_at__gte=e) & (Q(transfers__held_from__isnull=True) | Q(transfers__held_from__lt=e))
    was_held = Q(held__id__isnull=False)
    held_concluded = was_held & Q(held__concluded_at__lt=e)
    own_concluded = Q(held__id__isnull=True, concluded_at__lt=e)
    code = Coalesce(F("held__region_code"), F("region_code"), output_field=RegionCodeField())
    return {
        "held": FilteredRelation("transfers", condition=held),
        "code_at_end": code,
        "concluded_at_end": SqlCase(
            When(held_concluded, then=F("held__concluded_at")),
            When(own_concluded, then=F("concluded_at")),
            output_field=DateTimeField(),
        ),
        "outcome_at_end": SqlCase(
            When(held_concluded, then=F("held__outcome")),
            When(own_concluded, then=F("outcome")),
            default=Value(""),
            output_field=CharField(),
        ),
        "code_length": Length(code),
    }


def _case_measures(p: Period) -> list[Measure]:
    """Cases count for the organisation holding them at the period's end, in the period of the
    conclusion standing then (a declined case has no outcome and is never counted)."""
    s, e = p.start, p.end
    concluded_in = Q(concluded_at_end__gte=s, outcome_at_end__in=[CaseOutcome.AGREED, CaseOutcome.FAILED])
    # acceptance date more than CONCLUSION_DAYS (30) days before the period's last day
    late_acceptance = p.day_start(p.last - timedelta(days=CONCLUSION_DAYS))
    open_late = Q(accepted_at__lt=late_acceptance) & Q(concluded_at_end__isnull=True)
    registered_in = Q(registered_at__gte=s, registered_at__lt=e)
    cols = (
        "id", "number", "title", "status", "outcome_at_end", "accepted_at", "concluded_at_end", "conclusion_deadline",
        "code_at_end",
    )  # fmt: skip
    measures = [
        Measure(
            "C01",
            Case,
            "code_at_end",
            concluded_in & Q(outcome_at_end=CaseOutcome.AGREED),
            concluded_in,
            _("期内调解成功的案件"),
            _("期内调解终结的案件（成功 + 不成）"),
            columns=cols,
        ),
        Measure(
            "C02",
            Case,
            "code_at_end",
            concluded_in & Q(concluded_at_end__lte=F("conclusion_deadline")),
            concluded_in | (open_late & Q(accepted_at__isnull=False)),
            _("期内终结且自受理起不超过%(days)s日的案件") % {"days": CONCLUSION_DAYS},
            _("期内终结的案件 + 期末未终结且受理已超%(days)s日的案件") % {"days": CONCLUSION_DAYS},
            columns=cols,
        ),
        Measure(
            "C06",
            Case,
            "code_at_end",
            concluded_in & Q(code_length__gte=9),
            concluded_in,
            _("期内由村（社区）或乡镇（街道）调解组织终结的案件"),
            _("期内终结的案件"),
            columns=cols,
        ),
        Measure(
            "C07",
            Case,
            "code_at_end",
            registered_in & Q(is_repeat=True),
            registered_in,
            _("期内登记的重复纠纷"),
            _("期内登记的案件"),
            columns=("id", "number", "title", "registered_at", "is_repeat", "code_at_end"),
        ),
    ]
    at_end = _cases_at_end(p)  # every case measure shares it, so they stay one query
    # A transfer only goes up (disputes.lifecycle.transfer), so the organisation a case left lies
    # under the one holding it now: the holder at the end is in a subtree exactly when one of them is.
    paths = ("region_code", "held__region_code")
    return [replace(m, annotations=at_end, scope_paths=paths) for m in measures]


def _follow_up_measures(p: Period) -> list[Measure]:
    visited_in = Q(visited_on__gte=p.first, visited_on__lte=p.last)
    later = FollowUp.objects.filter(
        case_id=OuterRef("case_id"), visited_on__gte=p.first, visited_on__lte=p.last
    ).filter(Q(visited_on__gt=OuterRef("visited_on")) | Q(visited_on=OuterRef("visited_on"), pk__gt=OuterRef("pk")))
    last_in_period = visited_in & Q(has_later=False)
    rated = visited_in & ~Q(satisfaction="")
    cols = ("id", "case__number", "visited_on", "fulfilment", "satisfaction")
    return [
        Measure(
            "B04",
            FollowUp,
            "case__assessment_code",
            rated & Q(satisfaction__in=["satisfied", "basically"]),
            rated,
            _("期内回访当事人满意或基本满意"),
            _("期内有满意度评价的回访"),
            columns=cols,
        ),
        Measure(
            "C03",
            FollowUp,
            "case__assessment_code",
            last_in_period & Q(fulfilment="full"),
            last_in_period,
            _("期内最后一次回访为已全部履行的协议"),
            _("期内有回访的协议（每份协议取期内最后一次回访）"),
            annotations={"has_later": Exists(later)},
            columns=cols,
            numerator_within=Q(fulfilment="full"),  # the anti-join runs once, in the WHERE
        ),
    ]


def _confirmation_measures(p: Period) -> list[Measure]:
    decided_in = Q(decided_on__gte=p.first, decided_on__lte=p.last)
    pending_late = (
        Q(applied_on__lte=p.last) & (Q(decided_on__isnull=True) | Q(decided_on__gt=p.last)) & Q(deadline__lt=p.last)
    )
    return [
        Measure(
            "C16",
            JudicialConfirmation,
            "case__assessment_code",
            decided_in & Q(decided_on__lte=F("deadline")),
            decided_in | pending_late,
            _("期内在期限内作出决定的司法确认"),
            _("期内作出决定的 + 期末未决且已过期限的司法确认申请"),
            columns=("id", "case__number", "court", "applied_on", "deadline", "decided_on"),
        )
    ]


def _rectification_measures(p: Period) -> list[Measure]:
    due_in = Q(due_on__gte=p.first, due_on__lte=p.last)
    return [
        Measure(
            "C13",
            RectificationItem,
            "region_code",
            due_in & Q(closed_on__isnull=False, closed_on__lte=F("due_on")),
            due_in,
            _("期内到期且按期销号的整改事项"),
            _("期内到期的整改事项"),
            columns=("id", "indicator", "region_code", "due_on", "status", "closed_on"),
        )
    ]


def _grid_measures(p: Period) -> list[Measure]:
    workers = (
        GridWorker.objects.filter(grid_id=OuterRef("pk"), is_full_time=True)
        .filter(_active_at(p.last))
        .values("grid_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    grids = Q(level=Level.GRID)
    known_area = grids & Q(area_km2__isnull=False)
    within_radius = (Q(is_urban=True) & Q(area_km2__lte=max_area_km2(True))) | (
        Q(is_urban=False) & Q(area_km2__lte=max_area_km2(False))
    )
    return [
        Measure(
            "A02",
            Region,
            "code",
            grids & Q(fulltime_at_end__gte=1) & Q(population__lte=F("fulltime_at_end") * RESIDENTS_PER_FULLTIME_WORKER),
            grids,
            _("期末至少有1名在岗专职网格员且每名专职网格员服务不超过%(n)s名居民的网格")
            % {"n": RESIDENTS_PER_FULLTIME_WORKER},
            _("网格总数"),
            annotations={"fulltime_at_end": Coalesce(Subquery(workers, output_field=IntegerField()), Value(0))},
            columns=("id", "code", "name", "population", "fulltime_at_end"),
        ),
        Measure(
            "A03",
            Region,
            "code",
            known_area & within_radius,
            known_area,
            _("服务半径达标的网格（农村≤%(rural)s公里，城镇≤%(urban)s公里）")
            % {"rural": f"{MAX_RADIUS_KM[False]:g}", "urban": f"{MAX_RADIUS_KM[True]:g}"},
            _("已知面积的网格"),
            columns=("id", "code", "name", "is_urban", "area_km2"),
        ),
    ]


def _worker_measures(p: Period) -> list[Measure]:
    reported = (
        GridEvent.objects.filter(reporter_id=OuterRef("user_id"), reported_at__gte=p.start, reported_at__lt=p.end)
        .values("reporter_id")
        .annotate(n=Count("*"))  # COUNT(*): answered from the (reporter, reported_at) index alone
        .values("n")
    )
    visits = (
        VisitRecord.objects.filter(worker_id=OuterRef("user_id"), date__gte=p.first, date__lte=p.last)
        .values("worker_id")
        .annotate(n=Count("*"))
        .values("n")
    )
    active = Q(is_full_time=True) & _active_at(p.last)
    activity = Coalesce(Subquery(reported, output_field=IntegerField()), Value(0)) + Coalesce(
        Subquery(visits, output_field=IntegerField()), Value(0)
    )
    return [
        Measure(
            "D02",
            GridWorker,
            "grid__code",
            active & Q(activity__gte=ACTIVITY_PER_MONTH * len(p.months)),
            active,
            _("期内月均上报事件与走访记录合计不少于%(n)s条的在岗专职网格员") % {"n": ACTIVITY_PER_MONTH},
            _("期末在岗专职网格员"),
            annotations={"activity": activity},
            columns=("id", "name", "grid__code", "started_on", "ended_on", "activity"),
            numerator_within=Q(activity__gte=ACTIVITY_PER_MONTH * len(p.months)),
        )
    ]


def computed_measures(p: Period) -> list[Measure]:
    """Every computed indicator except D03 (expected monthly tables, see engine.reported)."""
    from grids.events.models import EventCategory

    safety = list(
        EventCategory.objects.filter(Q(code=WORK_SAFETY_CATEGORY) | Q(parent__code=WORK_SAFETY_CATEGORY)).values_list(
            "pk", flat=True
        )
    )
    return [
        *_grid_measures(p),
        *_worker_measures(p),
        *_event_measures(p, safety),
        *_case_measures(p),
        *_follow_up_measures(p),
        *_confirmation_measures(p),
        *_rectification_measures(p),
    ]
