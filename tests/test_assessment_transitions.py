"""The assessment inputs' state machines (assessment.transitions) on the shared mechanism: every
state's outgoing transitions as SPEC §5.3–§5.4 list them, who may take each, and a refused step
that leaves the record and the audit trail as they were."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from assessment import services, transitions
from assessment.choices import AppealStatus, ClaimStatus, RectificationStatus, RulingStatus
from assessment.models import Cycle, RectificationItem, ToleranceClaim, VetoRuling
from governance.choices import Role
from governance.models import AuditLog
from governance.roles import CAPABILITIES
from tests.factories import UserFactory

# state -> {transition: target}, for every state of each record (an empty dict: nothing leaves it).
EXPECTED = {
    "RULINGS": (
        RulingStatus,
        {
            RulingStatus.IN_FORCE: {"appeal": RulingStatus.APPEALED},
            RulingStatus.APPEALED: {"uphold": RulingStatus.UPHELD, "revoke": RulingStatus.REVOKED},
            RulingStatus.UPHELD: {},
            RulingStatus.REVOKED: {},
        },
    ),
    "CLAIMS": (
        ClaimStatus,
        {
            ClaimStatus.PENDING: {"approve": ClaimStatus.APPROVED, "reject": ClaimStatus.REJECTED},
            ClaimStatus.APPROVED: {},
            ClaimStatus.REJECTED: {},
        },
    ),
    "RECTIFICATIONS": (
        RectificationStatus,
        {
            RectificationStatus.OPEN: {"report": RectificationStatus.REPORTED},
            RectificationStatus.REPORTED: {"close": RectificationStatus.CLOSED, "return": RectificationStatus.OPEN},
            RectificationStatus.CLOSED: {},
        },
    ),
    "APPEALS": (
        AppealStatus,
        {
            AppealStatus.FILED: {"uphold": AppealStatus.UPHELD, "dismiss": AppealStatus.DISMISSED},
            AppealStatus.UPHELD: {},
            AppealStatus.DISMISSED: {},
        },
    ),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_state_has_the_outgoing_transitions_spec_lists(name):
    machine = getattr(transitions, name)
    statuses, expected = EXPECTED[name]
    assert set(expected) == set(statuses.values)
    for state, moves in expected.items():
        assert {t.name: t.target for t in machine.from_state(state)} == moves, (name, state)
    for t in machine:
        assert t.capability in CAPABILITIES, t.capability


@pytest.fixture
def actors(world, people):
    return {
        "unit": people["township"],  # centre staff of township A
        "unit_b": UserFactory(username="township_b", role=Role.CENTRE_STAFF, region=world.township_b),
        "committee_a": UserFactory(username="zfw_a", role=Role.COMMITTEE_STAFF, region=world.county_a),
        "committee_t": UserFactory(username="zfw_t", role=Role.COMMITTEE_STAFF, region=world.township_a),
        "assessor_a": UserFactory(username="khy_a", role=Role.ASSESSOR, region=world.county_a),
        "assessor_b": UserFactory(username="khy_b", role=Role.ASSESSOR, region=world.county_b),
    }


def allowed(machine, actors, record) -> dict[str, list[str]]:
    return {key: machine.allowed_names(user, record) for key, user in actors.items()}


def test_allowed_transitions_follow_the_actor_rules(world, actors):
    code = world.township_a.code
    ruling = VetoRuling(region_code=code, status=RulingStatus.IN_FORCE)
    assert allowed(transitions.RULINGS, actors, ruling) == {
        "unit": ["appeal"],  # the unit's own staff (the township's committee staff too)
        "unit_b": [],
        "committee_a": [],  # above the unit, but appealing is the unit's
        "committee_t": ["appeal"],
        "assessor_a": [],
        "assessor_b": [],
    }
    ruling.status = RulingStatus.APPEALED
    assert allowed(transitions.RULINGS, actors, ruling) == {
        "unit": [],
        "unit_b": [],
        "committee_a": ["uphold", "revoke"],  # strictly above the unit
        "committee_t": [],  # the unit never decides about itself
        "assessor_a": [],
        "assessor_b": [],
    }
    claim = ToleranceClaim(region_code=code, status=ClaimStatus.PENDING)
    assert allowed(transitions.CLAIMS, actors, claim) == {
        "unit": [],
        "unit_b": [],
        "committee_a": ["approve", "reject"],
        "committee_t": [],
        "assessor_a": ["approve", "reject"],  # an assessor covering the unit
        "assessor_b": [],
    }
    item = RectificationItem(region_code=code, status=RectificationStatus.REPORTED)
    assert allowed(transitions.RECTIFICATIONS, actors, item) == {
        "unit": [],
        "unit_b": [],
        "committee_a": [],  # rechecking is the assessors' capability
        "committee_t": [],
        "assessor_a": ["close", "return"],
        "assessor_b": [],
    }


def test_a_refused_step_writes_nothing(world, actors):
    cycle = Cycle.objects.create(kind="year_end", year=2026, root=world.city, levels=[2, 3, 4])
    today = timezone.localdate()
    item = RectificationItem.objects.create(
        cycle=cycle, unit=world.township_a, indicator="C04", ratio=Decimal("0.4"),
        notice_due_on=today + dt.timedelta(days=14), due_on=today + dt.timedelta(days=44),
    )  # fmt: skip
    trail = AuditLog.objects.count()
    with pytest.raises(services.InputError) as refused:
        services.rectification_close(user=actors["assessor_a"], item=item)  # not reported yet
    assert refused.value.code == "illegal_transition"
    assert refused.value.messages == ["当前状态为“待整改”，不能复查销号。"]
    with pytest.raises(services.InputError) as refused:
        services.rectification_report(user=actors["unit_b"], item=item, report="已整改。")  # another unit
    assert refused.value.code == "not_allowed"
    assert refused.value.messages == ["您无权报送整改报告。"]
    item.refresh_from_db()
    assert (item.status, item.report, item.reported_at) == (RectificationStatus.OPEN, "", None)
    assert AuditLog.objects.count() == trail
