"""The hierarchy: code rules, the indexed subtree lookup and the sizing flags."""

import pytest
from django.db import connection

from governance.codes import Level
from grids.choices import SizingFlag
from grids.models import GridWorker, Region, max_area_km2, validate_region_shape

from .factories import GridWorkerFactory, RegionFactory, arrange

pytestmark = pytest.mark.django_db


def test_it_accepts_the_six_code_lengths(world):
    for region in (world.province, world.city, world.county_a, world.township_a, world.village_a, world.grid_a):
        assert validate_region_shape(region.code, region.level, region.parent) == {}


@pytest.mark.parametrize(
    ("code", "level", "field"),
    [
        ("62010", Level.COUNTY, "code"),  # five digits: no such level
        ("6201a2", Level.COUNTY, "code"),
        ("620102", Level.TOWNSHIP, "level"),
        ("620202", Level.COUNTY, "parent"),  # does not start with the parent's code
    ],
)
def test_it_rejects_codes_that_break_the_rules(world, code, level, field):
    errors = validate_region_shape(code, level, world.city)
    assert field in errors


def test_a_subtree_is_the_region_and_everything_under_it(world):
    codes = set(Region.objects.under(world.county_a.code).values_list("code", flat=True))
    assert codes == {
        world.county_a.code,
        world.township_a.code,
        world.village_a.code,
        world.grid_a.code,
        world.grid_a2.code,
    }
    assert world.county_b.code not in codes


def test_the_under_lookup_follows_relations(world):
    workers = GridWorker.objects.filter(grid__code__under=world.county_b.code)
    assert [w.grid_id for w in workers] == [world.grid_b.pk]


def test_the_under_lookup_refuses_non_digit_prefixes(world):
    with pytest.raises(ValueError):
        list(Region.objects.filter(code__under="62%"))


def test_the_subtree_query_uses_the_code_index(world):
    sql, params = Region.objects.under("6201").values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            plan = " ".join(str(row) for row in cursor.fetchall())
            assert "USING" in plan and "INDEX" in plan, plan
        else:
            cursor.execute("SET enable_seqscan = off")
            cursor.execute("EXPLAIN " + sql, params)
            plan = " ".join(row[0] for row in cursor.fetchall())
            cursor.execute("SET enable_seqscan = on")
            assert "Index" in plan and "_like" in plan, plan


def _flags(grid: Region) -> set[str]:
    annotated = Region.objects.with_sizing_flags().get(pk=grid.pk)
    sql_flags = {flag for flag in SizingFlag.values if getattr(annotated, f"flag_{flag}")}
    assert sql_flags == set(annotated.sizing_flags()), "SQL and Python rules disagree"
    return sql_flags


@pytest.mark.parametrize(
    ("urban", "households", "flagged"),
    [
        (False, 79, True),
        (False, 80, False),
        (False, 120, False),
        (False, 121, True),
        (True, 300, False),
        (True, 301, True),
        (True, 20, False),
    ],
)
def test_household_bounds_are_flagged_at_their_edges(world, urban, households, flagged):
    grid = RegionFactory.child(world.village_a, 9, is_urban=urban, households=households, population=100)
    GridWorkerFactory(grid=grid)
    assert (SizingFlag.HOUSEHOLDS in _flags(grid)) is flagged


def test_a_grid_without_a_fulltime_worker_is_flagged(world):
    grid = RegionFactory.child(world.village_a, 9, households=100, population=200)
    GridWorkerFactory(grid=grid, is_full_time=False)
    GridWorkerFactory(grid=grid, started_on="2020-01-01", ended_on="2021-01-01")  # left long ago
    assert SizingFlag.NO_FULLTIME_WORKER in _flags(grid)


@pytest.mark.parametrize(("population", "workers", "flagged"), [(500, 1, False), (501, 1, True), (1000, 2, False)])
def test_residents_per_fulltime_worker_above_500_are_flagged(world, population, workers, flagged):
    grid = RegionFactory.child(world.village_a, 9, households=100, population=population)
    for _ in range(workers):
        GridWorkerFactory(grid=grid)
    assert (SizingFlag.WORKER_LOAD in _flags(grid)) is flagged


@pytest.mark.parametrize(
    ("urban", "radius_km", "flagged"),
    [(False, 2.0, False), (False, 2.01, True), (True, 0.5, False), (True, 0.51, True)],
)
def test_the_service_radius_rule_is_flagged_past_its_limit(world, urban, radius_km, flagged):
    area = 3.141592653589793 * radius_km**2 * (0.999999 if not flagged else 1.0)
    grid = RegionFactory.child(world.village_a, 9, is_urban=urban, households=100 if not urban else 200, area_km2=area)
    GridWorkerFactory(grid=grid)
    assert (SizingFlag.RADIUS in _flags(grid)) is flagged
    assert max_area_km2(urban) == pytest.approx(3.141592653589793 * radius_km**2, rel=0.05)


def test_other_levels_are_never_flagged(world):
    assert _flags(world.village_a) == set()


def test_worker_changes_keep_the_grid_count_in_step(world):
    grid = RegionFactory.child(world.village_a, 9, households=100, population=200)
    worker = GridWorkerFactory(grid=grid)
    grid.refresh_from_db()
    assert grid.fulltime_workers == 1
    worker.grid = world.grid_a2
    worker.save()
    grid.refresh_from_db()
    world.grid_a2.refresh_from_db()
    assert (grid.fulltime_workers, world.grid_a2.fulltime_workers) == (0, 1)
    worker.delete()
    world.grid_a2.refresh_from_db()
    assert world.grid_a2.fulltime_workers == 0


def test_the_daily_recount_applies_start_and_end_dates(world):
    import datetime as dt

    from grids.tasks import recount_fulltime_workers_task

    today = dt.date.today()
    GridWorkerFactory(grid=world.grid_a2, started_on=today + dt.timedelta(days=1))
    arrange(GridWorker.objects.filter(grid=world.grid_a), ended_on=today - dt.timedelta(days=1))
    assert recount_fulltime_workers_task() == Region.objects.filter(level=Level.GRID).count()
    world.grid_a.refresh_from_db()
    world.grid_a2.refresh_from_db()
    assert world.grid_a.fulltime_workers == 0  # left yesterday
    assert world.grid_a2.fulltime_workers == 0  # starts tomorrow
