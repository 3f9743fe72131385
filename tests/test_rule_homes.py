"""Every number of SPEC has one home: a named constant (or setting) in the app that owns the rule,
imported wherever it is used — in code, in messages and in templates. These scans fail when a
number is written again somewhere else."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.template.loader import render_to_string
from django.utils import translation

ROOT = Path(__file__).resolve().parent.parent
APPS = ("governance", "grids", "disputes", "assessment", "dashboard")


def sources(suffixes=(".py",), roots=APPS):
    for root in roots:
        for path in (ROOT / root).rglob("*"):
            if path.suffix in suffixes and "migrations" not in path.parts:
                yield path.relative_to(ROOT).as_posix(), path.read_text(encoding="utf-8")


# (what, pattern, the one module allowed to state it)
RULES = [
    (
        "grid sizing",
        r"^\s*[A-Z_]*(RESIDENTS_PER|RADIUS_KM|HOUSEHOLDS)[A-Z_]*\s*=\s*[\d({]",
        "grids/models.py",
    ),
    ("SLA default limits", r"\bLimit\(\s*\d|\(\s*\d+\s*,\s*\"(hours|working_days|days)\"\s*\)", "grids/events/sla.py"),
    ("the case limit of 30 days", r"timedelta\(days=30\)|^\s*CONCLUSION_DAYS\s*=", "disputes/lifecycle.py"),
    ("the 30-answer survey minimum", r"_n\s*>=\s*\d|^\s*SURVEY_MIN_ANSWERS\s*=", "assessment/engine/scoring.py"),
    (
        "the 15-point score spread",
        r"(Decimal|Fraction)\(15\)|^\s*SPREAD_LIMIT_POINTS\s*=",
        "assessment/engine/scoring.py",
    ),
    ("appeal deadlines", r"^\s*(APPEAL|DECISION)_WORKING_DAYS\s*=", "assessment/rules.py"),
    ("the upload limit", r"^\s*UPLOAD_MAX_MB\s*=", "governance/settings.py"),
]


@pytest.mark.parametrize(("what", "pattern", "home"), RULES, ids=[r[0] for r in RULES])
def test_a_rule_is_stated_only_in_its_home(what, pattern, home):
    found = [path for path, text in sources() if re.search(pattern, text, re.M)]
    assert found == [home], f"{what} is stated in {found}; import it from {home}"


# A module-level constant given a literal value in two modules is one rule stated twice.
NOT_RULES = {"PAGE_SIZE", "CHUNK"}  # a list page's length; two unrelated buffer sizes
LITERAL_CONSTANT = re.compile(
    r"^([A-Z][A-Z0-9_]+)\s*(?::[^=\n]+)?=\s*(?:Decimal\(|Fraction\(|timedelta\()?[\"']?-?\d", re.M
)


def test_no_constant_is_defined_twice():
    homes = defaultdict(list)
    for path, text in sources():
        for match in LITERAL_CONSTANT.finditer(text):
            homes[match.group(1)].append(path)
    twice = {name: paths for name, paths in homes.items() if len(paths) > 1 and name not in NOT_RULES}
    assert twice == {}


# A number followed by what SPEC counts, inside Chinese text: a message that writes a rule's
# number instead of interpolating its constant.
NUMBER_IN_TEXT = re.compile(
    r"\d+(?:\.\d+)?\s?(?:个工作日|个月|日内|天内|份|名居民|户|公里|MB|%|％|分钟|人及以上|次)|(?:超过|不超过|低于|高于)\d+|[到–]\d+分"
)
CHINESE = re.compile(r"[\u4e00-\u9fff]")
NOT_RULE_TEXT = ("0–100%", "只需1分钟")  # a score scale; "takes a minute" on the public survey


def test_no_message_or_template_writes_a_rule_number():
    found = []
    for path, text in sources((".py", ".html"), (*APPS, "templates")):
        for number, line in enumerate(text.splitlines(), start=1):
            for match in NUMBER_IN_TEXT.finditer(line):
                context = line[max(0, match.start() - 8) : match.end() + 4]
                if CHINESE.search(context) and not any(ok in line for ok in NOT_RULE_TEXT):
                    found.append(f"{path}:{number}: {context}")
    assert found == []


@pytest.mark.django_db
def test_templates_name_the_published_numbers(settings, rf):
    """The numbers come from their homes (a setting change shows at once) and translate."""
    from governance.rules import rules

    request = rf.get("/")
    settings.LOGIN_MAX_FAILURES = 7
    login = render_to_string("registration/login.html", rules(request), request=request)
    assert "连续7次密码错误将锁定账户30分钟" in login
    with translation.override("en"):
        region = SimpleNamespace(name="甲县", code="620102", get_level_display="县", population=1, households=1)
        context = {"region": region, "flag_totals": [("户数", "households", 1)]}
        overview = render_to_string("dashboard/_region_overview.html", rules(request) | context, request=request)
    assert "rural grids 80–120 households, urban grids at most 300 households" in overview
    assert "at most 500 residents" in overview and "2 km in rural areas and 0.5 km" in overview
