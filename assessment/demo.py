"""Demo data for the assessment: a full previous year of records for the small demo province
(events, mediation cases with follow-ups, monthly tables with a few late ones, survey answers
on both channels, two assessor groups' scores, an innovation award and a veto ruling), then
every cycle of that year computed, finalised and published, so the results pages have something
true to show at every level.

Records are written with bulk_create and consistent stored fields (deadlines, outcomes,
levels), with one `bulk` audit entry; the cycles run through the normal services.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import random
import uuid
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from disputes.lifecycle import conclusion_deadlines
from disputes.models import Case, FollowUp, MediationOrganisation
from governance import audit
from governance.choices import AuditAction, Role
from governance.codes import Level
from governance.demo import DemoRun
from governance.models import User
from grids.events.choices import EventStatus
from grids.events.models import EventCategory, GridEvent
from grids.events.sla import add_limit, limits_for
from grids.models import Region

from .demo_spread import assessor_score, quality
from .models import (
    AssessorGroup,
    AssessorScore,
    Indicator,
    InnovationAward,
    MonthlyReport,
    SurveyResponse,
    VetoRuling,
    month_deadline,
)
from .periods import period_for
from .services import AssessmentError, create_cycle, finalise, publish, run_cycle


def _at(rng: random.Random, year: int, days: int = 365) -> dt.datetime:
    day = dt.date(year, 1, 1) + dt.timedelta(days=rng.randrange(days))
    return timezone.make_aware(dt.datetime.combine(day, dt.time(rng.randrange(8, 18), rng.randrange(60))))


def days_recorded(year: int, today: dt.date) -> int:
    """Days of `year` with records: the whole of a past year, up to yesterday in the current one."""
    return min((dt.date(year + 1, 1, 1) - dt.date(year, 1, 1)).days, max((today - dt.date(year, 1, 1)).days, 1))


class AssessmentDemo:
    def __init__(self, year: int, seed: int = 2026):
        self.year = year
        self.today = timezone.localdate()
        self.current = year == self.today.year
        self.days = days_recorded(year, self.today)
        self.rng = random.Random(seed + int(self.current))  # stable spread whatever the calendar year
        self.province = Region.objects.get(level=Level.PROVINCE)
        self.townships = list(Region.objects.filter(level=Level.TOWNSHIP).order_by("code"))
        self.villages = list(Region.objects.filter(level=Level.VILLAGE).order_by("code"))
        self.grids = list(Region.objects.filter(level=Level.GRID).order_by("code"))
        self.committee = User.objects.filter(role=Role.COMMITTEE_STAFF, region=self.province).first()
        self.assessor = User.objects.filter(role=Role.ASSESSOR).first() or self.committee

    @transaction.atomic
    def build_records(self) -> dict[str, int]:
        counts = {
            "events": self._events(),
            "cases": self._cases(),
            "monthly_reports": self._monthly_reports(),
            "survey_responses": self._surveys(),
        }
        if not self.current:
            self._award_and_veto()
        audit.record(
            AuditAction.BULK,
            model_label="assessment.cycle",
            object_repr=f"assessment demo {self.year}",
            region_code=self.province.code,
            changes=counts,
        )
        return counts

    def _award_and_veto(self) -> None:
        county = Region.objects.filter(level=Level.COUNTY).order_by("code").first()
        InnovationAward.objects.create(
            unit=county, year=self.year, points=Decimal("2"), reason="“平安积分”群众参与机制", awarded_by=self.committee
        )
        VetoRuling.objects.create(
            unit=self.townships[-1],
            indicator="V02",
            occurred_on=dt.date(self.year, 8, 14),
            description="辖区内发生造成3人死亡的生产安全事故（演示数据）。",
            recorded_by=self.committee,
        )

    def _events(self) -> int:
        categories = list(EventCategory.objects.filter(parent__isnull=False))
        workers = {u.region_id: u for u in User.objects.filter(role=Role.GRID_WORKER)}
        rows = []
        for grid in self.grids:
            q = quality(grid.code, self.current)
            for _ in range(self.rng.randint(20, 40) * self.days // 365):
                category = self.rng.choice(categories)
                urgency = self.rng.choice(["normal", "normal", "normal", "urgent"])
                limits = limits_for(category, urgency)
                reported = _at(self.rng, self.year, self.days)
                respond_deadline = add_limit(reported, limits.respond)
                resolve_deadline = add_limit(reported, limits.resolve)
                roll = self.rng.random()
                responded = reported + dt.timedelta(minutes=self.rng.randint(5, 50 if roll < q else 200))
                resolved = None
                if roll < 0.9 + 0.1 * q:
                    late = self.rng.random() < (1 - q) * 0.6
                    resolved = resolve_deadline + dt.timedelta(days=2) if late else responded + dt.timedelta(days=1)
                feedback_at = resolved + dt.timedelta(days=2) if resolved else None
                level = (
                    Level.COUNTY
                    if self.rng.random() < (1 - q) * 0.7
                    else self.rng.choice([Level.VILLAGE, Level.TOWNSHIP])
                )
                rows.append(
                    GridEvent(
                        client_uuid=uuid.UUID(int=self.rng.getrandbits(128)),
                        category=category,
                        title=category.name,
                        description=f"{grid.name}网格巡查发现：{category.name}",
                        urgency=urgency,
                        source=self.rng.choice(["patrol", "visit", "resident", "hotline"]),
                        region=grid,
                        region_code=grid.code,
                        reporter=workers.get(grid.pk),
                        status=EventStatus.CLOSED if resolved else EventStatus.HANDLING,
                        handling_level=Level.VILLAGE,
                        resolved_level=level if resolved else None,
                        first_resolved_level=level if resolved else None,
                        resolution="已处置。" if resolved else "",
                        feedback=_answer(self.rng, q, "satisfied", "basically", "dissatisfied") if resolved else "",
                        reported_at=reported,
                        responded_at=responded,
                        resolved_at=resolved,
                        first_resolved_at=resolved,
                        verified_at=resolved,
                        feedback_at=feedback_at,
                        closed_at=feedback_at,
                        respond_deadline=respond_deadline,
                        resolve_deadline=resolve_deadline,
                    )
                )
        GridEvent.objects.bulk_create(rows, batch_size=2000)
        return len(rows)

    def _cases(self) -> int:
        orgs = list(MediationOrganisation.objects.select_related("region"))
        cases, follow_ups = [], []
        for n, org in enumerate(orgs):
            q = quality(org.region.code, self.current) if org.region.level >= Level.TOWNSHIP else 0.8
            for i in range(self.rng.randint(8, 16) * self.days // 365):
                registered = _at(self.rng, self.year, self.days)
                accepted = registered + dt.timedelta(hours=3)
                deadline, warn = conclusion_deadlines(accepted)
                on_time = self.rng.random() < q
                concluded = accepted + dt.timedelta(days=self.rng.choice([5, 12, 20, 28] if on_time else [35, 42]))
                if concluded.date() >= self.today:
                    continue  # still being mediated: the demo keeps only concluded cases
                agreed = self.rng.random() < 0.6 + 0.38 * q
                cases.append(
                    Case(
                        number=f"（{self.year}）演调字第{n:03d}{i:03d}号",
                        organisation=org,
                        region_code=org.region.code,
                        assessment_code=org.region.code,
                        origin_region=org.region,
                        dispute_type=self.rng.choice(["neighbour", "marriage_family", "labour", "contract_debt"]),
                        title="邻里纠纷调解（演示）",
                        facts="演示数据。",
                        status="closed" if agreed else "referred",
                        outcome="agreed" if agreed else "failed",
                        first_outcome="agreed" if agreed else "failed",
                        first_concluded_at=concluded,
                        referral="" if agreed else "litigation",
                        failure_reason="" if agreed else "双方分歧较大",
                        registered_at=registered,
                        accepted_at=accepted,
                        concluded_at=concluded,
                        closed_at=concluded + dt.timedelta(days=10),
                        conclusion_deadline=deadline,
                        conclusion_warn_at=warn,
                        is_repeat=self.rng.random() < 0.08,
                    )
                )
        Case.objects.bulk_create(cases, batch_size=1000)
        for case in Case.objects.filter(outcome="agreed", concluded_at__year=self.year).select_related("organisation"):
            visited = timezone.localtime(case.concluded_at).date() + dt.timedelta(days=7)
            q = quality(case.region_code, self.current) if len(case.region_code) >= 9 else 0.8
            if visited.year == self.year and visited < self.today:
                follow_ups.append(
                    FollowUp(
                        case=case,
                        visited_on=visited,
                        fulfilment=_answer(self.rng, q, "full", "partly", "not"),
                        satisfaction=_answer(self.rng, q, "satisfied", "basically", "dissatisfied"),
                    )
                )
        FollowUp.objects.bulk_create(follow_ups, batch_size=1000)
        return len(cases)

    def _monthly_reports(self) -> int:
        rows = []
        for t, township in enumerate(self.townships):
            q = quality(township.code, self.current)
            for month_number in range(1, 13):
                month = dt.date(self.year, month_number, 1)
                deadline = month_deadline(month)
                if deadline.date() >= self.today:
                    break  # not due yet
                late = t == 1 and month_number == 5 and not self.current  # one township sent May's table late
                cadres = self.rng.randint(20, 40)
                registered = self.rng.randint(10, 30)
                received = self.rng.randint(2, 12)
                rows.append(
                    MonthlyReport(
                        township=township,
                        region_code=township.code,
                        month=month,
                        deadline=deadline,
                        submitted_at=deadline + dt.timedelta(days=3) if late else deadline - dt.timedelta(days=2),
                        is_late=late,
                        submitted_by=self.committee,
                        funding_yuan=Decimal(max(township.population, 1000) * self.rng.randint(30, 60) // 100),
                        mediators_fulltime=self.rng.randint(1, 3),
                        mediators_parttime=self.rng.randint(2, 6),
                        petitions_received=received,
                        petitions_resolved_first=round(received * (q if q > 0.9 else self.rng.uniform(q - 0.1, q))),
                        criminal_cases=self.rng.randint(0, 1 if q > 0.9 else 3),
                        key_persons_registered=registered,
                        key_persons_managed=registered if q > 0.9 else registered - self.rng.randint(0, 3),
                        households_reached=round(max(township.households, 100) * q / 3),
                        cadres=cadres,
                        cadres_on_track=round(cadres * q),
                    )
                )
        MonthlyReport.objects.bulk_create(rows, batch_size=1000)
        return len(rows)

    def _surveys(self) -> int:
        rows = []
        for village in self.villages:
            q = quality(village.code, self.current)
            for channel, count in (("online", 14), ("offline", 12)):
                for i in range(count):
                    rows.append(
                        SurveyResponse(
                            village=village,
                            region_code=village.code,
                            channel=channel,
                            answered_at=_at(self.rng, self.year, self.days),
                            safety=_answer(self.rng, q, "safe", "fairly_safe", "not_very_safe"),
                            satisfaction=_answer(self.rng, q, "satisfied", "basically", "dissatisfied"),
                            awareness="aware" if self.rng.random() < q else "unaware",
                            household=str(i + 1) if channel == "offline" else "",
                            evaluator=self.assessor if channel == "offline" else None,
                            client_key=f"demo-{self.year}-{village.code}-{channel}-{i}",
                        )
                    )
        SurveyResponse.objects.bulk_create(rows, batch_size=2000)
        return len(rows)

    def _score(self, cycle) -> None:
        units = list(cycle.results.values_list("region_id", "region_code"))
        indicators = list(Indicator.objects.filter(rule="assessed").values_list("code", flat=True))
        scores = []
        for name in ("第一考核组", "第二考核组（第三方）"):
            group = AssessorGroup.objects.create(cycle=cycle, name=name, is_third_party="第三方" in name)
            group.members.add(self.assessor)
            for pk, code in units:
                for indicator in indicators:
                    q = quality(code, self.current) if len(code) >= 9 else self._mean_quality(code)
                    scores.append(
                        AssessorScore(
                            cycle=cycle,
                            group=group,
                            unit_id=pk,
                            region_code=code,
                            indicator=indicator,
                            score=Decimal(assessor_score(q, self.rng.randint(0, 8))),
                            scored_by=self.assessor,
                        )
                    )
        AssessorScore.objects.bulk_create(scores, batch_size=2000)

    def run_cycles(self) -> list:
        """Every cycle of the year: four spot-checks, the half-year and the year-end, each run
        once to learn its units, scored by two groups, and run again with the scores."""
        cycles = [
            create_cycle(kind=kind, year=self.year, quarter=quarter, root=self.province)
            for kind, quarter in self._finished_periods()
        ]
        for cycle in cycles:
            run_cycle(cycle.pk)
            self._score(cycle)
            run_cycle(cycle.pk)
        for cycle in cycles:  # last year is over: finalised and published, so every level sees it
            # if something blocks a cycle it stays computed, as its page explains
            with contextlib.suppress(AssessmentError):
                publish(finalise(cycle, user=None), user=None)
        return cycles

    def _finished_periods(self) -> list[tuple[str, int | None]]:
        """The year's cycles whose period has ended: all six of a past year, so far in this one."""
        kinds = [("spot_check", q) for q in (1, 2, 3, 4)] + [("half_year", None), ("year_end", None)]
        return [(k, q) for k, q in kinds if period_for(k, self.year, q).last < self.today]

    def _mean_quality(self, code: str) -> float:
        """A county's or city's quality: the mean over its townships."""
        values = [quality(t.code, self.current) for t in self.townships if t.code.startswith(code)]
        return sum(values) / len(values) if values else 0.72


def _answer(rng: random.Random, q: float, best: str, middle: str, worst: str) -> str:
    """A three-way answer for a unit of quality q: the best with probability q, the worst rarely."""
    roll = rng.random()
    if roll < q:
        return best
    return middle if roll < q + (1 - q) * 0.7 else worst


def build(year: int | None = None) -> dict[str, int]:
    """The previous year in full and the current year so far (its finished cycles)."""
    this_year = timezone.localdate().year
    counts: dict[str, int] = {}
    for each in [year] if year else [this_year - 1, this_year]:
        demo = AssessmentDemo(each)
        built = demo.build_records()
        built["cycles"] = len(demo.run_cycles())
        for key, value in built.items():
            counts[key] = counts.get(key, 0) + value
    counts["desk_scores"] = build_assessor_desk()
    return counts


# --- The assessor's desk ------------------------------------------------------------------------------


@transaction.atomic
def build_assessor_desk() -> int:
    """Leave work on the demo assessor's desk, through the same services the pages use.

    The demo county's committee organises this year's year-end assessment of the county and its
    townships (so it manages the groups itself), forms a group with the demo assessor for every
    unit, and the assessor has scored the first unit completely and the second in part; the rest
    is to do. The cycle is not run: its year is not over, and the committee runs it once all is
    scored. Returns the number of scores recorded.
    """
    from . import selectors, services

    assessor = User.objects.filter(role=Role.ASSESSOR).order_by("username").first()
    if assessor is None:
        return 0
    county = assessor.region
    committee = User.objects.filter(role=Role.COMMITTEE_STAFF, region=county).first()
    _assign_scored_units(assessor)
    cycle = create_cycle(kind="year_end", year=timezone.localdate().year, root=county, user=committee)
    units = list(Region.objects.filter(code__under=county.code, level__in=cycle.levels).order_by("code"))
    group = services.group_save(user=committee, cycle=cycle, name="第一考核组", members=[assessor], units=units)
    indicators = selectors.assessed_indicators()
    done = indicators + indicators[: len(indicators) // 2]
    for index, indicator in enumerate(done):
        unit = units[0] if index < len(indicators) else units[1]
        score = 72 + (index * 7) % 25
        services.score_record(user=assessor, group=group, unit=unit, indicator=indicator.code, score=score)
    return len(done)


def _assign_scored_units(assessor: User) -> None:
    """The past cycles' groups were filled with scores only: give each the units of its scores
    that the demo assessor covers (a member must cover every unit of the group, services.group_save),
    and take the assessor out of the groups left without any."""
    for group in AssessorGroup.objects.filter(units=None, members=assessor):
        units = set(group.scores.filter(region_code__under=assessor.region.code).values_list("unit_id", flat=True))
        if units:
            group.units.set(units)
        else:
            group.members.remove(assessor)


def seed(run: DemoRun) -> None:
    """The demo step (registered in AssessmentConfig.ready(), run by seed_demo at the small scale)."""
    built = build()
    run.write("Assessment demo: " + ", ".join(f"{k} {v}" for k, v in built.items()))
