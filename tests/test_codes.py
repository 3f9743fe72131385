"""Region codes: every slice of a code comes from governance.codes and agrees with the stored tree."""

import pytest

from governance.codes import Level, ancestor_code, ancestors, level_of, parent_code, supervising_code

GRID = "620102001001001"


def test_a_code_is_cut_to_each_level_by_its_lengths():
    assert [ancestor_code(GRID, level) for level in Level] == [
        "62",
        "6201",
        "620102",
        "620102001",
        "620102001001",
        GRID,
    ]


def test_the_level_of_a_code_is_read_from_its_length():
    assert [level_of(code) for code in ("62", "6201", "620102", "620102001", "620102001001", GRID)] == list(Level)
    with pytest.raises(KeyError):
        level_of("620")


def test_ancestors_run_from_the_top_and_include_the_code_only_when_asked():
    assert ancestors("620102001") == ["62", "6201", "620102"]
    assert ancestors("620102001", include_self=True) == ["62", "6201", "620102", "620102001"]
    assert ancestors(GRID, include_self=True, top=Level.COUNTY) == ["620102", "620102001", "620102001001", GRID]
    assert ancestors("62") == []


def test_the_parent_of_a_province_is_nobody_and_the_province_supervises_itself():
    assert parent_code("620102") == "6201"
    assert parent_code("62") == ""
    assert supervising_code("620102") == "6201"
    assert supervising_code("62") == "62"
    # An event placed on a grid but held by the township centre is supervised by its county.
    assert supervising_code(GRID, Level.TOWNSHIP) == "620102"


@pytest.mark.django_db
def test_the_derived_ancestors_are_the_stored_parents(world):
    chain = []
    region = world.grid_a
    while region.parent_id:
        region = region.parent
        chain.insert(0, region.code)
    assert world.grid_a.ancestors_codes() == chain == ancestors(world.grid_a.code)
    assert parent_code(world.grid_a.code) == world.grid_a.parent.code


@pytest.mark.django_db
def test_the_database_stores_each_event_province_as_its_partition_key(world, file_event):
    from grids.events.models import GridEvent

    event = file_event()
    stored = GridEvent.objects.filter(pk=event.pk).values_list("province_code", "region_code").get()
    assert stored == (ancestor_code(world.grid_a.code, Level.PROVINCE), world.grid_a.code)
    assert GridEvent.objects.filter(province_code=world.province.code).count() == 1
    assert GridEvent.objects.filter(province_code="99").count() == 0
    entry = event.audit_values()
    assert "province_code" not in entry  # derived by the database, never a recorded change
