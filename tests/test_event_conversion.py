"""Events hand converted events to the app above through grids.events.conversion; that they never import it
is part of the layer check (tests/test_architecture.py)."""

from grids.events import conversion


def test_disputes_registers_itself_as_the_conversion_target():
    from disputes.api.serializers import convert_api_fields

    target = conversion.conversion()
    assert set(target.api_fields()) == set(convert_api_fields()) == {"organisation", "dispute_type"}
