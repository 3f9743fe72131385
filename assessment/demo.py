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
from governance.models import User
from grids.choices import EventStatus, Level
from grids.models import EventCategory, GridEvent, Region
from grids.sla import add_limit, limits_for

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
from .services import AssessmentError, create_cycle, finalise, publish, run_cycle


def _at(rng: random.Random, year: int) -> dt.datetime:
    day = dt.date(year, 1, 1) + dt.timedelta(days=rng.randrange(365))
    return timezone.make_aware(dt.datetime.combine(day, dt.time(rng.randrange(8, 18), rng.randrange(60))))


class AssessmentDemo:
    def __init__(self, year: int, seed: int = 2026):
        self.year = year
        self.rng = random.Random(seed)
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
        audit.record(
            AuditAction.BULK,
            model_label="assessment.cycle",
            object_repr=f"assessment demo {self.year}",
            region_code=self.province.code,
            changes=counts,
        )
        return counts

    def _events(self) -> int:
        categories = list(EventCategory.objects.filter(parent__isnull=False))
        workers = {u.region_id: u for u in User.objects.filter(role=Role.GRID_WORKER)}
        rows = []
        for grid in self.grids:
            for _ in range(self.rng.randint(20, 40)):
                category = self.rng.choice(categories)
                urgency = self.rng.choice(["normal", "normal", "normal", "urgent"])
                limits = limits_for(category, urgency)
                reported = _at(self.rng, self.year)
                respond_deadline = add_limit(reported, limits.respond)
                resolve_deadline = add_limit(reported, limits.resolve)
                roll = self.rng.random()
                responded = reported + dt.timedelta(minutes=self.rng.randint(5, 50 if roll < 0.9 else 200))
                resolved = None
                if roll < 0.93:
                    late = self.rng.random() < 0.12
                    resolved = resolve_deadline + dt.timedelta(days=2) if late else responded + dt.timedelta(days=1)
                feedback_at = resolved + dt.timedelta(days=2) if resolved else None
                level = self.rng.choice([Level.VILLAGE, Level.VILLAGE, Level.TOWNSHIP, Level.COUNTY])
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
                        feedback=self.rng.choice(["satisfied"] * 8 + ["basically", "dissatisfied"]) if resolved else "",
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
            for i in range(self.rng.randint(8, 16)):
                registered = _at(self.rng, self.year)
                accepted = registered + dt.timedelta(hours=3)
                deadline, warn = conclusion_deadlines(accepted)
                concluded = accepted + dt.timedelta(days=self.rng.choice([5, 12, 20, 28, 35]))
                agreed = self.rng.random() < 0.85
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
        for case in Case.objects.filter(outcome="agreed", concluded_at__year=self.year):
            visited = timezone.localtime(case.concluded_at).date() + dt.timedelta(days=7)
            if visited.year == self.year:
                follow_ups.append(
                    FollowUp(
                        case=case,
                        visited_on=visited,
                        fulfilment=self.rng.choice(["full"] * 8 + ["partly", "not"]),
                        satisfaction=self.rng.choice(["satisfied"] * 7 + ["basically", "basically", "dissatisfied"]),
                    )
                )
        FollowUp.objects.bulk_create(follow_ups, batch_size=1000)
        return len(cases)

    def _monthly_reports(self) -> int:
        rows = []
        for t, township in enumerate(self.townships):
            for month_number in range(1, 13):
                month = dt.date(self.year, month_number, 1)
                deadline = month_deadline(month)
                late = t == 1 and month_number == 5  # one township sent May's table late
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
                        petitions_resolved_first=self.rng.randint(received // 2, received),
                        criminal_cases=self.rng.randint(0, 3),
                        key_persons_registered=registered,
                        key_persons_managed=registered - self.rng.randint(0, 2),
                        households_reached=max(township.households, 100) // self.rng.randint(8, 14),
                        cadres=cadres,
                        cadres_on_track=cadres - self.rng.randint(0, 6),
                    )
                )
        MonthlyReport.objects.bulk_create(rows, batch_size=1000)
        return len(rows)

    def _surveys(self) -> int:
        rows = []
        for village in self.villages:
            for channel, count in (("online", 14), ("offline", 12)):
                for i in range(count):
                    rows.append(
                        SurveyResponse(
                            village=village,
                            region_code=village.code,
                            channel=channel,
                            answered_at=_at(self.rng, self.year),
                            safety=self.rng.choice(["safe"] * 6 + ["fairly_safe"] * 3 + ["not_very_safe"]),
                            satisfaction=self.rng.choice(["satisfied"] * 6 + ["basically"] * 3 + ["dissatisfied"]),
                            awareness=self.rng.choice(["aware"] * 4 + ["unaware"]),
                            household=str(i + 1) if channel == "offline" else "",
                            evaluator=self.assessor if channel == "offline" else None,
                            client_key=f"demo-{village.code}-{channel}-{i}",
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
                    base = 70 + (int(code[-3:]) * 7 + len(indicator) * 3 + sum(map(ord, indicator))) % 26
                    scores.append(
                        AssessorScore(
                            cycle=cycle,
                            group=group,
                            unit_id=pk,
                            region_code=code,
                            indicator=indicator,
                            score=Decimal(min(100, base + self.rng.randint(0, 8))),
                            scored_by=self.assessor,
                        )
                    )
        AssessorScore.objects.bulk_create(scores, batch_size=2000)

    def run_cycles(self) -> list:
        """Every cycle of the year: four spot-checks, the half-year and the year-end, each run
        once to learn its units, scored by two groups, and run again with the scores."""
        cycles = [create_cycle(kind="spot_check", year=self.year, quarter=q, root=self.province) for q in (1, 2, 3, 4)]
        cycles += [create_cycle(kind=k, year=self.year, root=self.province) for k in ("half_year", "year_end")]
        for cycle in cycles:
            run_cycle(cycle.pk)
            self._score(cycle)
            run_cycle(cycle.pk)
        for cycle in cycles:  # last year is over: finalised and published, so every level sees it
            # if something blocks a cycle it stays computed, as its page explains
            with contextlib.suppress(AssessmentError):
                publish(finalise(cycle, user=None), user=None)
        return cycles


def build(year: int | None = None) -> dict[str, int]:
    year = year or timezone.localdate().year - 1
    demo = AssessmentDemo(year)
    counts = demo.build_records()
    counts["cycles"] = len(demo.run_cycles())
    return counts
