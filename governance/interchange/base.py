"""The interchange framework: reading a file, the record-type registry, the report, the context
shared by the validation and write passes (caches of regions and references).

The framework knows no feature app. Each app registers its record types (`register`, from its
`AppConfig.ready()`); grids registers the `RegionResolver` that turns a region code into a region.
Each record type is a `RecordType` with:
- `position`: the place of its section in a file (docs/import-format.md); the registry keeps the
  types in that order, and the importer and the exporter follow it;
- `validate(row, ctx) -> Prepared`: parse and check one row, raising `Rejected` with reasons;
  nothing is written. References to other rows of the same file are checked against `ctx.seen`;
- `write(batch, ctx) -> list[object_id]`: create a batch of prepared rows with bulk_create and
  return the new ids (the caller records the ExternalRefs);
- `export(scope) -> rows`: its rows of an export (exporter.ExportScope: subtree, dates, user).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar, Protocol

from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from governance.audit import canonical_json
from governance.scoping import in_jurisdiction

FORMAT_NAME = "grid-governance-interchange"
FORMAT_VERSION = 1
DEFAULT_SOURCE = "platform"
BATCH_SIZE = 2000


class Rejected(Exception):
    """A row that cannot be imported; `reasons` are {field: [messages]}."""

    def __init__(self, reasons: dict[str, list[str]] | str):
        if isinstance(reasons, str):
            reasons = {"row": [reasons]}
        super().__init__(reasons)
        self.reasons = reasons


class Unchanged(Exception):
    """A row naming a record the platform already holds with the same content (counted, not written)."""


@dataclass
class Prepared:
    """One validated row, ready to be written."""

    kind: str
    external_id: str
    digest: str
    region_code: str
    line: int
    values: dict[str, Any] = field(default_factory=dict)


@dataclass
class RejectedRow:
    line: int
    kind: str
    external_id: str
    reasons: dict[str, list[str]]


@dataclass
class ImportReport:
    """What an import did (or, on a dry run or a rejected file, would have done)."""

    source: str = DEFAULT_SOURCE
    dry_run: bool = False
    lines: int = 0
    created: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)
    rejected: list[RejectedRow] = field(default_factory=list)
    written: bool = False

    @property
    def ok(self) -> bool:
        return not self.rejected

    def count(self, bucket: dict[str, int], kind: str) -> None:
        bucket[kind] = bucket.get(kind, 0) + 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "dry_run": self.dry_run,
            "written": self.written,
            "lines": self.lines,
            "created": self.created,
            "unchanged": self.unchanged,
            "rejected": [
                {"line": r.line, "type": r.kind, "id": r.external_id, "reasons": r.reasons} for r in self.rejected
            ],
        }


# --- Reading -----------------------------------------------------------------------------------------


def read_lines(stream: Iterable[str | bytes]) -> Iterator[tuple[int, dict | None, str]]:
    """(line number, parsed object or None, error) for every non-blank line; one line in memory."""
    for number, raw in enumerate(stream, start=1):
        if isinstance(raw, bytes):
            try:
                raw = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                yield number, None, _("这一行不是UTF-8编码的文本（第%(byte)s个字节）。") % {"byte": exc.start + 1}
                continue
        text = raw.strip().lstrip("\ufeff")
        if not text:
            continue
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:  # exc.msg is English: say where, in the user's language
            yield number, None, _("不是有效的JSON（第%(column)s个字符附近）。") % {"column": exc.colno}
            continue
        if not isinstance(value, dict):
            yield number, None, _("每行应为一个JSON对象。")
            continue
        yield number, value, ""


def digest_of(row: dict) -> str:
    """The content digest of a row: canonical JSON without the row's type."""
    content = {k: v for k, v in row.items() if k != "type"}
    return hashlib.sha256(canonical_json(content).encode("utf-8")).hexdigest()


# --- Field parsing (raising Rejected with the field name) ------------------------------------------------


def text(row: dict, key: str, *, required: bool = False, max_length: int | None = None) -> str:
    value = row.get(key)
    value = "" if value is None else str(value).strip()
    if required and not value:
        raise Rejected({key: [_("不能为空。")]})
    if max_length is not None and len(value) > max_length:
        raise Rejected({key: [_("不能超过%(n)s个字符。") % {"n": max_length}]})
    return value


def moment(row: dict, key: str, *, required: bool = True) -> dt.datetime | None:
    """An ISO-8601 timestamp with an offset (a naive one is refused: the offset is the contract)."""
    raw = row.get(key)
    if raw in (None, ""):
        if required:
            raise Rejected({key: [_("不能为空。")]})
        return None
    value = _parse_moment(raw) if isinstance(raw, str) else None
    if value is None:
        raise Rejected({key: [_("“%(value)s”不是ISO 8601时间。") % {"value": raw}]})
    if value.tzinfo is None:
        raise Rejected({key: [_("时间“%(value)s”缺少时区偏移（如+08:00）。") % {"value": raw}]})
    if value > _now():
        raise Rejected({key: [_("时间“%(value)s”晚于当前时间。") % {"value": raw}]})
    return value


def _parse_moment(raw: str) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(raw)  # the common case, in C
    except ValueError:
        return parse_datetime(raw)


_clock = {"now": None, "reads": 0}


def _now() -> dt.datetime:
    """The present, read once per thousand timestamps (a file is never minutes in the future)."""
    if _clock["now"] is None or _clock["reads"] >= 1000:
        _clock["now"], _clock["reads"] = timezone.now(), 0
    _clock["reads"] += 1
    return _clock["now"]


def day(row: dict, key: str, *, required: bool = True) -> dt.date | None:
    raw = row.get(key)
    if raw in (None, ""):
        if required:
            raise Rejected({key: [_("不能为空。")]})
        return None
    value = parse_date(str(raw)) if isinstance(raw, str) else None
    if value is None:
        raise Rejected({key: [_("“%(value)s”不是日期（YYYY-MM-DD）。") % {"value": raw}]})
    return value


def integer(row: dict, key: str, *, default: int | None = None, minimum: int = 0) -> int:
    raw = row.get(key, default)
    if raw is None:
        raise Rejected({key: [_("不能为空。")]})
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < minimum:
        raise Rejected({key: [_("应为不小于%(n)s的整数。") % {"n": minimum}]})
    return raw


def decimal(row: dict, key: str, *, required: bool = True) -> Decimal | None:
    raw = row.get(key)
    if raw in (None, ""):
        if required:
            raise Rejected({key: [_("不能为空。")]})
        return None
    try:
        return Decimal(str(raw))
    except InvalidOperation as exc:
        raise Rejected({key: [_("“%(value)s”不是数字。") % {"value": raw}]}) from exc


def word(row: dict, key: str, allowed: Iterable[str], *, required: bool = True, default: str = "") -> str:
    value = text(row, key) or default
    allowed = list(allowed)
    if not value and not required:
        return ""
    if value not in allowed:
        raise Rejected(
            {key: [_("“%(value)s”不在可选值之内：%(allowed)s。") % {"value": value, "allowed": "|".join(allowed)}]}
        )
    return value


# --- The record-type registry ------------------------------------------------------------------------------


class RecordType:
    """One section of the file. Subclasses set `kind`, `model` and `position` and implement
    validate / export (and write, when a prepared row is not simply the fields of one `model` row)."""

    kind: ClassVar[str] = ""
    model: ClassVar[type[models.Model]]
    position: ClassVar[int] = 0  # the section's place in a file: a row refers only to earlier sections
    id_key: ClassVar[str] = "id"
    uses_refs: ClassVar[bool] = True  # False for regions: their code is their identity
    region_keys: ClassVar[tuple[str, ...]] = ()
    reveal_capability: ClassVar[str] = ""  # the capability that exports its personal data in clear

    @property
    def model_label(self) -> str:
        return self.model._meta.label_lower

    def validate(self, row: dict, ctx: Context) -> Prepared:  # pragma: no cover - abstract
        raise NotImplementedError

    def write(self, batch: list[Prepared], ctx: Context) -> list[int]:
        """By default each prepared row's values are the fields of one new `model` row."""
        rows = [self.model(**p.values) for p in batch]
        self.model.objects.bulk_create(rows)
        return [r.pk for r in rows]

    def export(self, scope) -> Iterator[dict]:  # pragma: no cover - abstract
        """The section's rows (without `type`) of an export (exporter.ExportScope)."""
        raise NotImplementedError

    def identity(self, row: dict) -> str:
        """The row's id within its type and source."""
        return str(row.get(self.id_key, "") or "").strip()

    def prefetch(self, rows: list[dict], ctx: Context) -> None:
        """Load what a chunk of rows refers to (regions, references) in a few queries."""
        ctx.load_regions(r.get(key) for r in rows for key in self.region_keys)


class RegionResolver(Protocol):
    """How the framework reaches regions (registered by the hierarchy app: `register_regions`).
    Levels are named by the file's words: province city county township village grid."""

    def find(self, codes: list[str]) -> dict[str, Any]:
        """The regions of `codes` that exist, by code."""

    def level(self, code: str) -> str:
        """The level a code denotes ("township"), or "" if none."""

    def level_label(self, level: str) -> str:
        """A level's name for people ("乡镇（街道）")."""

    def visible(self, code: str, user) -> bool:
        """Region `code` exists and `user` (None: an unrestricted operator) may see it."""


class Registry:
    """The registered record types by kind, kept in the order of their `position`."""

    def __init__(self) -> None:
        self._types: dict[str, RecordType] = {}
        self._index: dict[str, int] = {}
        self._regions: RegionResolver | None = None

    def add(self, record_type: RecordType) -> None:
        kind, position = record_type.kind, record_type.position
        if not kind or kind in self._types:
            raise ImproperlyConfigured(f"interchange record type {kind!r} registered twice (or without a kind)")
        clash = next((k for k, t in self._types.items() if t.position == position), None)
        if clash is not None:
            raise ImproperlyConfigured(f"interchange record types {clash!r} and {kind!r} share position {position}")
        types = sorted([*self._types.values(), record_type], key=lambda t: t.position)
        self._types = {t.kind: t for t in types}
        self._index = {k: i for i, k in enumerate(self._types)}

    def __getitem__(self, kind: str) -> RecordType:
        return self._types[kind]

    def __contains__(self, kind: object) -> bool:
        return kind in self._types

    def get(self, kind: str) -> RecordType | None:
        return self._types.get(kind)

    def kinds(self) -> list[str]:
        """The sections of a file, in order."""
        return list(self._types)

    def types(self) -> list[RecordType]:
        return list(self._types.values())

    def index(self, kind: str) -> int:
        """The place of a registered kind among the sections (0 for the first)."""
        return self._index[kind]

    @property
    def regions(self) -> RegionResolver:
        if self._regions is None:
            raise ImproperlyConfigured("no interchange RegionResolver registered (grids registers it in ready())")
        return self._regions

    def set_regions(self, resolver: RegionResolver) -> None:
        self._regions = resolver


REGISTRY = Registry()


def register(record_type: type[RecordType]) -> type[RecordType]:
    """Class decorator: register one instance of a record type (at its `position`)."""
    REGISTRY.add(record_type())
    return record_type


def register_regions(resolver: RegionResolver) -> None:
    REGISTRY.set_regions(resolver)


def kind_label(kind: str) -> str:
    """A section's name for people: its model's Chinese name ("网格事件" for `event`)."""
    record_type = REGISTRY.get(kind)
    if record_type is None:
        return kind
    return str(record_type.model._meta.verbose_name)


# --- The context of one import ---------------------------------------------------------------------------


class Context:
    """What both passes share: the acting user, the source namespace, caches, and the ids the
    file itself introduces (so a row may refer to an earlier row of the same file)."""

    def __init__(self, *, user, source: str):
        self.user = user
        self.source = source
        _clock["now"] = None  # "the future" is judged from this import's start on
        self.regions: dict[str, Any] = {}  # code -> region (None: no such region)
        self.file_regions: set[str] = set()
        self.file_keys: set[tuple] = set()  # departments and organisations of the file; its workers without account
        self.seen: dict[tuple[str, str], str] = {}  # (kind, external id) -> digest, this chunk's rows
        self.refs: dict[tuple[str, str], tuple[int | None, str]] = {}  # (kind, id) -> (object id, digest)
        self._staged = ""  # the temporary table of the ids seen so far
        self._staged_kinds: set[str] | None = None  # the kinds it holds (None: every kind)
        self.cache: dict = {}  # lookups memoised for this import (bounded by the directory, not the file)
        self.memo: dict = {}  # rules that do not depend on the file's rows (deadlines): kept for both passes
        self.phase = "validate"

    def allowed(self, code: str) -> bool:
        """Inside the acting user's jurisdiction (no user: an unrestricted operator)."""
        return self.user is None or in_jurisdiction(self.user, code)

    # regions
    def load_regions(self, codes: Iterable[Any]) -> None:
        wanted = {str(c) for c in codes if c} - self.regions.keys()
        wanted = sorted(wanted)
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            found = REGISTRY.regions.find(chunk)
            for code in chunk:
                self.regions[code] = found.get(code)

    def region(self, row: dict, key: str, *, levels: Iterable[str] | None = None, required: bool = True):
        """The region a row names by code, inside the caller's jurisdiction, at one of `levels`
        (the file's level words); during validation, the code of a region the file introduces."""
        code = text(row, key, required=required)
        if not code:
            return None
        region = self.regions.get(code)
        if region is None and code not in self.regions:
            self.load_regions([code])
            region = self.regions.get(code)
        level = REGISTRY.regions.level(code)
        if region is None and not (self.phase == "validate" and code in self.file_regions):
            raise Rejected({key: [_("区划“%(code)s”不存在。") % {"code": code}]})
        if not self.allowed(code):
            raise Rejected({key: [_("区划“%(code)s”不在您的管辖范围内。") % {"code": code}]})
        if levels is not None and level not in set(levels):
            names = "、".join(REGISTRY.regions.level_label(v) for v in levels)
            raise Rejected({key: [_("区划“%(code)s”应为%(levels)s。") % {"code": code, "levels": names}]})
        return region if region is not None else code

    # references to other records of this source. Memory stays flat in the file's size: `refs` and
    # `seen` hold one chunk's worth; earlier rows are looked up where they are kept — ExternalRef
    # (imported before, or written earlier in this write pass) and, during validation, a temporary
    # table of the (type, id, digest) of every row validated so far.
    def begin_chunk(self) -> None:
        self.refs, self.seen = {}, {}

    def stage_begin(self, kinds: Iterable[str] | None = None) -> None:
        """Keep the ids seen so far in a temporary table: of every kind (validation), or only of
        `kinds` (the write pass: the others are found in ExternalRef, written with each chunk)."""
        from django.db import connection

        self._staged_kinds = None if kinds is None else set(kinds)
        self._staged = f"interchange_seen_{uuid.uuid4().hex[:12]}"
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMPORARY TABLE {self._staged} (kind varchar(24) NOT NULL, external_id varchar(200) NOT NULL,"
                " digest char(64) NOT NULL, PRIMARY KEY (kind, external_id))"
            )

    def stage_end(self) -> None:
        from django.db import connection

        if self._staged:
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE IF EXISTS {self._staged}")
            self._staged = ""

    def forget_stage(self) -> None:
        """The temporary table was dropped by a rollback (it was created inside the transaction)."""
        self._staged = ""

    def stage(self, kind: str) -> None:
        """Keep the rows this chunk validated (its `seen`) for the chunks after it."""
        from django.db import connection

        rows = [(k, i, d) for (k, i), d in self.seen.items() if k == kind]
        if not (self._staged and rows and self._stages(kind)):
            return
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":  # COPY: executemany would send a statement per row
                buffer = io.StringIO()
                csv.writer(buffer).writerows(rows)
                buffer.seek(0)
                cursor.copy_expert(
                    f"COPY {self._staged} (kind, external_id, digest) FROM STDIN WITH (FORMAT csv)", buffer
                )
            else:
                cursor.executemany(f"INSERT INTO {self._staged} (kind, external_id, digest) VALUES (%s, %s, %s)", rows)

    def _stages(self, kind: str) -> bool:
        return bool(self._staged) and (self._staged_kinds is None or kind in self._staged_kinds)

    def load_refs(self, kind: str, ids: Iterable[str]) -> None:
        from django.db import connection

        from governance.models import ExternalRef

        wanted = sorted(i for i in {str(i) for i in ids if i} if (kind, i) not in self.refs)
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            rows = ExternalRef.objects.filter(source=self.source, kind=kind, external_id__in=chunk)
            for ref in rows.values_list("external_id", "object_id", "digest"):
                self.refs[(kind, ref[0])] = (ref[1], ref[2])
            if self._stages(kind):  # rows earlier in the file (not written, or without ExternalRef)
                marks = ", ".join(["%s"] * len(chunk))
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"SELECT external_id, digest FROM {self._staged} WHERE kind = %s AND external_id IN ({marks})",
                        [kind, *chunk],
                    )
                    for external_id, digest in cursor.fetchall():
                        self.refs.setdefault((kind, external_id), (None, digest))

    def ref_exists(self, kind: str, external_id: str) -> bool:
        key = (kind, external_id)
        if key not in self.refs and key not in self.seen:
            self.load_refs(kind, [external_id])
        return key in self.refs or key in self.seen

    def object_id(self, kind: str, external_id: str) -> int:
        if (kind, external_id) not in self.refs:
            self.load_refs(kind, [external_id])
        return self.refs[(kind, external_id)][0]

    def placeholder(self, kind: str, region: str, name: str, model: type[models.Model]):
        """During validation, an unsaved `model` stand-in (with a negative id) for a directory entry
        (department, mediation organisation) an earlier section of this file introduces; None if the
        file has none such."""
        if (kind, region, name) not in self.file_keys:
            return None
        key = ("placeholder", kind, region, name)
        if key not in self.cache:
            stand_in = model(pk=-len(self.cache) - 1, name=name)
            if self.regions.get(region) is not None:
                stand_in.region = self.regions[region]
            self.cache[key] = stand_in
        return self.cache[key]

    @property
    def import_actor(self) -> str:
        """Who history rows without a named actor are recorded as: translated once per import (a
        gettext per history row cost more than the rest of the row)."""
        if "import_actor" not in self.memo:
            self.memo["import_actor"] = _("历史数据导入")
        return self.memo["import_actor"]

    def cached(self, key, compute):
        if key not in self.cache:
            self.cache[key] = compute()
        return self.cache[key]

    def load_accounts(self, usernames: Iterable[str]) -> None:
        """The accounts a chunk names, in a few queries (what `account` would look up one by one)."""
        from governance.models import User

        wanted = sorted({u for u in usernames if u and ("user", u) not in self.cache})
        for start in range(0, len(wanted), 500):
            names = wanted[start : start + 500]
            found = {u.username: u for u in User.objects.filter(username__in=names)}
            self.cache.update({("user", name): found.get(name) for name in names})

    def account(self, username: str, key: str):
        """The platform account named `username` (looked up once per import); an unknown name is
        rejected on the row's `key`."""
        from governance.models import User

        user = self.cached(("user", username), lambda: User.objects.filter(username=username).first())
        if user is None:
            raise Rejected({key: [_("账号“%(u)s”不存在。") % {"u": username}]})
        return user
