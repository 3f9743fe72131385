"""Issue #6: an export of a past year's records, imported into an emptied county, gives the same
assessment results as the records it was made from (docs/import-format.md)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from assessment import services as assessment
from assessment.models import IndicatorResult, UnitResult
from disputes.models import Case, CaseHistory, FollowUp, JudicialConfirmation, MediationSession, Party
from governance.interchange.exporter import export_records
from governance.interchange.importer import import_records
from governance.models import ExternalRef
from grids.events.models import EventDispatch, EventHistory, GridEvent, VisitRecord
from grids.models import GridWorker

from .test_interchange import HEADER, at, case_row, check_ids, event_row, run, worker_row

YEAR = 2025


def past_year_records(world, mediation) -> list[dict]:
    """A small county's year: a closed event, a closed one with a dissatisfied resident, a returned one and an
    escalated one; an agreed case and an open, later repeat case."""
    dissatisfied = event_row(world, 2, title="道路破损", timeline=[
        {"action": "report", "at": at(YEAR, 3, 3, 9)},
        {"action": "accept", "at": at(YEAR, 3, 3, 9, 20)},
        {"action": "self_handle", "at": at(YEAR, 3, 3, 10)},
        {"action": "resolve", "at": at(YEAR, 3, 5, 15), "resolution": "已修复", "level": "village"},
        {"action": "verify", "at": at(YEAR, 3, 5, 17)},
        {"action": "feedback", "at": at(YEAR, 3, 6, 10), "feedback": "dissatisfied"},
        {"action": "close", "at": at(YEAR, 3, 6, 11)},
    ])  # fmt: skip
    returned = event_row(world, 3, title="重复反映", timeline=[
        {"action": "report", "at": at(YEAR, 5, 12, 9)},
        {"action": "return", "at": at(YEAR, 5, 12, 10), "note": "重复"},
    ])  # fmt: skip
    escalated = event_row(world, 4, title="上报", region=world.grid_a2.code, timeline=[
        {"action": "report", "at": at(YEAR, 9, 1, 9)},
        {"action": "accept", "at": at(YEAR, 9, 1, 11)},
        {"action": "escalate", "at": at(YEAR, 9, 1, 12), "note": "需乡镇协调"},
    ])  # fmt: skip
    open_case = case_row(world, mediation, 2, dispute_type="labour", timeline=[
        {"action": "register", "at": at(YEAR, 6, 1, 9)}, {"action": "accept", "at": at(YEAR, 6, 1, 10)},
    ], sessions=[], agreement=None, follow_ups=[], confirmation=None)  # fmt: skip
    return [HEADER, worker_row(world), event_row(world, 1), dissatisfied, returned, escalated,
            case_row(world, mediation, 1), open_case]  # fmt: skip


def results(cycle) -> dict:
    return {
        "units": sorted(UnitResult.objects.filter(cycle=cycle).values_list("region__code", "total", "total_exact")),
        "lines": sorted(
            IndicatorResult.objects.filter(cycle=cycle).values_list(
                "unit__region__code", "indicator", "status", "numerator", "denominator", "points"
            ),
            key=str,
        ),
    }


def compute(kind, root):
    cycle = assessment.create_cycle(kind=kind, year=YEAR, root=root)
    assessment.run_cycle(cycle.pk, progress=lambda pct, note: None)
    return cycle


def wipe_records():
    for model in (Party, CaseHistory, MediationSession, FollowUp, JudicialConfirmation, Case, EventHistory,
                  EventDispatch, GridEvent, VisitRecord, GridWorker, ExternalRef):  # fmt: skip
        model.objects.all().delete()


def test_an_imported_export_of_a_past_year_gives_identical_assessment_results(world, mediation):
    check_ids()
    loaded = run(past_year_records(world, mediation))
    assert loaded.ok and loaded.written, loaded.as_dict()
    assert GridEvent.objects.filter(reported_at__year=YEAR).count() == 4 and Case.objects.count() == 2

    cycles = [compute(kind, world.county_a) for kind in ("half_year", "year_end")]
    before = [results(cycle) for cycle in cycles]
    assert all(b["units"] and b["lines"] for b in before)
    scored = [line for b in before for line in b["lines"] if line[2] == "scored"]
    assert scored, "the records should feed at least one scored indicator"

    lines = list(export_records(code=world.county_a.code, start=dt.date(YEAR, 1, 1), end=dt.date(YEAR, 12, 31)))
    assert sum('"type":"event"' in line for line in lines) == 4 and sum('"type":"case"' in line for line in lines) == 2
    wipe_records()
    assert GridEvent.objects.count() == Case.objects.count() == 0

    report = import_records(open_stream=lambda: iter(lines))
    assert report.ok and report.written, report.as_dict()
    after = [results(compute(cycle.kind, world.county_a)) for cycle in cycles]
    for b, a in zip(before, after, strict=True):
        assert a["units"] == b["units"]
        assert a["lines"] == b["lines"]


def _accounts() -> list[dict]:
    """The platform accounts other than grid workers' (those the import creates), to set up again."""
    from governance.models import User

    return [
        {"username": u.username, "role": u.role, "region": u.region.code if u.region_id else None,
         "org": (u.mediation_org.region.code, u.mediation_org.name) if u.mediation_org_id else None,
         "is_superuser": u.is_superuser}
        for u in User.objects.exclude(role="grid_worker").select_related("region", "mediation_org__region")
    ]  # fmt: skip


def _set_up_accounts(accounts: list[dict]) -> None:
    from disputes.models import MediationOrganisation
    from governance.models import User
    from grids.models import Region

    for a in accounts:  # those of the moved county and above it
        org = (
            MediationOrganisation.objects.filter(region__code=a["org"][0], name=a["org"][1]).first()
            if a["org"]
            else None
        )
        region = Region.objects.filter(code=a["region"]).first() if a["region"] else None
        if (a["region"] and region is None) or (a["org"] and org is None):
            continue
        User.objects.create(username=a["username"], role=a["role"], region=region, mediation_org=org,
                            is_superuser=a["is_superuser"])  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_a_countys_year_exported_and_imported_into_an_empty_database_assesses_the_same(world, mediation):
    """Every record type of a county's year (the hand-checked year of test_interchange_county_year), its
    half-year and year-end results; then export → flush the whole database → import → the same results."""
    from django.core.management import call_command

    from assessment.models import AssessorGroup
    from grids.events.catalogue import install_defaults
    from grids.events.models import EventCategory, SlaPolicy
    from grids.models import Region

    from .conftest import restore_indicator_catalogue
    from .test_interchange_county_year import COUNTY, score_rows, year_records

    def cycles_with_groups(units_by_kind=None):
        made = {}
        for kind in ("half_year", "year_end"):
            cycle = assessment.create_cycle(kind=kind, year=YEAR, root=Region.objects.get(code=COUNTY))
            units = list(Region.objects.filter(code__in=units_by_kind[kind])) if units_by_kind else list(
                Region.objects.filter(code__startswith=COUNTY, level__in=[3, 4]))  # fmt: skip
            for name in ("第一考核组", "第二考核组"):
                AssessorGroup.objects.create(cycle=cycle, name=name).units.add(*units)
            made[kind] = (cycle, sorted(u.code for u in units))
        return made

    def computed(made):
        for cycle, _units in made.values():
            assessment.run_cycle(cycle.pk, progress=lambda pct, note: None)
        return [results(cycle) for cycle, _units in made.values()]

    loaded = run(year_records(mediation))
    assert loaded.ok and loaded.written, loaded.as_dict()["rejected"][:3]
    made = cycles_with_groups()
    scores = run([HEADER] + [row for cycle, units in made.values() for row in score_rows(cycle, units)])
    assert scores.ok and scores.written, scores.as_dict()["rejected"][:3]
    before = computed(made)
    assert all(b["units"] and b["lines"] for b in before)
    lines = list(export_records(code=COUNTY, start=dt.date(YEAR, 1, 1), end=dt.date(YEAR, 12, 31)))
    accounts, units = _accounts(), {kind: units for kind, (_cycle, units) in made.items()}

    call_command("flush", interactive=False, verbosity=0)
    assert not Region.objects.exists() and not GridEvent.objects.exists()
    install_defaults(EventCategory, SlaPolicy)
    restore_indicator_catalogue()
    kinds = ("header", "region", "department", "mediation_organisation")
    directory = [line for line in lines if json.loads(line)["type"] in kinds]
    first = import_records(open_stream=lambda: iter(directory))
    assert first.ok and first.written, first.as_dict()["rejected"][:3]
    _set_up_accounts(accounts)  # as a county moving in sets up its staff once its regions exist,
    again = cycles_with_groups(units)  # and its cycles and assessor groups before the scores come in

    report = import_records(open_stream=lambda: iter(lines))
    assert report.ok and report.written, report.as_dict()["rejected"][:3]
    assert not report.created.get("region") and report.created["event"] == 11 and report.created["case"] == 4
    assert report.created["assessor_score"] == 2 * 2 * 9 * 3  # cycles × groups × indicators × units
    after = computed(again)
    for b, a in zip(before, after, strict=True):
        assert a["units"] == b["units"]
        assert a["lines"] == b["lines"]
