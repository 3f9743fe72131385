"""Writes to the hierarchy: region import (CSV / GeoJSON) and the matching exports."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Count, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from governance import audit, codes
from governance.choices import AuditAction
from governance.codes import LEVEL_BY_CODE_LENGTH, Level
from governance.scoping import in_jurisdiction
from grids.choices import GridType, Terrain
from grids.models import GridWorker, Region, validate_region_shape
from grids.outlines import simplify_geometry

CSV_COLUMNS = [
    "code",
    "name",
    "level",
    "parent_code",
    "terrain",
    "urban",
    "population",
    "households",
    "area_km2",
    "lat",
    "lng",
    "grid_type",
    "parttime_workers",
    "building_heads",
]

_LEVEL_WORDS = {
    **{str(level.value): level for level in Level},
    **{level.name.lower(): level for level in Level},
    "省": Level.PROVINCE,
    "市": Level.CITY,
    "县": Level.COUNTY,
    "区": Level.COUNTY,
    "乡镇": Level.TOWNSHIP,
    "街道": Level.TOWNSHIP,
    "村": Level.VILLAGE,
    "社区": Level.VILLAGE,
    "网格": Level.GRID,
}
_TERRAIN_WORDS = {
    **{t.value: t for t in Terrain},
    "山区": Terrain.MOUNTAIN,
    "丘陵": Terrain.HILL,
    "平原": Terrain.PLAIN,
}
_TRUE = {"1", "true", "yes", "y", "urban", "是", "城镇", "城市"}
_FALSE = {"0", "false", "no", "n", "rural", "否", "农村", ""}


@dataclass
class RowOutcome:
    line: int
    code: str
    outcome: str  # created | updated | unchanged | rejected
    errors: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class ImportReport:
    rows: list[RowOutcome] = field(default_factory=list)
    dry_run: bool = False

    def count(self, outcome: str) -> int:
        return sum(1 for row in self.rows if row.outcome == outcome)

    @property
    def summary(self) -> dict[str, int]:
        return {name: self.count(name) for name in ("created", "updated", "unchanged", "rejected")}

    @property
    def rejected(self) -> list[RowOutcome]:
        return [row for row in self.rows if row.outcome == "rejected"]


class RowError(Exception):
    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors)
        self.errors = errors


def _text(row: dict, key: str) -> str:
    value = row.get(key)
    return "" if value is None else str(value).strip()


def _number(row: dict, key: str, kind: type, errors: dict, *, default=None):
    raw = _text(row, key)
    if raw == "":
        return default
    try:
        value = kind(raw)
    except ValueError:
        errors.setdefault(key, []).append(_("“%(value)s”不是有效的数字。") % {"value": raw})
        return default
    if value < 0 and key not in ("lat", "lng"):
        errors.setdefault(key, []).append(_("不能为负数。"))
    return value


def parse_row(row: dict[str, Any]) -> dict[str, Any]:
    """Turn one input row into Region field values, or raise RowError with field messages."""
    errors: dict[str, list[str]] = {}
    code = _text(row, "code")
    name = _text(row, "name")
    if not name:
        errors["name"] = [_("名称不能为空。")]
    if not code.isdigit() or len(code) not in LEVEL_BY_CODE_LENGTH:
        errors["code"] = [_("区划代码应为2、4、6、9、12或15位数字。")]
    level_word = _text(row, "level").lower()
    level = _LEVEL_WORDS.get(level_word) if level_word else LEVEL_BY_CODE_LENGTH.get(len(code))
    if level_word and level is None:
        errors["level"] = [_("无法识别的层级“%(value)s”。") % {"value": level_word}]
    terrain_word = _text(row, "terrain").lower()
    terrain = _TERRAIN_WORDS.get(terrain_word, Terrain.PLAIN if not terrain_word else None)
    if terrain is None:
        errors["terrain"] = [_("地形类别应为山区、丘陵或平原。")]
    urban_word = _text(row, "urban").lower()
    if urban_word not in _TRUE | _FALSE:
        errors["urban"] = [_("城镇/农村应填写“城镇”或“农村”。")]
    grid_type = _text(row, "grid_type")
    if grid_type and grid_type not in GridType.values:
        labels = {str(label): value for value, label in GridType.choices}
        grid_type = labels.get(grid_type, grid_type)
        if grid_type not in GridType.values:
            errors["grid_type"] = [_("无法识别的网格类型。")]
    values = {
        "code": code,
        "name": name,
        "level": level,
        "parent_code": _text(row, "parent_code"),
        "terrain": terrain,
        "is_urban": urban_word in _TRUE,
        "population": _number(row, "population", int, errors, default=0),
        "households": _number(row, "households", int, errors, default=0),
        "area_km2": _number(row, "area_km2", float, errors),
        "centroid_lat": _number(row, "lat", float, errors),
        "centroid_lng": _number(row, "lng", float, errors),
        "grid_type": grid_type or (GridType.COMPREHENSIVE if level == Level.GRID else ""),
        "parttime_workers": _number(row, "parttime_workers", int, errors, default=0),
        "building_heads": _number(row, "building_heads", int, errors, default=0),
    }
    if "boundary" in row:
        # Outlines are simplified once, here, to what a map of their level needs (grids.outlines).
        simplified = simplify_geometry(row["boundary"], level) if level else None
        values["boundary"] = simplified or row["boundary"]
    if errors:
        raise RowError(errors)
    return values


def read_csv(stream: io.TextIOBase) -> Iterator[tuple[int, dict]]:
    """Rows of a region CSV with their line numbers (header is line 1); a UTF-8 BOM is tolerated."""
    reader = csv.DictReader(stream)
    if reader.fieldnames:
        reader.fieldnames = [name.lstrip("\ufeff").strip() for name in reader.fieldnames]
    for row in reader:
        yield reader.line_num, row


def read_geojson(stream: io.TextIOBase) -> Iterator[tuple[int, dict]]:
    """Features of a GeoJSON FeatureCollection as rows; the geometry becomes the boundary."""
    document = json.load(stream)
    for index, feature in enumerate(document.get("features", []), start=1):
        row = dict(feature.get("properties") or {})
        geometry = feature.get("geometry")
        if geometry:
            row["boundary"] = geometry
            if not row.get("lat") and not row.get("lng"):
                centre = _centroid(geometry)
                if centre:
                    row["lng"], row["lat"] = centre
        yield index, row


def _centroid(geometry: dict) -> tuple[float, float] | None:
    """Mean of the outer-ring vertices: good enough for a map label, no GIS library needed."""
    coords = geometry.get("coordinates") or []
    if geometry.get("type") == "Point":
        return tuple(coords[:2]) if len(coords) >= 2 else None
    if geometry.get("type") == "Polygon" and coords:
        ring = coords[0]
    elif geometry.get("type") == "MultiPolygon" and coords and coords[0]:
        ring = coords[0][0]
    else:
        return None
    if not ring:
        return None
    return (sum(p[0] for p in ring) / len(ring), sum(p[1] for p in ring) / len(ring))


_COMPARED = [
    "name",
    "level",
    "terrain",
    "is_urban",
    "population",
    "households",
    "area_km2",
    "centroid_lat",
    "centroid_lng",
    "grid_type",
    "parttime_workers",
    "building_heads",
    "boundary",
]


def import_regions(
    *, rows: Iterable[tuple[int, dict]], acting_user=None, dry_run: bool = False, bulk: bool = False
) -> ImportReport:
    """Create or update regions from rows; idempotent, with one outcome per row.

    Rows are applied parents first (by code length), so a file may list them in any
    order. A row is rejected — and the rest still applied — when its values are
    invalid, its parent is unknown or rejected, or it lies outside the acting user's
    jurisdiction. With `dry_run` everything is checked and nothing kept. With `bulk` (large
    files: the historical import) new regions are written a level at a time by bulk_create, under
    the one bulk audit entry, instead of one audited save each.
    """
    report = ImportReport(dry_run=dry_run)
    parsed: list[tuple[int, dict | None, dict, str]] = []
    for line, raw in rows:
        try:
            parsed.append((line, parse_row(raw), {}, _text(raw, "code")))
        except RowError as exc:
            parsed.append((line, None, exc.errors, _text(raw, "code")))
    valid = [values for _line, values, _errors, _code in parsed if values]
    known = _existing_regions({v["code"] for v in valid} | {_parent_code(v) for v in valid if _parent_code(v)})
    ordered = sorted(parsed, key=lambda item: len(item[3]))
    pending: list[Region] | None = [] if bulk else None
    with transaction.atomic():
        for line, values, errors, code in ordered:
            if pending and len(pending[0].code) != len(code):
                Region.objects.bulk_create(pending)  # a level's parents exist before its children
                pending.clear()
            if values is not None:
                try:
                    outcome = _apply_row(values, known, acting_user, pending)
                except RowError as exc:
                    errors, outcome = exc.errors, "rejected"
            else:
                outcome = "rejected"
            report.rows.append(RowOutcome(line=line, code=code, outcome=outcome, errors=errors))
        if pending:
            Region.objects.bulk_create(pending)
        report.rows.sort(key=lambda row: row.line)
        if dry_run:
            transaction.set_rollback(True)
        else:
            audit.record(
                AuditAction.BULK,
                model_label="grids.region",
                object_repr=_("区划导入"),
                region_code=acting_user.region.code if acting_user is not None and acting_user.region_id else "",
                changes=report.summary,
            )
    return report


def _parent_code(values: dict) -> str:
    if values["parent_code"]:
        return values["parent_code"]
    level = values.get("level")
    if level and level > Level.PROVINCE:
        return codes.ancestor_code(values["code"], level - 1)
    return ""


def _existing_regions(codes: set[str]) -> dict[str, Region]:
    found: dict[str, Region] = {}
    codes_list = sorted(code for code in codes if code)
    for start in range(0, len(codes_list), 500):  # stay under SQLite's parameter limit
        for region in Region.objects.filter(code__in=codes_list[start : start + 500]):
            found[region.code] = region
    return found


def _apply_row(values: dict, known: dict[str, Region], acting_user, pending: list[Region] | None = None) -> str:
    code = values["code"]
    if acting_user is not None and not in_jurisdiction(acting_user, code):
        raise RowError({"code": [_("该区划不在您的管辖范围内。")]})
    parent_code = _parent_code(values)
    parent = known.get(parent_code) if parent_code else None
    if parent_code and parent is None:
        raise RowError({"parent_code": [_("上级区划“%(code)s”不存在或未导入成功。") % {"code": parent_code}]})
    errors = validate_region_shape(code, values["level"], parent)
    if values["level"] != Level.GRID and values["grid_type"]:
        errors.setdefault("grid_type", []).append(_("只有网格才有网格类型。"))
    if errors:
        raise RowError(errors)
    region = known.get(code)
    fields = {name: values[name] for name in _COMPARED if name in values}
    if region is None:
        region = Region(code=code, parent=parent, **fields)
        if pending is None:
            region.save()
        else:
            pending.append(region)
        known[code] = region
        return "created"
    changed = [name for name, value in fields.items() if getattr(region, name) != value]
    if region.parent_id != (parent.pk if parent else None):
        region.parent = parent
        changed.append("parent")
    if not changed:
        return "unchanged"
    for name in changed:
        if name != "parent":
            setattr(region, name, fields[name])
    region.save(update_fields=[*changed, "updated_at"])
    return "updated"


def export_rows(regions: Iterable[Region]) -> Iterator[dict[str, Any]]:
    for region in regions:
        yield {
            "code": region.code,
            "name": region.name,
            "level": region.level,
            "parent_code": codes.parent_code(region.code),
            "terrain": region.terrain,
            "urban": "1" if region.is_urban else "0",
            "population": region.population,
            "households": region.households,
            "area_km2": "" if region.area_km2 is None else region.area_km2,
            "lat": "" if region.centroid_lat is None else region.centroid_lat,
            "lng": "" if region.centroid_lng is None else region.centroid_lng,
            "grid_type": region.grid_type,
            "parttime_workers": region.parttime_workers,
            "building_heads": region.building_heads,
        }


class _Echo:
    def write(self, value: str) -> str:
        return value


def export_csv(regions: Iterable[Region]) -> Iterator[str]:
    """The CSV export, as text chunks for a streaming response (UTF-8 BOM for Excel)."""
    writer = csv.DictWriter(_Echo(), fieldnames=CSV_COLUMNS)
    yield "\ufeff" + writer.writeheader()
    for row in export_rows(regions):
        yield writer.writerow(row)


def export_geojson(regions: Iterable[Region]) -> Iterator[str]:
    """A GeoJSON FeatureCollection, streamed feature by feature."""
    yield '{"type":"FeatureCollection","features":['
    for index, region in enumerate(regions):
        feature = {"type": "Feature", "properties": next(export_rows([region])), "geometry": region.boundary}
        yield ("," if index else "") + json.dumps(feature, ensure_ascii=False)
    yield "]}"


def recount_fulltime_workers(*, grid_ids: Iterable[int] | None = None, on: dt.date | None = None) -> int:
    """Store on each grid how many full-time grid workers are on duty on `on` (default today).

    One set-based UPDATE; run for one grid whenever its workers change and for every grid
    by the daily beat task shortly after midnight, when start and end dates take effect.
    Returns the number of grids updated.
    """
    on = on or timezone.localdate()
    on_duty = (
        GridWorker.objects.filter(grid=OuterRef("pk"), is_full_time=True, started_on__lte=on)
        .filter(Q(ended_on__isnull=True) | Q(ended_on__gte=on))
        .order_by()
        .values("grid")
        .annotate(n=Count("pk"))
        .values("n")
    )
    grids = Region.objects.filter(level=Level.GRID)
    if grid_ids is not None:
        grids = grids.filter(pk__in=list(grid_ids))
    return grids.update(fulltime_workers=Coalesce(Subquery(on_duty), Value(0)))
