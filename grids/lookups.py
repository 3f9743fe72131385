"""`code__under=X`: "everything in region X's subtree" as one indexed comparison.

Region codes are digit strings whose prefixes are their ancestors (SPEC §2), so a subtree
is a prefix match. The two databases need different SQL for that to use an index:
PostgreSQL's `LIKE 'X%'` uses the `varchar_pattern_ops` index Django builds beside every
unique CharField, while SQLite never uses an index for `LIKE` on a case-sensitive column
but does for the equivalent range `code >= 'X' AND code < 'X:'` (':' sorts right after '9').
The range is not used on PostgreSQL because a non-C collation may ignore punctuation.
"""

from django.db import models
from django.db.models import Lookup


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
