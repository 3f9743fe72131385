"""Events hand converted events to the app above through grids.conversion and never import it."""

import ast
from pathlib import Path

import pytest

from grids import conversion

ROOT = Path(__file__).resolve().parent.parent
# The events code (the coordinator moves these into grids/events/; the list follows them).
EVENT_MODULES = [
    "grids/transitions.py",
    "grids/lifecycle.py",
    "grids/sla.py",
    "grids/conversion.py",
    "grids/event_forms.py",
    "grids/event_views.py",
    "grids/services/events.py",
    "grids/services/event_effects.py",
    "grids/api/event_serializers.py",
    "grids/api/event_views.py",
]


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("module", [m for m in EVENT_MODULES if (ROOT / m).exists()])
def test_events_code_does_not_import_disputes(module):
    assert not {name for name in imported_modules(ROOT / module) if name.split(".")[0] == "disputes"}


def test_disputes_registers_itself_as_the_conversion_target():
    from disputes.api.serializers import convert_api_fields

    target = conversion.conversion()
    assert set(target.api_fields()) == set(convert_api_fields()) == {"organisation", "dispute_type"}
