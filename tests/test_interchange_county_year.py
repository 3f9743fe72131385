"""Issue #6: a small county's full past year, moved in through the interchange file
(docs/import-format.md), then assessed — Q1–Q4 spot-checks, the half-year evaluation and the
year-end assessment — and checked against values worked out by hand (SPEC §5, indicators.csv,
docs/assessment.md). Two imports, as a county moving in would do them: the year's records,
then (once the cycles and their assessor groups exist) the assessors' scores.

The county 城关区 620102 (plain; the `world` fixture's county A, its regions rewritten by the file)
----------------------------------------------------------------------------------------------
    T1 620102001 甲街道  20 000 residents, 6 000 households (fixture township)
       village 甲社区 (V1): grids G1 and G2, 450 residents each
    T2 620102002 新安镇  10 000 residents, 2 500 households (new: created by the file)
       village 新安村 (V2): grid G3, 500 residents
Grid workers (all full-time unless said): F on G1 (the fixture's, no account, never active);
W1 on G1 since 2024-03; W2 on G2 from 2025-04-01; W5 part-time on G2; W3 on G3 until 2025-09-30,
W4 on G3 from 2025-10-01. Visits: W1 20 a month (15 in November), W2 20 a month Apr–Dec, W3 20 a
month Jan–Sep, W4 20 a month Oct–Dec.
Monthly tables Dec 2024 – Dec 2025 of both townships, on the 3rd of the next month (December 2025's
on Dec 31), except T2's August table (Sep 8, late: due Sep 5) and T2's October table (never sent):
    T1: funding 10 000, mediators 6 + 0, petitions 10 / 8, 1 crime, key persons 40 / 38 (39 from
        June), 2 000 households reached, cadres 20 / 16
    T2: funding 3 000, mediators 3 + 2, petitions 5 / 5, 1 crime, key persons 10 / 10, 500
        households reached, cadres 10 / 10
Survey answers (yes = 安全/比较安全, 满意/基本满意, 知晓; B01 / B02 / C15 yes per group):
    T1 Q1 40 online all yes; Q2 40 online all yes + 30 offline (27 / 24 / 30); Q3 20 online all
       yes; Q4 40 online (34 / 40 / 34)
    T2 Q1 and Q3: 30 online (24 / 30 / 24)
Events (deadlines from the PRC working calendar: normal = answer in 1 h, resolve by the 5th
working day; urgent = resolve in 24 h):
    E1  T1 Jan 6   accepted in time, resolved Jan 8 at village level (due Jan 13), 满意
    E2  T1 Feb 10  安全生产, urgent: dispatched, returned by the department, escalated to the
                   township, dispatched again, resolved Feb 12 09:00 (due Feb 11 10:00), 基本满意
    E3  T1 Mar 3   returned at 10:00, an hour after its response deadline
    E4  T1 Apr 2   resolved Apr 9 (due Apr 10, after Qingming), reopened Apr 10, resolved again Apr 15
                   (late: the resolution standing at every period end from Q2 on), 不满意
    E5  T1 Sep 29  escalated twice to the county, dispatched, resolved Oct 11 (due Oct 13, after
                   National Day; Oct 11 is a working Saturday), 满意
    E6  T1 Dec 1   安全生产, a resident's report, accepted, still open (due Dec 8)
    E7  T2 Jan 23  resolved Feb 6 18:00 (due Feb 6, after the Spring Festival), 满意
    E8  T2 May 12  urgent, accepted 10:30 (due 10:00), dispatched, resolved May 13 08:00 (due 09:00), 基本满意
    E9  T2 Jul 7   resolved Jul 16 (due Jul 14), 满意
    E10 T2 Dec 29  accepted, open, due in 2026
    E11 T2 Dec 31 23:30, unanswered: its response deadline (00:30) lies after the year
Mediation cases:
    K1 甲社区调委会  accepted Jan 8 (due Feb 7), agreed Jan 20; follow-ups Feb 20 partly fulfilled
       (基本满意) and Apr 15 fully (满意); judicial confirmation applied Jan 22, due the 7th working
       day after (Feb 7, over the Spring Festival), decided Feb 6
    K2 甲社区调委会  accepted Mar 3 (due Apr 2), failed Apr 1, referred to litigation; a party of K1
       (repeat)
    K3 甲社区调委会, transferred May 20 to the county's 矛调中心 before any conclusion (it then counts
       for the county), agreed Jun 10: late, the transfer keeps the Jun 5 deadline; follow-up Jun 20
       fully fulfilled but 不满意; confirmation applied Jun 16 (due Jun 25), decided Jul 10
    K4 county 矛调中心 (a dispute from T2), accepted Aug 4, still mediating; a party of K1 (repeat)
Rulings: V03 on T2 (Aug 12, in force); V01 on T1 (revoked). Innovation award: T1 +1.5.
Assessor scores (two groups, every assessed indicator, every cycle): T1 100/100 except B06
80/90; T2 80/80; the county 90/90 except D04 70/80.

The spot-check samples are random (ceil(0.2 × 2) = 1 township per quarter): every quarter's
score is worked out for both townships and the drawn one is checked.
"""

from __future__ import annotations

import datetime as dt
import time
from fractions import Fraction as F

from django.utils import timezone

from assessment import services
from assessment.choices import CycleKind, CycleStatus, Grade, LineStatus
from assessment.models import AnnualResult, AssessorGroup, MonthlyReport, UnitResult
from disputes.models import Case, JudicialConfirmation
from disputes.validators import id_check_digit
from grids.events.models import GridEvent, VisitRecord
from grids.models import GridWorker, Region

from .test_assessment_rules import check_line, check_total, half_up
from .test_interchange import HEADER, at, run

YEAR = 2025
COUNTY = "620102"
T1, V1 = "620102001", "620102001001"
G1, G2 = V1 + "001", V1 + "002"
T2, V2 = "620102002", "620102002001"
G3 = V2 + "001"
ASSESSED = ("A01", "A06", "B05", "B06", "B07", "C14", "D04", "D05", "D06")
SCORES = {  # unit: (first group, second group), with exceptions per indicator
    COUNTY: ((90, 90), {"D04": (70, 80)}),
    T1: ((100, 100), {"B06": (80, 90)}),
    T2: ((80, 80), {}),
}
POLICE = {"region": COUNTY, "name": "城关区公安分局"}  # the fixture's department of county A


# --- The file ---------------------------------------------------------------------------------------------


def citizen_id(n: int) -> str:
    first17 = f"62010219800101{n:03d}"
    return first17 + id_check_digit(first17)


def step(action: str, month: int, day: int, hh: int, mm: int = 0, **data) -> dict:
    return {"action": action, "at": at(YEAR, month, day, hh, mm), **data}


def region_rows() -> list[dict]:
    def row(code, name, level, population, households, **extra):
        return {"type": "region", "code": code, "name": name, "level": level, "terrain": "plain",
                "population": population, "households": households, **extra}  # fmt: skip

    return [
        row(COUNTY, "城关区", "county", 30000, 8500),
        row(T1, "甲街道", "township", 20000, 6000),
        row(V1, "甲社区", "village", 900, 300),
        row(G1, "甲社区第1网格", "grid", 450, 150, grid_type="comprehensive"),
        row(G2, "甲社区第2网格", "grid", 450, 150, grid_type="comprehensive"),
        row(T2, "新安镇", "township", 10000, 2500),
        row(V2, "新安村", "village", 500, 160),
        row(G3, "新安村第1网格", "grid", 500, 160, grid_type="comprehensive"),
    ]


def worker_rows() -> list[dict]:
    def row(n, grid, name, started, ended=None, account="", full_time=True):
        return {"type": "grid_worker", "id": f"W{n}", "grid": grid, "name": name, "full_time": full_time,
                "started_on": started, "ended_on": ended, "account": account}  # fmt: skip

    return [
        row(1, G1, "李明", "2024-03-01", account="wgy_jia1"),
        row(2, G2, "王芳", "2025-04-01", account="wgy_jia2"),
        row(3, G3, "赵强", "2024-01-01", "2025-09-30", account="wgy_xin1"),
        row(4, G3, "孙丽", "2025-10-01", account="wgy_xin2"),
        row(5, G2, "周洁", "2024-01-01", full_time=False),
    ]


def visit_rows() -> list[dict]:
    plan = [  # worker, grid, months, visits a month (days 1..n)
        ("W1", G1, range(1, 13), {11: 15}),
        ("W2", G2, range(4, 13), {}),
        ("W3", G3, range(1, 10), {}),
        ("W4", G3, range(10, 13), {}),
    ]
    rows = []
    for worker, grid, months, fewer in plan:
        for month in months:
            for d in range(1, fewer.get(month, 20) + 1):
                day = dt.date(YEAR, month, d).isoformat()
                rows.append({"type": "visit", "id": f"{worker}-{day}", "worker": worker, "grid": grid, "date": day,
                             "households": 4, "notes": "入户走访"})  # fmt: skip
    return rows


def event_rows() -> list[dict]:
    def row(n, region, category, urgency, reporter, timeline, **extra):
        return {"type": "event", "id": f"E{n}", "category": category, "title": f"事件{n}", "description": "网格巡查发现",
                "urgency": urgency, "source": "patrol", "region": region, "reporter": reporter, "timeline": timeline,
                **extra}  # fmt: skip

    def done(month, day, resolved, level, feedback):
        """resolve → verify → feedback → close on the days given (resolved = (month, day, hh))."""
        m, d, hh = resolved
        return [step("resolve", m, d, hh, resolution="已处理", level=level), step("verify", m, d, hh, 30),
                step("feedback", month, day, 10, feedback=feedback), step("close", month, day, 11)]  # fmt: skip

    return [
        row(1, G1, "public_order", "normal", "W1", [
            step("report", 1, 6, 9), step("accept", 1, 6, 9, 30), step("self_handle", 1, 6, 10),
            *done(1, 9, (1, 8, 15), "village", "satisfied"),
        ]),
        row(2, G2, "work_safety", "urgent", "W1", [
            step("report", 2, 10, 10), step("accept", 2, 10, 10, 20), step("dispatch", 2, 10, 10, 30, lead=POLICE),
            step("department_return", 2, 10, 11, note="不属于本部门职责"),
            step("escalate", 2, 10, 12, note="需乡镇协调"), step("accept", 2, 10, 12, 30),
            step("dispatch", 2, 10, 13, lead=POLICE), step("department_accept", 2, 10, 14),
            *done(2, 13, (2, 12, 9), "township", "basically"),
        ]),
        row(3, G1, "sanitation", "normal", "W1", [step("report", 3, 3, 8), step("return", 3, 3, 10, note="重复反映")]),
        row(4, G2, "public_order", "normal", "W2", [
            step("report", 4, 2, 9), step("accept", 4, 2, 9, 10), step("self_handle", 4, 2, 9, 30),
            step("resolve", 4, 9, 16, resolution="已劝导", level="village"),
            step("reopen", 4, 10, 9, note="群众反映问题未解决"),
            *done(4, 16, (4, 15, 10), "village", "dissatisfied"),
        ]),
        row(5, G1, "fire", "normal", "W1", [
            step("report", 9, 29, 9), step("accept", 9, 29, 9, 30), step("escalate", 9, 29, 10, note="需乡镇协调"),
            step("accept", 9, 29, 10, 30), step("escalate", 9, 29, 11, note="需区级部门处置"),
            step("accept", 9, 29, 11, 30), step("dispatch", 9, 29, 12, lead=POLICE),
            step("department_accept", 9, 29, 14), *done(10, 12, (10, 11, 17), "county", "satisfied"),
        ]),
        row(6, V1, "work_safety", "normal", "", [
            step("report", 12, 1, 9), step("accept", 12, 1, 9, 45), step("self_handle", 12, 1, 10),
        ], source="resident", reporter_name="居民王某", contact_phone="13800001234"),
        row(7, G3, "public_order", "normal", "W3", [
            step("report", 1, 23, 9), step("accept", 1, 23, 9, 20), step("self_handle", 1, 23, 9, 30),
            *done(2, 7, (2, 6, 18), "village", "satisfied"),
        ]),
        row(8, G3, "livelihood", "urgent", "W3", [
            step("report", 5, 12, 9), step("accept", 5, 12, 10, 30), step("dispatch", 5, 12, 11, lead=POLICE),
            step("department_accept", 5, 12, 11, 30), *done(5, 14, (5, 13, 8), "village", "basically"),
        ]),
        row(9, G3, "sanitation", "normal", "W3", [
            step("report", 7, 7, 9), step("accept", 7, 7, 9, 30), step("self_handle", 7, 7, 9, 40),
            *done(7, 18, (7, 16, 10), "village", "satisfied"),
        ]),
        row(10, V2, "public_order", "normal", "W4", [
            step("report", 12, 29, 15), step("accept", 12, 29, 15, 30), step("self_handle", 12, 29, 15, 40),
        ]),
        row(11, G3, "public_order", "normal", "W4", [step("report", 12, 31, 23, 30)]),
    ]  # fmt: skip


def case_rows(mediation) -> list[dict]:
    village_org, county_org = mediation["village_org"], mediation["county_org"]
    village = {"region": village_org.region.code, "name": village_org.name}
    centre = {"region": county_org.region.code, "name": county_org.name}

    def person(side, n, name):
        return {"side": side, "name": name, "id_number": citizen_id(n), "phone": f"1390000{n:04d}"}

    def row(n, organisation, origin, dispute_type, parties, timeline, sessions, **extra):
        return {"type": "case", "id": f"K{n}", "organisation": organisation, "origin_region": origin,
                "dispute_type": dispute_type, "risk": "general", "title": f"纠纷{n}", "facts": "当事人申请调解",
                "parties": parties, "timeline": timeline,
                "sessions": [{"held_on": d, "place": "调解室", "attendees": "双方当事人"} for d in sessions],
                **extra}  # fmt: skip

    zhang, li = person("applicant", 1, "张甲"), person("respondent", 2, "李乙")
    return [
        row(1, village, V1, "neighbour", [zhang, li], [
            step("register", 1, 8, 9), step("accept", 1, 8, 10), step("assign", 1, 8, 11, mediator="mediator_a"),
            step("agree", 1, 20, 16), step("close", 4, 20, 9),
        ], ["2025-01-12"],
            agreement={"terms": "赔偿漏水损失800元", "amount": "800.00", "signed_on": "2025-01-20"},
            follow_ups=[{"visited_on": "2025-02-20", "fulfilment": "partly", "satisfaction": "basically"},
                        {"visited_on": "2025-04-15", "fulfilment": "full", "satisfaction": "satisfied"}],
            confirmation={"court": "城关区人民法院", "applied_on": "2025-01-22", "decided_on": "2025-02-06",
                          "decision": "confirmed"}),
        row(2, village, V1, "contract_debt", [zhang, person("respondent", 5, "王丙")], [
            step("register", 3, 3, 9), step("accept", 3, 3, 10), step("assign", 3, 3, 11, mediator="mediator_a"),
            step("fail", 4, 1, 15, note="双方分歧较大"), step("refer", 4, 2, 9, referral="litigation"),
            step("close", 4, 3, 9),
        ], ["2025-03-10"]),
        row(3, village, V1, "property_management", [person("applicant", 3, "刘丁"), person("respondent", 4, "陈戊")], [
            step("register", 5, 6, 9), step("accept", 5, 6, 10), step("assign", 5, 6, 11, mediator="mediator_a"),
            step("transfer", 5, 20, 9, to=centre, note="涉及多个部门，移交区矛调中心"),
            step("assign", 5, 21, 9, mediator="mediator_county"), step("agree", 6, 10, 16), step("close", 7, 15, 9),
        ], ["2025-05-12", "2025-05-28"],
            agreement={"terms": "物业公司限期维修", "signed_on": "2025-06-10"},
            follow_ups=[{"visited_on": "2025-06-20", "fulfilment": "full", "satisfaction": "dissatisfied"}],
            confirmation={"court": "城关区人民法院", "applied_on": "2025-06-16", "decided_on": "2025-07-10",
                          "decision": "confirmed"}),
        row(4, centre, V2, "labour", [{**li, "side": "applicant"}, person("respondent", 6, "吴己")], [
            step("register", 8, 4, 9), step("accept", 8, 4, 10), step("assign", 8, 4, 11, mediator="mediator_county"),
        ], ["2025-08-10"]),
    ]  # fmt: skip


TABLES = {
    T1: {"funding_yuan": "10000.00", "mediators_fulltime": 6, "mediators_parttime": 0, "petitions_received": 10,
         "petitions_resolved_first": 8, "criminal_cases": 1, "key_persons_registered": 40, "key_persons_managed": 38,
         "households_reached": 2000, "cadres": 20, "cadres_on_track": 16},
    T2: {"funding_yuan": "3000.00", "mediators_fulltime": 3, "mediators_parttime": 2, "petitions_received": 5,
         "petitions_resolved_first": 5, "criminal_cases": 1, "key_persons_registered": 10, "key_persons_managed": 10,
         "households_reached": 500, "cadres": 10, "cadres_on_track": 10},
}  # fmt: skip
MONTHS = [dt.date(YEAR - 1, 12, 1)] + [dt.date(YEAR, m, 1) for m in range(1, 13)]


def monthly_rows() -> list[dict]:
    rows = []
    for township, values in TABLES.items():
        for month in MONTHS:
            if township == T2 and month.month == 10 and month.year == YEAR:
                continue  # never sent
            nxt = (month + dt.timedelta(days=32)).replace(day=1)
            submitted = at(nxt.year, nxt.month, 3, 10)
            if month == dt.date(YEAR, 12, 1):
                submitted = at(YEAR, 12, 31, 16)  # sent early: every record stays inside the year
            if township == T2 and month == dt.date(YEAR, 8, 1):
                submitted = at(YEAR, 9, 8, 10)  # due Sep 5: late
            data = dict(values)
            if township == T1 and month >= dt.date(YEAR, 6, 1):
                data["key_persons_managed"] = 39
            rows.append({"type": "monthly_report", "id": f"{township}-{month:%Y-%m}", "township": township,
                         "month": f"{month:%Y-%m}", "submitted_at": submitted, "values": data})  # fmt: skip
    return rows


def survey_rows() -> list[dict]:
    yes = ("safe", "satisfied", "aware")
    plan = [  # village, (month, day), channel, count, (safety, satisfaction, awareness)
        (V1, (2, 15), "online", 40, yes),
        (V1, (5, 15), "online", 40, yes),
        (V1, (5, 20), "offline", 24, ("safe", "basically", "aware")),
        (V1, (5, 20), "offline", 3, ("fairly_safe", "dissatisfied", "aware")),
        (V1, (5, 20), "offline", 3, ("unsafe", "dissatisfied", "aware")),
        (V1, (8, 15), "online", 20, yes),
        (V1, (11, 15), "online", 34, yes),
        (V1, (11, 15), "online", 6, ("not_very_safe", "satisfied", "unaware")),
        (V2, (2, 16), "online", 24, ("fairly_safe", "satisfied", "aware")),
        (V2, (2, 16), "online", 6, ("unsafe", "satisfied", "unaware")),
        (V2, (8, 16), "online", 24, ("fairly_safe", "satisfied", "aware")),
        (V2, (8, 16), "online", 6, ("unsafe", "satisfied", "unaware")),
    ]
    rows = []
    for group, (village, (month, day), channel, count, (safety, satisfaction, awareness)) in enumerate(plan):
        for i in range(count):
            rows.append({"type": "survey_answer", "id": f"S{group}-{i}", "village": village, "channel": channel,
                         "answered_at": at(YEAR, month, day, 10, i % 60), "safety": safety,
                         "satisfaction": satisfaction, "awareness": awareness,
                         "household": f"{village}-{group}-{i}" if channel == "offline" else ""})  # fmt: skip
    return rows


def ruling_and_award_rows() -> list[dict]:
    return [
        {"type": "veto_ruling", "id": "R1", "unit": T1, "indicator": "V01", "occurred_on": "2025-03-15",
         "description": "误报：经复核不属实", "status": "revoked", "decision_note": "撤销",
         "recorded_by": "province", "recorded_at": at(YEAR, 3, 20, 10)},
        {"type": "veto_ruling", "id": "R2", "unit": T2, "indicator": "V03", "occurred_on": "2025-08-12",
         "description": "发生群体性事件", "status": "in_force", "recorded_by": "province",
         "recorded_at": at(YEAR, 8, 20, 10)},
        {"type": "innovation_award", "id": "A1", "unit": T1, "year": YEAR, "points": "1.50",
         "reason": "“平安楼栋”积分制", "awarded_by": "province"},
    ]  # fmt: skip


def year_records(mediation) -> list[dict]:
    return [
        HEADER, *region_rows(), *worker_rows(), *visit_rows(), *event_rows(), *case_rows(mediation),
        *monthly_rows(), *survey_rows(), *ruling_and_award_rows(),
    ]  # fmt: skip


def score_rows(cycle, units: list[str]) -> list[dict]:
    """Both groups' scores of every assessed indicator of the cycle's units, scored on the period's last day."""
    spec = {"kind": cycle.kind, "year": YEAR, "quarter": cycle.quarter, "root": COUNTY}
    last = cycle.period.last
    rows = []
    for unit in units:
        pair, exceptions = SCORES[unit]
        for indicator in ASSESSED:
            for group, score in zip(("第一考核组", "第二考核组"), exceptions.get(indicator, pair), strict=True):
                key = f"{cycle.kind}{cycle.quarter or ''}-{group}-{unit}-{indicator}"
                rows.append({"type": "assessor_score", "id": key, "cycle": spec, "group": group, "unit": unit,
                             "indicator": indicator, "score": str(score), "scored_by": "province",
                             "scored_at": at(last.year, last.month, last.day, 16)})  # fmt: skip
    return rows


# --- Expected scores, by hand -----------------------------------------------------------------------------
#
# Plain profile weights: A01 2, A02 15, A04 1, A05 1, A06 1 | B01 8, B02 8, B03 5, B04 3, B05–B07 2 each |
# C01 1, C02 15, C03 2, C04 2, C05 1, C06 1, C07 1, C08–C11 1 each, C12 4, C13 2, C14 2, C15 4, C16 1 |
# D01 2, D02 2, D03 1, D04 2, D05 2, D06 1. A line loses (weight × dimension points / applicable weight of
# its dimension) × (1 − r); total = 100 − Σ lost. C13 (no rectification item) is never applicable.
# Rules: higher_better r = (v − f)/(t − f), lower_better r = (c − v)/(c − t), clamped to [0, 1].
#
# Facts shared by the periods (period = Q1…Q4, H1, year Y):
#   A02  G1 has F + W1 (450 ≤ 2 × 500); G2 has only the part-time W5 until W2 starts Apr 1; G3 has one
#        worker at every period end with exactly 500 residents (≤ 500 passes) → T1 Q1 1/2 (r 0), else 1.
#   D02  activity = events reported + visits ≥ 20 × months; F never has any:
#        W1 Q1 60+3, Q2 60, Q3 60+1 (E5), Q4 55, H1 120+3, Y 235+4 = 239 < 240;  W2 Q2 60+1, Q3 60, Q4 60,
#        H1 61 < 120, Y 181;  W3 Q1 61, Q2 61, Q3 61, H1 122;  W4 Q4 62, Y 62.
#        T1: Q1 W1 of F, W1 = 1/2 → 0; Q2, Q3 2/3 → (2/3 − 0.6)/0.35 = 4/21; Q4 1/3, H1 1/3, Y 0/3 → 0.
#        T2: 1/1 except Y 0/1.  County: H1 (W1, W3 of 4) 2/4 → 0; Y 0/4 → 0.
#   Reported (T1 reports every month on time; T2 misses Q3 (August late), Q4 and Y (October)):
#        T1 every period: A04 = 5 000 × months / 10 000 residents… ≥ 5.9 → 1; A05 = 6 / 20 000 × 10 000 = 3
#          → (3 − 1)/4 = 1/2; C08 8/10 → (0.8 − 0.6)/0.25 = 4/5; C09 ≈ 6 ≤ 20 → 1; C10 last month 38/40 in
#          Q1 → (0.95 − 0.9)/0.08 = 5/8, 39/40 from June → 15/16; C12 1; D01 16/20 → (0.8 − 0.5)/0.5 = 3/5.
#        T2 Q1: A04 = 9 000 / 10 000 × 365/90 = 3.65 → 73/100; Q2: 0.9 × 365/91 → 657/910;
#          H1: 1.8 × 365/181 = 657/181 → 657/905; C12 1 500 / 2 500 = 0.6 → (0.6 − 0.5)/0.45 = 2/9 in a
#          quarter, 3 000 / 2 500 → 1 in H1; A05 5, C08 1, C09 ≈ 12, C10 1, D01 1 → 1.
#        D03 (tables due in the period): T1 1 always; T2 Q3 and Q4 2/3 → 0, Y 10/12 → (5/6 − 0.8)/0.2 = 1/6.
#   Assessed: T1 r 1 except B06 0.85 (lost 2 × 3/20 = 3/10); T2 r 0.8 (lost 1/5 of each: A 2/5 + 1/5,
#   B 6/5, C14 2/5, D 1); the county 0.9 (A 1/5 + 1/10, B 3/5, C14 1/5) and D04 0.75 (D 1/2 + 1/5 + 1/10).
#
# T1 Q1 (all of B applicable; C without C13: × 40/38)
#   B01–B04: 40/40 online → 1; E1 满意 + E2 基本满意 2/2; follow-up Feb 20 基本满意 1/1
#   C01 K1 1/1; C02 1/1 (K2 accepted Mar 3, after Mar 1: not yet counted open); C03 last follow-up in Q1
#   partly → 0/1; C04 E1 ✓ E2 ✗ → 1/2 → 0; C05 E1 ✓ E2 ✓ E3 ✗ → 2/3 → 0; C06 E1 村, E2 乡镇, K1 村 3/3;
#   C07 K2 repeat 1/2 → 0; C11 E2 0/1; C15 1; C16 decided Feb 6 ≤ Feb 7 1/1
T1_Q1 = (100 - (15 + F(1, 2)) - F(3, 10)
         - F(20, 19) * (2 + 2 + 1 + 1 + F(1, 5) + F(3, 8) + 1)  # C03 C04 C05 C07 C08 C10 C11
         - (2 * F(2, 5) + 2))  # fmt: skip
# T1 Q2: B02 = ½·40/40 + ½·24/30 = 0.9 → 4/5 (B01 ½ + ½·27/30 = 0.95 → 1); B03 E4 不满意 0/1; B04 1/1.
#   C (C07, C11, C13, C16 n/a: × 40/35): C01 K2 failed 0/1; C02 K2 Apr 1 ≤ Apr 2 1/1; C03 Apr 15 full 1/1;
#   C04 E4: the Apr 9 resolution was reopened before Jun 30; the one standing then is Apr 15 > Apr 10 → 0/1;
#   C05 1/1; C06 E4 (at village both times), K2 2/2
T1_Q2 = (100 - F(1, 2) - (8 * F(1, 5) + 5 + F(3, 10))
         - F(8, 7) * (1 + 2 + F(1, 5) + F(1, 16))  # C01 C04 C08 C10
         - (2 * F(2, 5) + 2 * F(17, 21)))  # fmt: skip
# T1 Q3: 20 answers → B01, B02, C15 n/a; no feedback or follow-up: B applicable 6 (× 5); C applicable
#   C05 (E5 answered in time 1/1), C08–C10, C12, C14 = 10 (× 4); E5 not due before Oct 13 → C04 n/a
T1_Q3 = 100 - F(1, 2) - 5 * F(3, 10) - 4 * (F(1, 5) + F(1, 16)) - (2 * F(2, 5) + 2 * F(17, 21))
# T1 Q4: B01 34/40 = 0.85 → 3/5; B03 E5 1/1; B04 n/a (× 30/27). C: C01–C03, C07, C13, C16 n/a
#   (× 40/18): C04 E5 ✓ (Oct 11 ≤ Oct 13), E6 open past Dec 8 ✗ → 1/2 → 0; C05 E6 1/1; C06 E5 at county
#   level 0/1; C11 E6 0/1; C15 34/40 = 0.85 → (0.85 − 0.5)/0.4 = 7/8
T1_Q4 = (100 - F(1, 2) - F(10, 9) * (8 * F(2, 5) + F(3, 10))
         - F(20, 9) * (2 + 1 + F(1, 5) + F(1, 16) + 1 + 4 * F(1, 8))  # C04 C06 C08 C10 C11 C15
         - (2 * F(2, 5) + 2))  # fmt: skip
# T1 H1: B01 ½·80/80 + ½·27/30 = 0.95 → 1; B02 0.9 → 4/5; B03 E1 E2 ✓ E4 ✗ 2/3 → 0; B04 2/2.
#   C (× 40/38): C01 K1 ✓ K2 ✗ 1/2 → 0; C02 2/2; C03 1/1; C04 E1 ✓ E2 ✗ E4 ✗ (Apr 15) 1/3 → 0;
#   C05 3/4 → (0.75 − 0.7)/0.28 = 5/28; C06 5/5; C07 1/2 → 0; C11 0/1; C16 1/1
T1_H = (100 - F(1, 2) - (8 * F(1, 5) + 5 + F(3, 10))
        - F(20, 19) * (1 + 2 + F(23, 28) + 1 + F(1, 5) + F(1, 16) + 1)  # C01 C04 C05 C07 C08 C10 C11
        - (2 * F(2, 5) + 2))  # fmt: skip
# T1 Y: online 140 (134 safe), offline 30 (27) → B01 = ½·134/140 + ½·9/10 = 13/14 → (13/14 − 0.7)/0.25 = 32/35;
#   B02 0.9 → 4/5; B03 3/4 → 1/5; B04 2/2.  C (× 40/38): C01 1/2 → 0; C02 2/2; C03 1/1;
#   C04 E1 ✓ E2 ✗ E4 ✗ E5 ✓ E6 ✗ 2/5 → 0; C05 5/6 → (5/6 − 0.7)/0.28 = 10/21; C06 (E1 E2 E4 of E1 E2 E4 E5;
#   K1 K2) 5/6 → (5/6 − 0.7)/0.25 = 8/15; C07 1/2 → 0; C11 0/2; C15 ½·134/140 + ½ ≥ 0.9 → 1; C16 1/1
T1_Y = (100 - F(1, 2) - (8 * F(3, 35) + 8 * F(1, 5) + 5 * F(4, 5) + F(3, 10))
        - F(20, 19) * (1 + 2 + F(11, 21) + F(7, 15) + 1 + F(1, 5) + F(1, 16) + 1)  # C01 C04 C05 C06 C07 C08 C10 C11
        - (2 * F(2, 5) + 2))  # fmt: skip
# T2 (no case ever counts for T2: C01, C02, C03, C07, C11, C13, C16 and B04 n/a)
# Q1: 30 online → pooled: B01 24/30 = 0.8 → 2/5, C15 0.8 → (0.8 − 0.5)/0.4 = 3/4; B03 E7 1/1 (B × 30/27).
#   C applicable C04 C05 C06 (E7 in time, 村: 1/1 each), C08–C10, C12, C14, C15 = 17 (× 40/17)
T2_Q1 = (100 - (F(2, 5) + F(27, 100) + F(1, 5)) - F(10, 9) * (8 * F(3, 5) + F(6, 5))
         - F(40, 17) * (4 * F(7, 9) + F(2, 5) + 4 * F(1, 4)) - 1)  # fmt: skip
# Q2: no answers (B01, B02, C15 n/a): B applicable B03 (E8 基本满意 1/1) + 6 = 11 (× 30/11);
#   C applicable 13 (× 40/13): C04 E8 May 13 08:00 ≤ 09:00 1/1; C05 E8 answered 10:30 0/1; C06 1/1
T2_Q2 = (100 - (F(2, 5) + F(253, 910) + F(1, 5)) - F(30, 11) * F(6, 5)
         - F(40, 13) * (1 + 4 * F(7, 9) + F(2, 5)) - 1)  # fmt: skip
# Q3: August table late → A04, A05, C08, C09, C10, C12, D01 r 0; D03 Jun ✓ Jul ✓ Aug ✗ 2/3 → 0; surveys as Q1;
#   B03 E9 1/1; C04 E9 resolved Jul 16 > Jul 14 0/1; C05 1/1; C06 1/1 (C × 40/17)
T2_Q3 = (100 - (F(2, 5) + 2 + F(1, 5)) - F(10, 9) * (8 * F(3, 5) + F(6, 5))
         - F(40, 17) * (2 + 7 + F(2, 5) + 4 * F(1, 4)) - (2 + 1 + 1))  # fmt: skip
# Q4: October table missing (as Q3); no answers, no feedback: B applicable 6 (× 5); E10, E11 not due, E11
#   left out of C05: C applicable C05 (E10 1/1), C08–C10, C12, C14 = 10 (× 4); D02 W4 62 ≥ 60
T2_Q4 = 100 - (F(2, 5) + 2 + F(1, 5)) - 5 * F(6, 5) - 4 * (7 + F(2, 5)) - (2 + 1 + 1)
# H1: surveys as Q1; B03 2/2; C04 2/2; C05 E7 ✓ E8 ✗ 1/2 → 0; C06 2/2; C12 1 (C × 40/17)
T2_H = (100 - (F(2, 5) + F(248, 905) + F(1, 5)) - F(10, 9) * (8 * F(3, 5) + F(6, 5))
        - F(40, 17) * (1 + F(2, 5) + 4 * F(1, 4)) - 1)  # fmt: skip
# Y: missing (October); 60 online: B01 48/60 = 0.8 → 2/5 (and V04), C15 3/4; B03 3/3; C04 E7 ✓ E8 ✓ E9 ✗
#   2/3 → 4/21; C05 E7 ✓ E8 ✗ E9 ✓ E10 ✓ (E11 left out) 3/4 → 5/28; C06 3/3; D02 0/1; D03 10/12 → 1/6
T2_Y = (100 - (F(2, 5) + 2 + F(1, 5)) - F(10, 9) * (8 * F(3, 5) + F(6, 5))
        - F(40, 17) * (2 * F(17, 21) + F(23, 28) + 7 + F(2, 5) + 4 * F(1, 4))
        - (2 + 2 + F(5, 6) + 1))  # fmt: skip
# County (never spot-checked). H1, both townships reporting:
#   A05 = (6 + 5) / 30 000 × 10 000 = 11/3 → (11/3 − 1)/4 = 2/3; C08 78/90 ≥ 0.85 → 1; C10 49/50 → 1;
#   D01 26/30 → (13/15 − 0.5)/0.5 = 11/15; D03 12/12; A04, C09, C12 → 1
#   B01 = ½·(80 + 24)/110 + ½·27/30 = 203/220 → 49/55; B02 ½ + ½·24/30 = 0.9 → 4/5; B03 E1 E2 E4✗ E7 E8 4/5
#   → 2/5; B04 K1 ×2 + K3 不满意 2/3 → 0
#   C (× 40/38): C01 K1 ✓ K2 ✗ K3 ✓ 2/3 → 0; C02 K1 ✓ K2 ✓ K3 ✗ (Jun 10 > Jun 5) 2/3 → 4/21; C03 2/2;
#   C04 E1 E7 E8 of 5 (E4 late by its Apr 15 resolution) → 3/5 → 0; C05 4/6 → 0; C06 events 5/5 + cases K1 K2 of 3 → 7/8 → 7/10;
#   C07 1/3 → 0; C11 0/1; C16 K1 ✓ + K3 undecided at Jun 30, past Jun 25 → 1/2 → 0
K_H = (100 - (F(1, 5) + F(1, 3) + F(1, 10))
       - (8 * F(6, 55) + 8 * F(1, 5) + 5 * F(3, 5) + 3 + F(3, 5))
       - F(20, 19) * (1 + 15 * F(17, 21) + 2 + 1 + F(3, 10) + 1 + 1 + F(1, 5) + 1)
       - (2 * F(4, 15) + 2 + F(1, 2) + F(1, 5) + F(1, 10)))  # fmt: skip
# County Y: reporting townships = T1 alone → A04 6 → 1, A05 3 → 1/2, C08 4/5, C10 15/16, D01 3/5;
#   D03 22/24 → (11/12 − 0.8)/0.2 = 7/12
#   B01 = ½·182/200 + ½·27/30 = 0.905 → 41/50; B02 4/5; B03 6/7 → (6/7 − 0.7)/0.25 = 22/35; B04 2/3 → 0
#   C (× 40/38): C01 2/3 → 0; C02 K1 ✓ K2 ✓ K3 ✗ K4 open since Aug 4 ✗ 2/4 → 0; C03 2/2; C04 4/8 → 0 (E4 late);
#   C05 8/10 → 5/14; C06 (6 of 7 events + 2 of 3 cases) 8/10 → 2/5; C07 2/4 → 0; C11 0/2; C16 K3 decided
#   Jul 10 > Jun 25 → 1/2 → 0
K_Y = (100 - (F(1, 5) + F(1, 2) + F(1, 10))
       - (8 * F(9, 50) + 8 * F(1, 5) + 5 * F(13, 35) + 3 + F(3, 5))
       - F(20, 19) * (1 + 15 + 2 + F(9, 14) + F(3, 5) + 1 + F(1, 5) + F(1, 16) + 1 + F(1, 5) + 1)
       - (2 * F(2, 5) + 2 + F(5, 12) + F(1, 2) + F(1, 5) + F(1, 10)))  # fmt: skip

SPOT = {T1: {1: T1_Q1, 2: T1_Q2, 3: T1_Q3, 4: T1_Q4}, T2: {1: T2_Q1, 2: T2_Q2, 3: T2_Q3, 4: T2_Q4}}
HALF = {T1: T1_H, T2: T2_H, COUNTY: K_H}
YEAR_END = {T1: T1_Y, T2: T2_Y, COUNTY: K_Y}
BONUS = {T1: F(3, 2)}


def test_the_hand_arithmetic_above_adds_up():
    """The closed forms as reduced on paper (guards the comments against typos)."""
    on_paper = {
        "T1_Q1": (T1_Q1, F(13951, 190)),
        "T1_Q2": (T1_Q2, F(3631, 42)),
        "T1_Q3": (T1_Q3, F(39703, 420)),
        "T1_Q4": (T1_Q4, F(14801, 180)),
        "T1_H": (T1_H, F(221833, 2660)),
        "T1_Y": (T1_Y, F(666587, 7980)),
        "T2_Q1": (T2_Q1, F(1236989, 15300)),
        "T2_Q2": (T2_Q2, F(7294489, 90090)),
        "T2_Q3": (T2_Q3, F(15877, 255)),
        "T2_Q4": (T2_Q4, F(289, 5)),
        "T2_H": (T2_H, F(3960664, 46155)),
        "T2_Y": (T2_Y, F(212033, 3570)),
        "K_H": (K_H, F(2909201, 43890)),
        "K_Y": (K_Y, F(1252577, 19950)),
    }
    for name, (formula, paper) in on_paper.items():
        assert formula == paper, f"{name}: {formula} ≠ {paper}"


def annual_by_hand(code: str, spots: list[F]) -> F:
    """SPEC §5.3: 0.10 × mean(spot-checks) + 0.40 × half-year + 0.50 × year-end (0.5 / 0.5 when never
    sampled), + innovation bonus, capped at 100."""
    h, y = HALF[code], YEAR_END[code]
    base = F(1, 10) * sum(spots, F(0)) / len(spots) + F(2, 5) * h + F(1, 2) * y if spots else (h + y) / 2
    return min(F(100), base + BONUS.get(code, F(0)))


# --- The test ---------------------------------------------------------------------------------------------


def check_imported(report) -> None:
    """What the importer derived on the way (the causes of the numbers below)."""
    assert report.ok and report.written, report.as_dict()
    assert report.created == {
        "region": 8, "grid_worker": 5, "visit": 655, "event": 11, "case": 4, "monthly_report": 25,
        "survey_answer": 230, "veto_ruling": 2, "innovation_award": 1,
    }  # fmt: skip
    assert Region.objects.get(code=T1).population == 20000 and Region.objects.filter(code__startswith=T2).count() == 3
    assert GridWorker.objects.filter(grid__code__startswith=COUNTY, is_full_time=True).count() == 5  # with F
    assert VisitRecord.objects.filter(worker__username="wgy_jia1").count() == 235
    e5 = GridEvent.objects.get(title="事件5")
    assert timezone.localtime(e5.resolve_deadline).isoformat() == "2025-10-13T23:59:59+08:00"  # over National Day
    assert e5.first_resolved_level == e5.resolved_level == 3  # county
    e4 = GridEvent.objects.get(title="事件4")
    assert e4.reopened_at is not None and e4.first_resolved_at < e4.resolved_at
    k2, k3, k4 = (Case.objects.get(title=f"纠纷{n}") for n in (2, 3, 4))
    assert (k2.is_repeat, k3.is_repeat, k4.is_repeat) == (True, False, True)
    assert k3.assessment_code == COUNTY and k3.first_outcome == "agreed"
    assert JudicialConfirmation.objects.get(case__title="纠纷1").deadline == dt.date(2025, 2, 7)
    assert list(MonthlyReport.objects.filter(is_late=True).values_list("region_code", "month")) == [
        (T2, dt.date(2025, 8, 1))
    ]


def create_cycles(world) -> dict:
    """The six cycles of the year on the county, each with two assessor groups over its units."""
    plan = [(CycleKind.SPOT_CHECK, q) for q in (1, 2, 3, 4)] + [(CycleKind.HALF_YEAR, None), (CycleKind.YEAR_END, None)]
    cycles = {}
    for kind, quarter in plan:
        cycle = services.create_cycle(kind=kind, year=YEAR, root=world.county_a, quarter=quarter,
                                      user=world.admin_province)  # fmt: skip
        if kind == CycleKind.SPOT_CHECK:
            units = [s.region for s in cycle.sample.select_related("region")]
            assert len(units) == 1, "ceil(0.2 × 2 townships) = 1"
        else:
            units = list(Region.objects.filter(code__in=[COUNTY, T1, T2]))
        for name in ("第一考核组", "第二考核组"):
            AssessorGroup.objects.create(cycle=cycle, name=name).units.add(*units)
        cycles[(kind, quarter)] = (cycle, sorted(u.code for u in units))
    return cycles


def test_a_small_countys_imported_year_gives_the_hand_computed_results(world, mediation):
    started = time.monotonic()
    check_imported(run(year_records(mediation), user=world.user_a))
    cycles = create_cycles(world)
    scores = [HEADER] + [row for cycle, units in cycles.values() for row in score_rows(cycle, units)]
    scored = run(scores, user=world.user_a)
    assert scored.ok and scored.created == {"assessor_score": 2 * 9 * (4 * 1 + 2 * 3)}, scored.as_dict()
    for cycle, _units in cycles.values():
        services.run_cycle(cycle.pk, progress=lambda pct, note: None)
        cycle.refresh_from_db()
        assert cycle.status == CycleStatus.COMPUTED, cycle.error

    # Every cycle's totals.
    county, t1, t2 = (Region.objects.get(code=c) for c in (COUNTY, T1, T2))
    sampled = {}
    for quarter in (1, 2, 3, 4):
        cycle, units = cycles[(CycleKind.SPOT_CHECK, quarter)]
        sampled[quarter] = units[0]
        assert list(UnitResult.objects.filter(cycle=cycle).values_list("region_code", flat=True)) == units
        check_total(cycle, Region.objects.get(code=units[0]), SPOT[units[0]][quarter], f"(Q{quarter} spot-check)")
    half, year_end = cycles[(CycleKind.HALF_YEAR, None)][0], cycles[(CycleKind.YEAR_END, None)][0]
    for region in (county, t1, t2):
        check_total(half, region, HALF[region.code], "(half-year)")
        check_total(year_end, region, YEAR_END[region.code], "(year-end)")

    # Lines behind the totals: numerator, denominator, value, ratio and points (= effective weight × r).
    check_line(half, county, "A05", num=11, den=30000, value=F(11, 3), ratio=F(2, 3), points=F(2, 3))
    check_line(half, county, "C08", num=78, den=90, ratio=1)  # T1 alone: 48/60 = 0.8
    check_line(half, county, "D01", num=26, den=30, ratio=F(11, 15), points=2 * F(11, 15))
    check_line(half, t2, "A04", num=18000, den=10000, value=F(657, 181), ratio=F(657, 905))
    check_line(half, county, "B01", num=131, den=140, value=F(203, 220), ratio=F(49, 55), points=8 * F(49, 55))
    check_line(half, county, "C02", num=2, den=3, ratio=F(4, 21), points=15 * F(20, 19) * F(4, 21))
    check_line(half, county, "C16", num=1, den=2, ratio=0)  # K3's confirmation undecided past its deadline
    check_line(half, county, "C04", num=3, den=5, ratio=0)  # E4's standing resolution (Apr 15) is late
    check_line(half, t1, "D02", num=1, den=3, ratio=0)  # F, W1 ✓, W2 61 < 120
    check_line(half, t1, "C13", status=LineStatus.NOT_APPLICABLE, points=0)
    check_line(year_end, t1, "A02", num=2, den=2, ratio=1, points=15)
    check_line(year_end, t1, "C05", num=5, den=6, ratio=F(10, 21), points=F(20, 19) * F(10, 21))
    check_line(year_end, t1, "C06", num=5, den=6, ratio=F(8, 15), points=F(20, 19) * F(8, 15))
    check_line(year_end, t1, "D02", num=0, den=3, ratio=0)  # W1 239 < 240
    check_line(year_end, t1, "B01", num=161, den=170, value=F(13, 14), ratio=F(32, 35))
    check_line(year_end, t2, "B01", num=48, den=60, value=F(4, 5), ratio=F(2, 5), points=8 * F(10, 9) * F(2, 5))
    check_line(year_end, t2, "C08", status=LineStatus.MISSING_REPORT, ratio=0, points=0)
    check_line(year_end, t2, "D03", num=10, den=12, ratio=F(1, 6), points=F(1, 6))
    check_line(year_end, t2, "C05", num=3, den=4, ratio=F(5, 28))  # E11 unanswered but not yet due
    check_line(year_end, county, "A04", num=120000, den=20000, value=6, ratio=1)  # over T1 alone
    check_line(year_end, county, "A05", num=6, den=20000, value=3, ratio=F(1, 2))
    check_line(year_end, county, "D03", num=22, den=24, ratio=F(7, 12), points=F(7, 12))
    check_line(year_end, county, "C02", num=2, den=4, ratio=0, points=0)
    check_line(year_end, county, "C04", num=4, den=8, ratio=0, points=0)
    check_line(year_end, county, "C05", num=8, den=10, ratio=F(5, 14))
    check_line(year_end, county, "C06", num=8, den=10, ratio=F(2, 5))
    check_line(year_end, county, "C07", num=2, den=4, ratio=0)
    check_line(year_end, county, "B03", num=6, den=7, ratio=F(22, 35), points=5 * F(22, 35))
    check_line(year_end, county, "B04", num=2, den=3, ratio=0)
    check_line(year_end, county, "B01", num=209, den=230, value=F(181, 200), ratio=F(41, 50))
    check_line(year_end, county, "D04", value=75, ratio=F(3, 4), points=2 * F(3, 4))
    spot_lines = {  # one telling line of each possible draw
        (T1, 1): ("A02", {"num": 1, "den": 2, "ratio": 0}),  # G2 had only a part-time worker on Mar 31
        (T1, 2): ("C04", {"num": 0, "den": 1, "ratio": 0}),  # E4 resolved in time, reopened, resolved late
        (T1, 3): ("C04", {"status": LineStatus.NOT_APPLICABLE}),  # E5 not yet due on Sep 30
        (T1, 4): ("C15", {"num": 34, "den": 40, "value": F(17, 20), "ratio": F(7, 8)}),
        (T2, 1): ("A04", {"num": 9000, "den": 10000, "value": F(73, 20), "ratio": F(73, 100)}),
        (T2, 2): ("C05", {"num": 0, "den": 1, "ratio": 0}),  # E8 answered half an hour late
        (T2, 3): ("D03", {"num": 2, "den": 3, "ratio": 0}),  # August late
        (T2, 4): ("C05", {"num": 1, "den": 1, "ratio": 1}),  # E11 left out
    }
    for quarter, code in sampled.items():
        indicator, expected = spot_lines[(code, quarter)]
        check_line(cycles[(CycleKind.SPOT_CHECK, quarter)][0], Region.objects.get(code=code), indicator, **expected)
    vetoes = dict(UnitResult.objects.filter(cycle=year_end).values_list("region_code", "vetoes"))
    assert vetoes == {COUNTY: [], T1: [], T2: ["V03", "V04"]}  # T1's V01 ruling was revoked

    # Annual results: T1 ≥ 84.1 whatever the draw (良好, top 1 of 2 but below 90); T2 vetoed; the county
    # alone at its level, 0.5 × 67.49 + 0.5 × 62.94 = 65.21 (合格).
    spots: dict[str, list[F]] = {T1: [], T2: []}
    for quarter, code in sampled.items():
        spots[code].append(SPOT[code][quarter])
    grades = {T1: (Grade.GOOD, 1), T2: (Grade.FAIL, 2), COUNTY: (Grade.PASS, 1)}
    rows = {a.region_code: a for a in AnnualResult.objects.filter(cycle=year_end)}
    assert set(rows) == {COUNTY, T1, T2}
    for code, row in rows.items():
        want = annual_by_hand(code, spots.get(code, []))
        assert F(row.result_exact) == want, (
            f"{code}: annual {float(F(row.result_exact)):.6f}, expected {float(want):.6f}"
        )
        assert row.result == half_up(want)
        assert (row.grade, row.rank) == grades[code], f"{code}: {row.grade} #{row.rank} (draws {sampled})"
        assert row.spot_checks == len(spots.get(code, [])) and F(row.bonus) == BONUS.get(code, 0)
        assert row.fiscal_tilt is None
    assert rows[T2].vetoes == ["V03", "V04"] and rows[T1].vetoes == rows[COUNTY].vetoes == []
    assert time.monotonic() - started < 60, "a county's year should import and score in seconds"
