"""The dependency picture of docs/architecture.md, enforced: each layer imports only the layers below it.

    platform   governance            users, roles, scoping, audit, codes, calendar, files, API base, frameworks
    hierarchy  grids                 regions, grid workers
    events     grids.events          grid events, dispatch, deadlines, Open311, webhooks
    disputes   disputes              mediation cases
    assessment assessment            the 40-indicator assessment
    top        dashboard             the committee's dashboard and workbench

Only the composition root (settings, the URL roots, Celery and the WSGI/ASGI entry points) may import any app.
The check reads every module's imports from its source (top-level and inside functions alike), so a deferred
import inside a function counts as much as one at the top of the file.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ["governance", "grids", "grids.events", "disputes", "assessment", "dashboard"]
COMPOSITION_ROOT = {
    "governance.settings",
    "governance.urls",
    "governance.page_urls",
    "governance.api.urls",
    "governance.celery",
    "governance.wsgi",
    "governance.asgi",
}


def layer_of(module: str) -> str | None:
    """The most specific layer a dotted module name belongs to."""
    matches = [layer for layer in LAYERS if module == layer or module.startswith(layer + ".")]
    return max(matches, key=len) if matches else None


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path, module: str) -> set[str]:
    """Every module `path` imports, relative imports resolved."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            found.add(prefix)
            # `from grids import events` imports the events package
            found.update(f"{prefix}.{alias.name}" for alias in node.names)
    return found


def source_modules():
    for top in ("governance", "grids", "disputes", "assessment", "dashboard"):
        for path in sorted((ROOT / top).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            yield path, module_name(path)


def violations() -> list[str]:
    rank = {layer: i for i, layer in enumerate(LAYERS)}
    found = []
    for path, module in source_modules():
        if module in COMPOSITION_ROOT:
            continue
        own = layer_of(module)
        reported = set()
        for target in sorted(imported_modules(path, module)):
            other = layer_of(target)
            if other is not None and rank[other] > rank[own] and other not in reported:
                reported.add(other)  # one line per module and layer: the first name imported from it
                found.append(f"{module} ({own}) imports {target} ({other})")
    return found


def test_layers_import_only_downwards():
    assert violations() == []


def test_the_check_sees_an_upward_import(tmp_path, monkeypatch):
    """The check itself can fail: a platform module importing an app, and a hierarchy module importing events."""
    assert layer_of("grids.events.services.events") == "grids.events"
    assert layer_of("grids.models") == "grids"
    assert layer_of("governance.interchange.base") == "governance"
    fake = tmp_path / "governance" / "leaky.py"
    fake.parent.mkdir()
    fake.write_text("def f():\n    from disputes.models import Case\n    from .scoping import restrict\n")
    monkeypatch.setattr("tests.test_architecture.ROOT", tmp_path)
    assert imported_modules(fake, "governance.leaky") >= {"disputes.models", "governance.scoping"}
    (tmp_path / "grids").mkdir()
    (tmp_path / "grids" / "regions.py").write_text("from grids import events\n")
    for name in ("disputes", "assessment", "dashboard"):
        (tmp_path / name).mkdir()
    assert violations() == [
        "governance.leaky (governance) imports disputes.models (disputes)",
        "grids.regions (grids) imports grids.events (grids.events)",
    ]
