"""Writes of the grids app: regions (regions.py) and grid events (events.py)."""

from grids.services.regions import (
    CSV_COLUMNS,
    ImportReport,
    RowError,
    RowOutcome,
    export_csv,
    export_geojson,
    export_rows,
    import_regions,
    parse_row,
    read_csv,
    read_geojson,
    recount_fulltime_workers,
)

__all__ = [
    "CSV_COLUMNS",
    "ImportReport",
    "RowError",
    "RowOutcome",
    "export_csv",
    "export_geojson",
    "export_rows",
    "import_regions",
    "parse_row",
    "read_csv",
    "read_geojson",
    "recount_fulltime_workers",
]
