"""Identity numbers of parties: GB 11643 citizen IDs, GB 32100 unified social credit codes, mobiles."""

from __future__ import annotations

import datetime as dt
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
ID_CHECK = "10X98765432"
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
MOBILE = re.compile(r"^1[3-9]\d{9}$")


def id_check_digit(first17: str) -> str:
    return ID_CHECK[sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def validate_citizen_id(value: str, today: dt.date | None = None) -> str:
    """An 18-character citizen ID with a valid check digit and a plausible birth date; returns it normalised."""
    value = (value or "").strip().upper()
    if not re.fullmatch(r"\d{17}[\dX]", value):
        raise ValidationError(_("公民身份号码应为18位，前17位为数字，最后一位为数字或X。"), code="id_format")
    try:
        born = dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError as exc:
        raise ValidationError(_("公民身份号码中的出生日期无效。"), code="id_birth") from exc
    today = today or dt.date.today()
    if born > today or born.year < today.year - 120:
        raise ValidationError(_("公民身份号码中的出生日期不合理。"), code="id_birth")
    if id_check_digit(value[:17]) != value[17]:
        raise ValidationError(_("公民身份号码校验位错误，请核对。"), code="id_check")
    return value


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_CHARS[(31 - total % 31) % 31]


def validate_credit_code(value: str) -> str:
    """An 18-character unified social credit code with a valid check character; returns it normalised."""
    value = (value or "").strip().upper()
    if len(value) != 18 or any(c not in USCC_CHARS for c in value):
        raise ValidationError(_("统一社会信用代码应为18位数字或大写字母（不含I、O、Z、S、V）。"), code="uscc_format")
    if uscc_check_char(value[:17]) != value[17]:
        raise ValidationError(_("统一社会信用代码校验位错误，请核对。"), code="uscc_check")
    return value


def validate_mobile(value: str) -> str:
    value = re.sub(r"[\s-]", "", value or "")
    if not MOBILE.fullmatch(value):
        raise ValidationError(_("请输入11位中国大陆手机号码。"), code="mobile")
    return value


def mask_id(value: str) -> str:
    """620102********1234"""
    return value[:6] + "*" * (len(value) - 10) + value[-4:] if len(value) > 10 else "*" * len(value)
