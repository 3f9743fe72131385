"""The monthly core table (综治考核核心指标表, SPEC §5.2): a township's submission and its correction
before the deadline.
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from governance.codes import Level
from governance.models import User
from grids.models import Region

from ..models import REPORT_VALUE_FIELDS, MonthlyReport, month_deadline
from ..transitions import COVERS, InputError, may

# (part, whole, message): the model's check constraints, as field errors on the part.
REPORT_LIMITS = (
    ("petitions_resolved_first", "petitions_received", gettext_lazy("一次性化解的信访事项不能多于受理的信访事项。")),
    ("key_persons_managed", "key_persons_registered", gettext_lazy("在管的重点人员不能多于登记的重点人员。")),
    ("cadres_on_track", "cadres", gettext_lazy("培训学时达进度的干部不能多于基层干部总数。")),
)


def month_of(day: dt.date) -> dt.date:
    return day.replace(day=1)


def report_value_errors(values: dict) -> dict[str, list[str]]:
    """Field errors of a table's values: missing, negative, or a part larger than its whole."""
    errors: dict[str, list[str]] = {}
    for name in REPORT_VALUE_FIELDS:
        value = values.get(name)
        if value is None:
            errors[name] = [_("请填写此项（没有请填0）。")]
        elif value < 0:
            errors[name] = [_("不能为负数。")]
    for part, whole, message in REPORT_LIMITS:
        if part not in errors and whole not in errors and values[part] > values[whole]:
            errors[part] = [str(message)]
    return errors


def report_is_correctable(report: MonthlyReport, now: dt.datetime | None = None) -> bool:
    """A submitted table may be corrected until its deadline, never after (docs/decisions.md)."""
    return (now or timezone.now()) <= report.deadline


def _existing_report(township: Region, month: dt.date) -> MonthlyReport | None:
    return MonthlyReport.objects.select_for_update().filter(township=township, month=month).first()


@transaction.atomic
def report_submit(
    *, user: User | None, township: Region, month: dt.date, values: dict, now: dt.datetime | None = None
) -> tuple[MonthlyReport, bool]:
    """报送 a township's table for a month, or correct it before its deadline.

    Returns (report, created). The first submission fixes `submitted_at` (and so `is_late`);
    a correction before the deadline changes only the values. After the deadline a submitted
    table is closed: sending the same values again is harmless, changing them is refused.
    Two concurrent first submissions end as one table (the unique constraint decides, the
    loser becomes a correction).
    """
    now = now or timezone.now()
    month = month_of(month)
    values = {name: values.get(name) for name in REPORT_VALUE_FIELDS}
    errors: dict[str, list[str]] = {}
    if township.level != Level.TOWNSHIP:
        errors["township"] = [_("核心指标表由乡镇（街道）报送，请选择乡镇（街道）。")]
    elif user is not None and not may(user, "assessment.report", COVERS, township.code):
        errors["township"] = [_("您无权报送该乡镇（街道）的核心指标表。")]
    if month > month_of(timezone.localdate(now)):
        errors["month"] = [_("不能报送尚未开始的月份。")]
    elif month.year < 2000:
        errors["month"] = [_("月份有误。")]
    errors.update(report_value_errors(values))
    if errors:
        raise InputError(errors)
    existing = _existing_report(township, month)
    if existing is None:
        try:
            with transaction.atomic():
                report = MonthlyReport.objects.create(
                    township=township,
                    region_code=township.code,
                    month=month,
                    deadline=month_deadline(month),
                    submitted_at=now,
                    submitted_by=user,
                    **values,
                )
            return report, True
        except IntegrityError:  # a concurrent first submission committed first
            existing = _existing_report(township, month)
            if existing is None:
                raise
    return _report_correct(existing, values=values, now=now), False


def _report_correct(report: MonthlyReport, *, values: dict, now: dt.datetime) -> MonthlyReport:
    changed = [name for name in REPORT_VALUE_FIELDS if getattr(report, name) != values[name]]
    if not changed:
        return report
    if not report_is_correctable(report, now):
        raise InputError(
            {
                "month": [
                    _("%(month)s的核心指标表已于%(at)s报送，报送期限（%(deadline)s）已过，不能再修改。")
                    % {
                        "month": f"{report.month:%Y-%m}",
                        "at": f"{timezone.localtime(report.submitted_at):%Y-%m-%d %H:%M}",
                        "deadline": f"{timezone.localtime(report.deadline):%Y-%m-%d %H:%M}",
                    }
                ]
            }
        )
    for name in changed:
        setattr(report, name, values[name])
    report.save(update_fields=[*changed, "updated_at"])
    return report
