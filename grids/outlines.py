"""Region outlines (边界): simplified once when they come in, served a level at a time.

An outline is stored as GeoJSON geometry on `Region.boundary`. A map never needs survey-grade
detail, so geometry is simplified when it enters the platform (region import, demo) to a
tolerance that suits the level it is drawn at, and its coordinates are rounded (4 decimals ≈ 11 m
for a county, 5 for villages and grids). A province's counties then travel as one document of a
few hundred kilobytes instead of tens of megabytes.

The demo's outlines: real city and county outlines of 甘肃省 (grids/data/gansu_outlines.json,
see scripts/extract_demo_outlines.py for the source and licence) where the demo uses real
names; every other unit gets a Voronoi cell of its siblings' seed points clipped to its
parent's outline, so the map drills down to the grids.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from shapely import MultiPoint, Point, make_valid, voronoi_polygons
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union
from shapely.prepared import prep

from governance.codes import Level

# Simplification tolerance (degrees) and kept decimals per level drawn.
TOLERANCE = {
    Level.PROVINCE: 0.01,
    Level.CITY: 0.004,
    Level.COUNTY: 0.002,
    Level.TOWNSHIP: 0.0008,
    Level.VILLAGE: 0.0002,
    Level.GRID: 0.00005,
}
DECIMALS = {Level.PROVINCE: 3, Level.CITY: 4, Level.COUNTY: 4, Level.TOWNSHIP: 4, Level.VILLAGE: 5, Level.GRID: 5}
POLYGONAL = ("Polygon", "MultiPolygon")
DEMO_OUTLINES = Path(__file__).resolve().parent / "data" / "gansu_outlines.json"


def _rounded(coords, decimals: int):
    if coords and isinstance(coords[0], int | float):
        return [round(coords[0], decimals), round(coords[1], decimals)]
    return [_rounded(part, decimals) for part in coords]


def _polygonal(geometry: BaseGeometry) -> BaseGeometry | None:
    """Only the polygons of a geometry (an intersection may add lines or points)."""
    if geometry.is_empty:
        return None
    if geometry.geom_type in POLYGONAL:
        return geometry
    parts = [g for g in getattr(geometry, "geoms", []) if g.geom_type in POLYGONAL]
    return unary_union(parts) if parts else None


def to_geojson(geometry: BaseGeometry, level: int) -> dict:
    out = mapping(geometry)
    return {"type": out["type"], "coordinates": _rounded(json.loads(json.dumps(out["coordinates"])), DECIMALS[level])}


def simplify_geometry(geometry: dict | None, level: int) -> dict | None:
    """A polygonal GeoJSON geometry simplified for the map of its level (topology kept, coordinates
    rounded); None for anything that is not a polygon. Simplifying an already simplified outline
    again changes nothing, so importing the same file twice stays idempotent."""
    if not geometry or geometry.get("type") not in POLYGONAL:
        return None
    try:
        shapely_geometry = make_valid(shape(geometry))
    except (ValueError, TypeError, AttributeError, IndexError):
        return None
    simplified = _polygonal(shapely_geometry.simplify(TOLERANCE[Level(level)], preserve_topology=True))
    if simplified is None:
        return None
    result = to_geojson(simplified, level)
    return result if result != geometry else geometry


def feature_collection(regions: Iterable) -> dict:
    """One GeoJSON document of the regions' outlines (code and name as properties)."""
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "id": r.code, "properties": {"code": r.code, "name": r.name}, "geometry": r.boundary}
            for r in regions
            if r.boundary
        ],
    }


# --- Generated outlines (the demo) -------------------------------------------------------------------------


def _seed_points(parent: BaseGeometry, n: int, rng: random.Random) -> list[Point]:
    """n random points inside the parent (rejection sampling in its bounding box)."""
    prepared = prep(parent)
    minx, miny, maxx, maxy = parent.bounds
    points: list[Point] = []
    for _attempt in range(n * 200):
        if len(points) == n:
            break
        point = Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
        if prepared.contains(point):
            points.append(point)
    while len(points) < n:  # a sliver of a parent: fall back to its representative point, nudged
        base = parent.representative_point()
        points.append(Point(base.x + 1e-6 * len(points), base.y))
    return points


def voronoi_cells(parent: BaseGeometry, n: int, rng: random.Random) -> list[BaseGeometry | None]:
    """n cells that tile the parent: the Voronoi cells of n random seed points, clipped to it."""
    if n == 1:
        return [parent]
    points = _seed_points(parent, n, rng)
    cells = voronoi_polygons(MultiPoint(points), extend_to=parent.envelope.buffer(1))
    by_point: list[BaseGeometry | None] = [None] * n
    for cell in cells.geoms:
        for index, point in enumerate(points):
            if by_point[index] is None and cell.contains(point):
                by_point[index] = _polygonal(cell.intersection(parent))
                break
    return by_point


@cache
def demo_outlines() -> dict:
    return json.loads(DEMO_OUTLINES.read_text(encoding="utf-8"))


def assign_demo_outlines(regions: list, *, max_level: int = Level.GRID, seed: int = 2026) -> int:
    """Give the demo's unsaved regions outlines: real ones for cities and counties found by name
    in the packaged outlines, Voronoi cells inside the parent for the rest, down to `max_level`.
    The province is the union of all the packaged cities. Returns how many regions got one."""
    rng = random.Random(seed)
    known = demo_outlines()
    children: dict[str, list] = {}
    for region in regions:
        if region.parent is not None:
            children.setdefault(region.parent.code, []).append(region)
    shapes: dict[str, BaseGeometry] = {}
    assigned = 0
    for region in sorted(regions, key=lambda r: (r.level, r.code)):
        if region.level == Level.PROVINCE:
            province = unary_union([shape(g) for g in known["cities"].values()]).buffer(0)
            shapes[region.code] = province
            region.boundary = simplify_geometry(mapping(province), Level.PROVINCE)
            assigned += 1
        if region.level >= max_level or region.code not in shapes:
            continue
        kids = sorted(children.get(region.code, []), key=lambda r: r.code)
        if not kids:
            continue
        names = _real_children(region, known)
        unknown = [kid for kid in kids if _real_name(kid.name, names) is None]
        cells = dict(zip((k.code for k in unknown), voronoi_cells(shapes[region.code], len(unknown), rng), strict=True))
        for kid in kids:
            name = _real_name(kid.name, names)
            geometry = shape(names[name]) if name else cells.get(kid.code)
            if geometry is None or geometry.is_empty:
                continue
            shapes[kid.code] = geometry
            kid.boundary = simplify_geometry(mapping(geometry), kid.level)
            assigned += 1
    return assigned


def _real_children(region, known: dict) -> dict:
    """The packaged outlines of a region's children: the cities of the province, the counties
    of a real city (a synthetic county is never matched to a namesake elsewhere)."""
    if region.level == Level.PROVINCE:
        return known["cities"]
    if region.level == Level.CITY:
        return known["counties"].get(_real_name(region.name, known["cities"]) or "", {})
    return {}


def _real_name(name: str, names: dict) -> str | None:
    """The packaged name of a real unit: 兰州市 is 兰州 there, 城关区 is 城关区."""
    for candidate in (name, name.removesuffix("市")):
        if candidate in names:
            return candidate
    return None
