"""The interchange is a framework plus the record types each app registers (issue #13): the
registry holds every section of docs/import-format.md in the documented order, each type is
registered by the app that owns its model, and the framework imports no feature app."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from governance.interchange.base import REGISTRY, RecordType, Registry

FRAMEWORK = Path(settings.BASE_DIR) / "governance" / "interchange"
FEATURE_APPS = ("grids", "disputes", "assessment", "dashboard")
DOC = Path(settings.BASE_DIR) / "docs" / "import-format.md"


def documented_sections() -> tuple[list[str], list[str]]:
    """The section order of the "File layout" line and the order of the "Record types" list."""
    text = DOC.read_text(encoding="utf-8")
    layout = re.search(r"header → (.+?)\n\n", text, re.S).group(1)
    order = [word.strip() for word in layout.replace("\n", " ").split("→")]
    described = text.split("## Record types", 1)[1].split("\n## ", 1)[0]
    return order, re.findall(r"^- \*\*(\w+)\*\*", described, re.M)


def test_the_registry_holds_every_documented_section_in_the_documented_order():
    order, described = documented_sections()
    assert len(order) == 13 and order == described
    assert REGISTRY.kinds() == order
    assert [REGISTRY.index(kind) for kind in order] == list(range(len(order)))
    positions = [t.position for t in REGISTRY.types()]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)


def test_each_app_registers_the_record_types_of_its_own_models():
    owners = {}
    for record_type in REGISTRY.types():
        module = type(record_type).__module__
        assert not module.startswith("governance.interchange.") or record_type.kind == "department", module
        app = apps.get_containing_app_config(module)
        # the app whose package defines the model (event models keep the grids label, docs/decisions.md)
        assert app is apps.get_containing_app_config(record_type.model.__module__), (record_type.kind, module)
        owners[record_type.kind] = app.label
    assert owners["department"] == "governance" and owners["case"] == "disputes"
    assert owners["region"] == "grids" and owners["rectification_item"] == "assessment"
    assert owners["event"] == owners["visit"] == "events"
    assert REGISTRY.regions.level("620102002") == "township" and REGISTRY.regions.level("62010") == ""


def test_a_kind_or_a_position_registered_twice_is_refused():
    class One(RecordType):
        kind, position = "one", 1

    class Two(RecordType):
        kind, position = "two", 1

    registry = Registry()
    registry.add(One())
    with pytest.raises(ImproperlyConfigured):
        registry.add(One())
    with pytest.raises(ImproperlyConfigured):
        registry.add(Two())
    assert registry.kinds() == ["one"]
    with pytest.raises(ImproperlyConfigured):
        registry.regions  # noqa: B018 - no resolver registered


def feature_imports(source: str, module: str) -> list[str]:
    """The feature apps a module's source imports (at any depth, relative imports resolved), and
    any by-name model lookup (apps.get_model), which would hide the same dependency."""
    found = []
    package = module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(source)):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # from .x / from ..x: relative to the module's package
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            names = [f"{base}.{alias.name}".strip(".") for alias in node.names]
        elif isinstance(node, ast.Attribute) and node.attr in ("get_model", "import_module"):
            found.append(node.attr)
        found += [n for n in names if n.split(".")[0] in FEATURE_APPS]
    return found


def test_the_framework_imports_no_feature_app():
    modules = sorted(FRAMEWORK.rglob("*.py"))
    assert {p.name for p in modules} >= {"base.py", "importer.py", "exporter.py", "jobs.py", "views.py"}
    offending = {}
    for path in modules:
        module = "governance.interchange." + path.stem
        found = feature_imports(path.read_text(encoding="utf-8"), module)
        if found:
            offending[path.name] = found
    assert offending == {}


def test_the_import_check_sees_nested_and_relative_imports():
    source = (
        "import assessment.models\n"
        "def f():\n    from grids.choices import Level\n"
        "from .base import REGISTRY\nfrom ..models import ImportJob\n"
        "model = apps.get_model('disputes.case')\n"
    )
    found = feature_imports(source, "governance.interchange.views")
    assert sorted(found) == ["assessment.models", "get_model", "grids.choices.Level"]
