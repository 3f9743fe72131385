def test_world_builds(world):
    assert world.grid_a.code == "620102001001001"
    assert world.county_b.code == "620103"
