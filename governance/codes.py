"""Region codes (区划代码, SPEC §2): the levels, the field, the `__under` lookup and every slice of a code.

A region code is a digit string whose prefixes are its ancestors' codes, one length per level
(province 2, city 4, county 6, township 9, village 12, grid 15). Every app that cuts a code to an
ancestor does it through the helpers below, so the lengths are stated once, here, in the platform.

`code__under=X` is "everything in region X's subtree" as one indexed comparison. The two databases
need different SQL for that to use an index: PostgreSQL's `LIKE 'X%'` uses the `varchar_pattern_ops`
index Django builds beside every unique CharField, while SQLite never uses an index for `LIKE` on a
case-sensitive column but does for the equivalent range `code >= 'X' AND code < 'X:'` (':' sorts
right after '9'). The range is not used on PostgreSQL because a non-C collation may ignore punctuation.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Lookup
from django.utils.translation import gettext_lazy as _


class Level(models.IntegerChoices):
    """The six levels of SPEC §2, numbered from the top."""

    PROVINCE = 1, _("省")
    CITY = 2, _("市")
    COUNTY = 3, _("县（区）")
    TOWNSHIP = 4, _("乡镇（街道）")
    VILLAGE = 5, _("村（社区）")
    GRID = 6, _("网格")


# Code length at each level: province 2, city 4, county 6, township 9, village 12, grid 15.
CODE_LENGTH = {
    Level.PROVINCE: 2,
    Level.CITY: 4,
    Level.COUNTY: 6,
    Level.TOWNSHIP: 9,
    Level.VILLAGE: 12,
    Level.GRID: 15,
}
LEVEL_BY_CODE_LENGTH = {length: level for level, length in CODE_LENGTH.items()}


def level_of(code: str) -> Level:
    """The level a code's length says it is at (KeyError for a length no level has)."""
    return LEVEL_BY_CODE_LENGTH[len(code)]


def ancestor_code(code: str, level: int) -> str:
    """The code of the region at `level` that contains `code` (the code itself at its own level)."""
    return code[: CODE_LENGTH[Level(level)]]


def parent_code(code: str) -> str:
    """The code of the region directly above; "" for a province."""
    level = level_of(code)
    return ancestor_code(code, level - 1) if level > Level.PROVINCE else ""


def supervising_code(code: str, level: int | None = None) -> str:
    """The region one level above `level` (by default the code's own level): the one that
    supervises what is held at `level`. The province supervises itself."""
    level = level_of(code) if level is None else level
    return ancestor_code(code, max(level - 1, Level.PROVINCE))


def ancestors(code: str, *, include_self: bool = False, top: int = Level.PROVINCE) -> list[str]:
    """The codes of the regions containing `code`, from `top` (the province by default) down,
    derived from the code itself (no query); with `include_self` the code closes the list."""
    limit = len(code) if include_self else len(code) - 1
    return [code[:length] for level, length in CODE_LENGTH.items() if level >= top and length <= limit]


class Under(Lookup):
    lookup_name = "under"
    prepare_rhs = False

    def _prefix(self) -> str:
        prefix = str(self.rhs)
        if not prefix.isdigit():
            raise ValueError(f"region code prefix must be digits, got {prefix!r}")
        return prefix

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} LIKE %s", [*lhs_params, self._prefix() + "%"]

    def as_sqlite(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        prefix = self._prefix()
        return f"({lhs} >= %s AND {lhs} < %s)", [*lhs_params, prefix, *lhs_params, prefix + ":"]


class RegionCodeField(models.CharField):
    """A statistical division code used as a materialised path (区划代码)."""


RegionCodeField.register_lookup(Under)


def province_code_field() -> models.GeneratedField:
    """The two-digit province of a row's `region_code`, stored by the database itself.

    The partition key a big table will be split by (docs/scaling.md): present from the start, it lets a
    later migration attach today's table as a partition without rewriting it. Nothing writes it and
    nothing can set it wrong; a case transferred to another province's organisation moves with it.
    """
    from django.db.models.functions import Left

    return models.GeneratedField(
        expression=Left("region_code", CODE_LENGTH[Level.PROVINCE]),
        output_field=models.CharField(max_length=CODE_LENGTH[Level.PROVINCE]),
        db_persist=True,
        verbose_name=_("省级区划代码"),
        editable=False,
    )
