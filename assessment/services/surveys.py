"""Survey answers (SPEC §5.2): the anonymous online sheet (扫码) and the evaluator's household visit
(入户调查) of a reproducible household sample.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import random
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from governance import audit
from governance.audit import AuditContext
from governance.choices import AuditAction
from governance.codes import Level
from governance.models import User
from grids.models import Region

from ..choices import (
    AwarenessAnswer,
    SafetyAnswer,
    SatisfactionAnswer,
    SurveyChannel,
)
from ..models import SurveyResponse
from ..transitions import COVERS, InputError, may

SURVEY_SAMPLE_SIZE = 30  # households visited per village and round …


SURVEY_RESERVE_SIZE = 10  # … plus reserves, in draw order, for households nobody answers at


SURVEY_ROUNDS = {1: gettext_lazy("上半年"), 2: gettext_lazy("下半年")}


SURVEY_ANSWER_FIELDS = ("safety", "satisfaction", "awareness")


SURVEY_CHOICES = {
    "safety": SafetyAnswer.values,
    "satisfaction": SatisfactionAnswer.values,
    "awareness": AwarenessAnswer.values,
}


ANONYMOUS = AuditContext(actor_id=None, actor_name="anonymous", ip=None)


def round_of(day: dt.date) -> int:
    return 1 if day.month <= 6 else 2


def sample_seed(code: str, year: int, round_no: int) -> str:
    """The seed of a village's sample: keyed with SURVEY_SAMPLE_KEY (default: the secret key),
    so the platform can always reproduce a sample but nobody outside it can predict one and
    brief the households in advance."""
    key = getattr(settings, "SURVEY_SAMPLE_KEY", "") or settings.SECRET_KEY
    return hmac.new(key.encode(), f"survey-sample:{code}:{year}:{round_no}".encode(), hashlib.sha256).hexdigest()


def sample_households(code: str, households: int, year: int, round_no: int, size: int) -> list[int]:
    """`size` distinct household numbers of 1..households, in draw order, reproducible from
    (village code, year, round): a partial Fisher–Yates shuffle driven by `Random.random()`,
    whose sequence for a string seed is the same on every Python 3 release."""
    rng = random.Random(sample_seed(code, year, round_no))
    moved: dict[int, int] = {}
    drawn = []
    for i in range(min(size, households)):
        j = i + int(rng.random() * (households - i))
        drawn.append(moved.get(j, j) + 1)
        moved[j] = moved.get(i, i)
    return drawn


@dataclass
class SampleHousehold:
    number: int
    order: int
    reserve: bool
    response: SurveyResponse | None = None


def survey_sample(village: Region, year: int, round_no: int) -> list[SampleHousehold]:
    """The village's household sample of a round: SURVEY_SAMPLE_SIZE households, then reserves."""
    drawn = sample_households(
        village.code, village.households, year, round_no, SURVEY_SAMPLE_SIZE + SURVEY_RESERVE_SIZE
    )
    return [SampleHousehold(number=n, order=i + 1, reserve=i >= SURVEY_SAMPLE_SIZE) for i, n in enumerate(drawn)]


def offline_key(village_code: str, year: int, round_no: int, household: int) -> str:
    """One answer sheet per sampled household and round: re-entering it corrects the sheet."""
    return f"off:{village_code}:{year}:{round_no}:{household}"


def online_key(client_key: str) -> str:
    return f"on:{client_key}"


def _answers(values: dict) -> dict[str, str]:
    return {name: values.get(name) or "" for name in SURVEY_ANSWER_FIELDS}


def _answer_errors(answers: dict, *, all_required: bool) -> dict[str, list[str]]:
    errors = {}
    for name, value in answers.items():
        if value and value not in SURVEY_CHOICES[name]:
            errors[name] = [_("请选择有效的选项。")]
        elif not value and all_required:
            errors[name] = [_("请选择一项。")]
    if not all_required and not any(answers.values()) and not errors:
        errors["safety"] = [_("请至少记录一个问题的回答。")]
    return errors


def survey_answer_online(*, village: Region, client_key: str, **values) -> tuple[SurveyResponse, bool]:
    """An answer sheet from the public page (扫码). Re-sending the same `client_key` returns the
    stored sheet. The trail records the sheet as anonymous and without the address, so it
    cannot tie a resident's answers to a network."""
    answers = _answers(values)
    errors = _answer_errors(answers, all_required=True)
    if village.level != Level.VILLAGE:
        errors["village"] = [_("问卷只能按村（社区）填写。")]
    if not client_key:
        errors["client_key"] = [_("页面已过期，请刷新后重新填写。")]
    if errors:
        raise InputError(errors)
    key = online_key(client_key)
    existing = SurveyResponse.objects.filter(client_key=key).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            response = SurveyResponse.objects.create(
                village=village,
                region_code=village.code,
                channel=SurveyChannel.ONLINE,
                answered_at=timezone.now(),
                client_key=key,
                **answers,
            )
            audit.record(
                AuditAction.CREATE,
                instance=response,
                region_code=village.code,
                changes={"channel": [None, SurveyChannel.ONLINE]},
                context=ANONYMOUS,
            )
    except IntegrityError:  # the same sheet sent twice at once
        return SurveyResponse.objects.get(client_key=key), False
    return response, True


@transaction.atomic
def survey_record_offline(
    *,
    user: User,
    village: Region,
    year: int,
    round_no: int,
    household: int,
    visited_on: dt.date,
    now: dt.datetime | None = None,
    **values,
) -> tuple[SurveyResponse, bool]:
    """入户调查: an evaluator's answer sheet for one sampled household (channel offline).

    Only households of the round's sample (or its reserves) can be entered, so the evaluator
    cannot choose whom to ask; entering the same household again corrects its sheet.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    answers = _answers(values)
    errors = _answer_errors(answers, all_required=False)
    if village.level != Level.VILLAGE:
        errors["village"] = [_("入户调查按村（社区）抽样，请选择村（社区）。")]
    elif not may(user, "assessment.survey", COVERS, village.code):
        errors["village"] = [_("您无权在该村（社区）录入入户调查。")]
    if round_no not in SURVEY_ROUNDS:
        errors["round_no"] = [_("轮次只能是1（上半年）或2（下半年）。")]
    elif not errors.get("village"):
        sample = {h.number for h in survey_sample(village, year, round_no)}
        if not sample:
            errors["household"] = [_("该村（社区）未登记户数，无法抽样。")]
        elif household not in sample:
            errors["household"] = [_("第%(n)s户不在本轮抽样名单内。") % {"n": household}]
    if visited_on > today:
        errors["visited_on"] = [_("走访日期不能晚于今天。")]
    elif visited_on.year != year or round_of(visited_on) != round_no:
        errors["visited_on"] = [
            _("走访日期须在%(year)s年%(half)s。") % {"year": year, "half": SURVEY_ROUNDS.get(round_no, "")}
        ]
    if errors:
        raise InputError(errors)
    answered_at = min(now, timezone.make_aware(dt.datetime.combine(visited_on, dt.time(12))))
    key = offline_key(village.code, year, round_no, household)
    fields = {"answered_at": answered_at, "evaluator": user, **answers}
    existing = SurveyResponse.objects.select_for_update().filter(client_key=key).first()
    if existing is None:
        response = SurveyResponse.objects.create(
            village=village,
            region_code=village.code,
            channel=SurveyChannel.OFFLINE,
            household=str(household),
            client_key=key,
            **fields,
        )
        changes = {name: [None, audit.to_jsonable(getattr(response, name))] for name in ("household", *answers)}
        audit.record(AuditAction.CREATE, instance=response, region_code=village.code, changes=changes)
        return response, True
    changes = {}
    for name, value in fields.items():
        before = getattr(existing, name)
        if before != value:
            changes[name] = [audit.to_jsonable(before), audit.to_jsonable(value)]
            setattr(existing, name, value)
    if changes:
        existing.save(update_fields=list(fields))
        audit.record(AuditAction.UPDATE, instance=existing, region_code=village.code, changes=changes)
    return existing, False
