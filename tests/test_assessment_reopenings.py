"""Reopenings (SPEC §5.2): an event's or case's state at a period end is what its history shows at
23:59:59 of the period's last day. A resolution (conclusion) reopened before the end does not
count; "resolved in period" means resolved at the end by a resolution that stands then and is
dated within the period, with that resolution's level and timeliness; one reopened after the end
still counts for the period; every reopening counts.

Each record below lives alone in its own township of 城关区 (620102), so a township's counts are
that record's; each is played once through the live services (the clock set to every step's
moment) and once through the historical import, and must score the same both ways. Deadlines come
from the platform's rules and are checked first (normal events: the 5th working day after the
report on the PRC 2025 calendar; cases: 30 days after acceptance).

Events (reported by patrol, category 公共秩序, handled by the county centre):
    E1 T11  reported Mon Mar 3, due Mar 10; resolved Mar 7 (village), reopened Mar 20, resolved
            Apr 8 (village)
              Q1 open and overdue at Mar 31: C04 0/1, C06 0/0      Q2 resolved Apr 8, late: C04 0/1, C06 1/1
    E2 T12  reported Mar 3, due Mar 10; resolved Mar 7 (village), reopened Apr 10, still open
              Q1 resolved Mar 7, on time: C04 1/1, C06 1/1         Q2 open and overdue: C04 0/1, C06 0/0
    E3 T13  reported Tue Mar 25, due Apr 1; resolved Mar 28 (village), reopened Apr 2, escalated,
            resolved Jun 20 (township), reopened Jul 3, escalated, resolved Jul 15 (county)
              Q1 Mar 28 on time: C04 1/1, C06 1/1      Q2 Jun 20 late, township: C04 0/1, C06 1/1
              Q3 Jul 15 late, county: C04 0/1, C06 0/1  Q4 nothing            H1 as Q2, the year as Q3
            (E2 stays open and overdue: C04 0/1 at every later period end)
    E4 T14  the issue's example: reported Mon Jan 27, due Feb 10 (after the Spring Festival);
            resolved Feb 4 (village), reopened Feb 6, escalated twice, resolved Feb 16 (county)
              Q1 late at county level: C04 0/1, C06 0/1 (the first resolution would have been 1/1, 1/1)
Cases (C01 agreed / concluded, C02 on time / concluded + open past 30 days, C06 by a village or
township organisation / concluded); a transfer withdraws the failed conclusion of the organisation
it leaves, and the case counts for the organisation holding it at the period end:
    K1 T15 committee: accepted Feb 10 (due Mar 12), failed Feb 20, transferred Mar 5 to the county
            centre, agreed Apr 10
              Q1 county: open, accepted before Mar 1: C02 0/1; T15 nothing
              Q2 county: agreed Apr 10 late: C01 1/1, C02 0/1, C06 0/1
    K2 T16 committee: accepted Feb 10 (due Mar 12), failed Feb 20, transferred Apr 10 to the county
            centre, open since
              Q1 T16: failed Feb 20 in time: C01 0/1, C02 1/1, C06 1/1      Q2 county: open: C02 0/1
    K3 V17 committee (a village under T17): accepted Mar 3 (due Apr 2), failed Mar 28, transferred
            Apr 3 to T17's committee, failed Jun 20, transferred Jul 3 to the county centre, agreed Jul 15
              Q1 T17 (village): C01 0/1, C02 1/1, C06 1/1   Q2 T17 (township): C01 0/1, C02 0/1, C06 1/1
              Q3 county: C01 1/1, C02 0/1, C06 0/1          H1 as Q2, the year as Q3
The county's own counts add its townships' to the cases it holds itself.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from assessment.engine.facts import Counts, collect_computed
from assessment.engine.trace import trace
from assessment.periods import period_for
from disputes import services as disputes
from disputes.choices import OrgKind
from disputes.models import Case, CaseTransfer, MediationOrganisation
from governance import audit
from governance.choices import Role
from governance.codes import Level
from grids.events.models import EventCategory, GridEvent, WithdrawnResolution
from grids.events.services import events
from grids.models import Region
from tests.factories import RegionFactory, UserFactory

from .factories import arrange
from .test_assessment_rules import check_line, half_year
from .test_interchange import HEADER
from .test_interchange import run as run_import

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")
YEAR = 2025
COUNTY = "620102"
LEVEL_WORDS = {Level.VILLAGE: "village", Level.TOWNSHIP: "township", Level.COUNTY: "county"}


def at(m: int, d: int, hh: int = 10) -> dt.datetime:
    return dt.datetime(YEAR, m, d, hh, tzinfo=TZ)


def due(m: int, d: int) -> dt.datetime:
    return dt.datetime(YEAR, m, d, 23, 59, 59, tzinfo=TZ)


# --- The records, as timelines ------------------------------------------------------------------------------
# (moment, action, details); "resolve" names the level the timeline holds the event at, "transfer" the
# organisation ("county" or "township") it goes to.

EVENTS = {
    "E1": ("620102011", [
        (at(3, 3, 9), "report", {}), (at(3, 3, 9), "accept", {}), (at(3, 3, 11), "self_handle", {}),
        (at(3, 7), "resolve", {"level": Level.VILLAGE}), (at(3, 20), "reopen", {}),
        (at(4, 8), "resolve", {"level": Level.VILLAGE}),
    ]),
    "E2": ("620102012", [
        (at(3, 3, 9), "report", {}), (at(3, 3, 9), "accept", {}), (at(3, 3, 11), "self_handle", {}),
        (at(3, 7), "resolve", {"level": Level.VILLAGE}), (at(4, 10), "reopen", {}),
    ]),
    "E3": ("620102013", [
        (at(3, 25, 9), "report", {}), (at(3, 25, 9), "accept", {}), (at(3, 25, 11), "self_handle", {}),
        (at(3, 28), "resolve", {"level": Level.VILLAGE}), (at(4, 2), "reopen", {}),
        (at(4, 2, 11), "escalate", {}), (at(4, 2, 12), "accept", {}), (at(4, 2, 13), "self_handle", {}),
        (at(6, 20), "resolve", {"level": Level.TOWNSHIP}), (at(7, 3), "reopen", {}),
        (at(7, 3, 11), "escalate", {}), (at(7, 3, 12), "accept", {}), (at(7, 3, 13), "self_handle", {}),
        (at(7, 15), "resolve", {"level": Level.COUNTY}),
    ]),
    "E4": ("620102014", [
        (at(1, 27, 9), "report", {}), (at(1, 27, 9), "accept", {}), (at(1, 27, 11), "self_handle", {}),
        (at(2, 4), "resolve", {"level": Level.VILLAGE}), (at(2, 6), "reopen", {}),
        (at(2, 6, 11), "escalate", {}), (at(2, 6, 12), "accept", {}), (at(2, 6, 13), "escalate", {}),
        (at(2, 6, 14), "accept", {}), (at(2, 6, 15), "self_handle", {}), (at(2, 16), "resolve", {"level": Level.COUNTY}),
    ]),
}  # fmt: skip
EVENT_DEADLINES = {"E1": due(3, 10), "E2": due(3, 10), "E3": due(4, 1), "E4": due(2, 10)}

CASES = {
    "K1": ("t15", [
        (at(2, 10, 9), "register", {}), (at(2, 10), "accept", {}), (at(2, 10, 11), "assign", {}),
        (at(2, 20), "fail", {}), (at(3, 5), "transfer", {"to": "county"}), (at(3, 5, 11), "assign", {}),
        (at(4, 10), "agree", {}),
    ]),
    "K2": ("t16", [
        (at(2, 10, 9), "register", {}), (at(2, 10), "accept", {}), (at(2, 10, 11), "assign", {}),
        (at(2, 20), "fail", {}), (at(4, 10), "transfer", {"to": "county"}),
    ]),
    "K3": ("v17", [
        (at(3, 3, 9), "register", {}), (at(3, 3), "accept", {}), (at(3, 3, 11), "assign", {}),
        (at(3, 28), "fail", {}), (at(4, 3), "transfer", {"to": "t17"}), (at(4, 3, 11), "assign", {}),
        (at(6, 20), "fail", {}), (at(7, 3), "transfer", {"to": "county"}), (at(7, 3, 11), "assign", {}),
        (at(7, 15), "agree", {}),
    ]),
}  # fmt: skip
CASE_DEADLINES = {"K1": due(3, 12), "K2": due(3, 12), "K3": due(4, 2)}

# Expected (numerator, denominator) per unit, indicator and period; a unit or indicator left out has 0/0.
Q1, Q2, Q3, Q4, H1, Y = (
    ("spot_check", 1), ("spot_check", 2), ("spot_check", 3), ("spot_check", 4), ("half_year", None), ("year_end", None)
)  # fmt: skip
EXPECTED = {
    Q1: {
        "620102011": {"C04": (0, 1)},
        "620102012": {"C04": (1, 1), "C06": (1, 1)},
        "620102013": {"C04": (1, 1), "C06": (1, 1)},
        "620102014": {"C04": (0, 1), "C06": (0, 1)},
        "620102016": {"C01": (0, 1), "C02": (1, 1), "C06": (1, 1)},
        "620102017": {"C01": (0, 1), "C02": (1, 1), "C06": (1, 1)},
        COUNTY: {"C04": (2, 4), "C06": (4, 5), "C01": (0, 2), "C02": (2, 3)},  # K1 open past 30 days at the county
    },
    Q2: {
        "620102011": {"C04": (0, 1), "C06": (1, 1)},
        "620102012": {"C04": (0, 1)},
        "620102013": {"C04": (0, 1), "C06": (1, 1)},
        "620102017": {"C01": (0, 1), "C02": (0, 1), "C06": (1, 1)},
        # events E1–E3 (E4 resolved in Q1: out); K1 agreed at the county, K2 open there, K3 at T17
        COUNTY: {"C04": (0, 3), "C06": (3, 4), "C01": (1, 2), "C02": (0, 3)},
    },
    Q3: {
        "620102012": {"C04": (0, 1)},  # E2 is open and overdue at every later period end
        "620102013": {"C04": (0, 1), "C06": (0, 1)},
        COUNTY: {"C04": (0, 2), "C06": (0, 2), "C01": (1, 1), "C02": (0, 2)},  # K2 still open past 30 days
    },
    Q4: {"620102012": {"C04": (0, 1)}, COUNTY: {"C04": (0, 1), "C02": (0, 1)}},
    H1: {
        "620102011": {"C04": (0, 1), "C06": (1, 1)},
        "620102012": {"C04": (0, 1)},
        "620102013": {"C04": (0, 1), "C06": (1, 1)},
        "620102014": {"C04": (0, 1), "C06": (0, 1)},
        "620102017": {"C01": (0, 1), "C02": (0, 1), "C06": (1, 1)},
        COUNTY: {"C04": (0, 4), "C06": (3, 5), "C01": (1, 2), "C02": (0, 3)},
    },
    Y: {
        "620102011": {"C04": (0, 1), "C06": (1, 1)},
        "620102012": {"C04": (0, 1)},
        "620102013": {"C04": (0, 1), "C06": (0, 1)},
        "620102014": {"C04": (0, 1), "C06": (0, 1)},
        COUNTY: {"C04": (0, 4), "C06": (1, 5), "C01": (2, 2), "C02": (0, 3)},
    },
}
INDICATORS = ("C01", "C02", "C04", "C06", "C11")
TOWNSHIPS = [f"6201020{n}" for n in range(11, 18)]


# --- The county ----------------------------------------------------------------------------------------------


@pytest.fixture
def county(world):
    """Townships 620102011–017 of 城关区, each with a village and a grid; committees at T15, T16, T17
    and V17 (the village of T17) and the county's centre, each with a mediator."""
    regions = {}
    for code in TOWNSHIPS:
        town = RegionFactory.child(world.county_a, int(code[-3:]), name=f"测试乡{code[-2:]}")
        village = RegionFactory.child(town, 1, name=f"测试村{code[-2:]}")
        RegionFactory.child(village, 1, name=f"测试网格{code[-2:]}", population=300, households=100)
        regions[code] = town
    orgs = {
        "t15": (regions["620102015"], OrgKind.TOWNSHIP_COMMITTEE),
        "t16": (regions["620102016"], OrgKind.TOWNSHIP_COMMITTEE),
        "t17": (regions["620102017"], OrgKind.TOWNSHIP_COMMITTEE),
        "v17": (Region.objects.get(code="620102017001"), OrgKind.VILLAGE_COMMITTEE),
        "county": (world.county_a, OrgKind.ONE_STOP),
    }
    mediators = {}
    for key, (region, kind) in orgs.items():
        organisation = MediationOrganisation.objects.create(region=region, kind=kind, name=f"{region.name}调解组织")
        orgs[key] = organisation
        mediators[organisation.pk] = UserFactory(
            username=f"mediator_{key}", role=Role.MEDIATOR, region=region, mediation_org=organisation
        )
    return SimpleNamespace(world=world, orgs=orgs, mediators=mediators, centre=world.user_a)


# --- Playing the timelines -----------------------------------------------------------------------------------


def play_services(county, monkeypatch) -> None:
    """Every step through the live services, each at its moment (the services stamp "now")."""
    clock = {}
    monkeypatch.setattr(timezone, "now", lambda: clock["now"])
    user = county.centre
    category = EventCategory.objects.get(code="public_order")
    for name, (township, steps) in EVENTS.items():
        event = None
        for moment, action, _details in steps:
            clock["now"] = moment
            if action == "report":
                grid = Region.objects.get(code=f"{township}001001")
                event, _created = events.event_file(
                    reporter=None, category=category, title=name, description="巡查发现", urgency="normal",
                    source="patrol", region=grid, reported_at=moment,
                )  # fmt: skip
                continue
            step = getattr(events, f"event_{action}")
            inputs = {"resolve": {"resolution": "已处理"}}.get(action, {"reason": "核查发现问题未解决"})
            inputs = {} if action in ("accept", "self_handle") else inputs
            event = step(event=GridEvent.objects.get(pk=event.pk), user=user, **inputs)
    for name, (org_key, steps) in CASES.items():
        organisation, case = county.orgs[org_key], None
        for moment, action, details in steps:
            clock["now"] = moment
            if action == "register":
                case = disputes.case_register(
                    user=user, organisation=organisation, origin_region=organisation.region, dispute_type="neighbour",
                    title=name, facts="当事人申请调解", registered_at=moment,
                )  # fmt: skip
                continue
            case = Case.objects.get(pk=case.pk)
            if action == "accept":
                disputes.case_accept(case=case, user=user)
            elif action == "assign":
                disputes.case_assign(case=case, user=user, mediator=county.mediators[case.organisation_id])
            elif action == "fail":
                disputes.case_fail(case=case, user=user, reason="双方分歧较大")
            elif action == "transfer":
                disputes.case_transfer(case=case, user=user, to=county.orgs[details["to"]], reason="移交上级")
            elif action == "agree":
                disputes.case_agree(case=case, user=user, terms="双方达成协议", signed_on=moment.date())


def import_rows(county) -> list[dict]:
    """The same timelines as a file of the old system."""

    def org_ref(key):
        organisation = county.orgs[key]
        return {"region": organisation.region.code, "name": organisation.name}

    rows = [HEADER]
    for name, (township, steps) in EVENTS.items():
        timeline = []
        for moment, action, details in steps:
            step = {"action": action, "at": moment.isoformat()}
            if action == "resolve":
                step.update(resolution="已处理", level=LEVEL_WORDS[details["level"]])
            elif action in ("reopen", "escalate"):
                step["note"] = "核查发现问题未解决"
            timeline.append(step)
        rows.append({"type": "event", "id": name, "category": "public_order", "title": name, "description": "巡查发现",
                     "urgency": "normal", "source": "patrol", "region": f"{township}001001", "timeline": timeline})  # fmt: skip
    for name, (org_key, steps) in CASES.items():
        timeline, holder, agreed = [], org_key, None
        for moment, action, details in steps:
            step = {"action": action, "at": moment.isoformat()}
            if action == "assign":
                step["mediator"] = f"mediator_{holder}"
            elif action == "fail":
                step["note"] = "双方分歧较大"
            elif action == "transfer":
                holder = details["to"]
                step.update(to=org_ref(holder), note="移交上级")
            elif action == "agree":
                agreed = moment.date()
            timeline.append(step)
        row = {"type": "case", "id": name, "organisation": org_ref(org_key),
               "origin_region": county.orgs[org_key].region.code, "dispute_type": "neighbour", "risk": "general",
               "title": name, "facts": "当事人申请调解", "parties": [], "timeline": timeline}  # fmt: skip
        if agreed:
            row["agreement"] = {"terms": "双方达成协议", "signed_on": agreed.isoformat()}
        rows.append(row)
    return rows


@pytest.fixture(params=["services", "import"])
def played(request, county, monkeypatch):
    """The records, through the live services or through the historical import."""
    if request.param == "services":
        play_services(county, monkeypatch)
    else:
        report = run_import(import_rows(county), user=county.centre)
        assert report.ok and report.created == {"event": 4, "case": 3}, report.as_dict()
    return county


def counts_for(kind: str, quarter: int | None) -> dict:
    """The engine's grouped counts of every township and the county for one period."""
    period = period_for(kind, YEAR, quarter)
    counts = Counts()
    collect_computed(period, COUNTY, [Level.COUNTY, Level.TOWNSHIP], {COUNTY, *TOWNSHIPS}, counts)
    return counts.by_unit


# --- The tests -----------------------------------------------------------------------------------------------


def test_deadlines_and_withdrawn_steps_are_as_worked_out(played):
    for name, deadline in EVENT_DEADLINES.items():
        assert GridEvent.objects.get(title=name).resolve_deadline == deadline, name
    for name, deadline in CASE_DEADLINES.items():
        assert Case.objects.get(title=name).conclusion_deadline == deadline, name
    withdrawn = {
        (w.event.title, timezone.localtime(w.resolved_at).date().isoformat(), w.level,
         timezone.localtime(w.reopened_at).date().isoformat())
        for w in WithdrawnResolution.objects.select_related("event")
    }  # fmt: skip
    assert withdrawn == {
        ("E1", "2025-03-07", Level.VILLAGE, "2025-03-20"),
        ("E2", "2025-03-07", Level.VILLAGE, "2025-04-10"),
        ("E3", "2025-03-28", Level.VILLAGE, "2025-04-02"),
        ("E3", "2025-06-20", Level.TOWNSHIP, "2025-07-03"),
        ("E4", "2025-02-04", Level.VILLAGE, "2025-02-06"),
    }
    transfers = [
        (t.case.title, t.region_code, t.held_from and timezone.localtime(t.held_from).date().isoformat(),
         t.concluded_at and timezone.localtime(t.concluded_at).date().isoformat(), t.outcome,
         timezone.localtime(t.transferred_at).date().isoformat())
        for t in CaseTransfer.objects.select_related("case").order_by("case__title", "transferred_at")
    ]  # fmt: skip
    assert transfers == [
        ("K1", "620102015", None, "2025-02-20", "failed", "2025-03-05"),
        ("K2", "620102016", None, "2025-02-20", "failed", "2025-04-10"),
        ("K3", "620102017001", None, "2025-03-28", "failed", "2025-04-03"),
        ("K3", "620102017", "2025-04-03", "2025-06-20", "failed", "2025-07-03"),
    ]


@pytest.mark.parametrize("period", [Q1, Q2, Q3, Q4, H1, Y], ids=["Q1", "Q2", "Q3", "Q4", "H1", "year"])
def test_each_period_reads_the_resolution_standing_at_its_end(played, period):
    by_unit = counts_for(*period)
    for unit in [COUNTY, *TOWNSHIPS]:
        want = EXPECTED[period].get(unit, {})
        got = {
            code: (by_unit[unit][f"{code}.n"], by_unit[unit][f"{code}.d"])
            for code in INDICATORS
            if by_unit.get(unit, {}).get(f"{code}.d")
        }
        assert got == want, f"{unit} in {period}: {got} ≠ {want}"


def test_the_trace_lists_exactly_the_records_counted(played):
    """Q2 at the county: the same records in numerator and denominator as the numbers."""
    cycle = SimpleNamespace(period=period_for(Q2[0], YEAR, Q2[1]))
    (events_c04,) = trace(cycle, COUNTY, "C04")
    assert sorted((r.title, r.in_numerator) for r in events_c04.rows) == [("E1", False), ("E2", False), ("E3", False)]
    event_set, case_set = trace(cycle, COUNTY, "C06")
    assert sorted((r.title, r.in_numerator, r.level_at_end) for r in event_set.rows) == [
        ("E1", True, Level.VILLAGE),
        ("E3", True, Level.TOWNSHIP),
    ]
    assert sorted((r.title, r.in_numerator, r.code_at_end) for r in case_set.rows) == [
        ("K1", False, COUNTY),
        ("K3", True, "620102017"),
    ]
    (cases_c02,) = trace(cycle, "620102017", "C02")
    assert [(r.title, r.in_numerator, timezone.localtime(r.concluded_at_end).date()) for r in cases_c02.rows] == [
        ("K3", False, dt.date(2025, 6, 20))
    ]


def test_a_half_year_cycle_stores_and_traces_the_standing_resolutions(played, client):
    """The lines a real cycle stores for the first half-year, and its trace page: the standing
    resolution's level and the holder's region shown by name, the counts as stored."""
    cycle = half_year(SimpleNamespace(county=played.world.county_a, units=[played.world.county_a]))
    county = played.world.county_a
    check_line(cycle, county, "C04", num=0, den=4, ratio=0)
    check_line(cycle, county, "C06", num=3, den=5, ratio=0)  # 0.6 < floor 0.7
    check_line(cycle, county, "C01", num=1, den=2, ratio=0)
    check_line(cycle, county, "C02", num=0, den=3, ratio=0)

    client.force_login(played.world.user_a)
    response = client.get(reverse("assessment:trace", args=[cycle.pk, COUNTY, "C06"]))
    assert response.status_code == 200
    event_block, case_block = response.context["blocks"]
    assert (event_block.numerator, event_block.total, case_block.numerator, case_block.total) == (2, 3, 1, 2)
    labels = dict(event_block.columns)
    assert labels["resolved_at_end"] == "期末有效的办结时间" and labels["level_at_end"] == "期末有效办结的化解层级"
    level = [c for c, _label in event_block.columns].index("level_at_end")
    assert sorted(r["cells"][level] for r in event_block.rows) == ["乡镇（街道）", "县（区）", "村（社区）"]
    outcome = [c for c, _label in case_block.columns].index("outcome_at_end")
    assert sorted(r["cells"][outcome] for r in case_block.rows) == ["调解不成", "调解成功"]


def test_the_back_fill_rebuilds_from_the_history_what_the_steps_wrote(played):
    """The data migrations read existing history the way the lifecycle steps write it."""
    from importlib import import_module

    from django.apps import apps

    def stored():
        return (
            sorted(WithdrawnResolution.objects.values_list("event__title", "resolved_at", "level", "reopened_at")),
            sorted(
                CaseTransfer.objects.values_list(
                    "case__title", "region_code", "held_from", "concluded_at", "outcome", "transferred_at"
                )
            ),
            sorted(Case.objects.values_list("title", "transferred_at")),
        )

    written = stored()
    WithdrawnResolution.objects.all().delete()
    CaseTransfer.objects.all().delete()
    arrange(Case.objects, transferred_at=None)
    # A migration's back-fill writes through historical models (plain managers, no audit); run here on the
    # live models, it writes as inside a recorded bulk operation.
    with audit.bulk_entry_recorded():
        import_module("grids.migrations.0008_withdrawn_resolutions").backfill(apps, None)
        import_module("disputes.migrations.0005_case_transfers").backfill(apps, None)
    assert stored() == written


def test_a_refused_reopening_or_transfer_withdraws_nothing(county, monkeypatch):
    """A second reopening of an event already back in handling, and a transfer downwards, are
    refused by the services and leave no withdrawn resolution or transfer behind."""
    from disputes.lifecycle import CaseError
    from grids.events.lifecycle import TransitionError

    play_services(county, monkeypatch)
    before = (WithdrawnResolution.objects.count(), CaseTransfer.objects.count())
    e2 = GridEvent.objects.get(title="E2")  # reopened Apr 10, still in handling
    with pytest.raises(TransitionError):
        events.event_reopen(event=e2, user=county.centre, reason="再次核查")
    k2 = Case.objects.get(title="K2")  # at the county centre since Apr 10
    with pytest.raises(CaseError) as refused:
        disputes.case_transfer(case=k2, user=county.centre, to=county.orgs["t16"], reason="退回乡镇")
    assert refused.value.message_dict == {"to": ["只能移交给上级区划的调解组织。"]}
    assert (WithdrawnResolution.objects.count(), CaseTransfer.objects.count()) == before == (5, 4)
    assert GridEvent.objects.get(pk=e2.pk).status == "handling"
    assert Case.objects.get(pk=k2.pk).organisation == county.orgs["county"]
