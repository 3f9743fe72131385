"""The demo (`make demo`, `manage.py seed_demo`) as a registry: each app registers the steps that
build its part, in `AppConfig.ready()`, and the platform's command runs them in their places.

So no app imports an app above it to build the demo: the hierarchy builds the regions and the
accounts, events and cases add their records, the assessment its year, the dashboard its counts.
A step is named by a dotted path (imported only when the demo is built, never at start-up) and
may say at which scales it runs; the hierarchy also says when the database already holds a demo.
Steps hand each other what they built through `DemoRun.shared`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils.module_loading import import_string

# Clearly marked demo credential: only seed_demo ever creates accounts with it.
DEMO_PASSWORD = "Demo#Grid2026"


@dataclass
class DemoRun:
    """One build: its scale, where to write progress, and what the steps leave for the command."""

    scale: str
    write: Callable[[str], None] = print
    accounts: list[tuple[str, str, str]] = field(default_factory=list)  # username, role, region: printed last
    summary: str = ""  # what was built, for the closing line
    shared: dict = field(default_factory=dict)  # what one step built for a later one


@dataclass(frozen=True)
class Seeder:
    name: str
    place: int
    run: str  # dotted path of a function (DemoRun) -> None
    scales: tuple[str, ...] | None  # None: every scale
    refuse: str | None  # dotted path of a function () -> str: why the demo cannot be built ("" if it can)


_SEEDERS: dict[str, Seeder] = {}


def register_seeder(
    name: str, *, place: int, run: str, scales: tuple[str, ...] | None = None, refuse: str | None = None
) -> None:
    """Add (or, when `ready()` runs again, replace) the step `name`; two steps may not share a place."""
    taken = next((k for k, seeder in _SEEDERS.items() if seeder.place == place and k != name), None)
    if taken is not None:
        raise ValueError(f"demo place {place} is taken by {taken!r}")
    _SEEDERS[name] = Seeder(name=name, place=place, run=run, scales=scales, refuse=refuse)


def seeders(scale: str | None = None) -> list[Seeder]:
    """The steps in their places; with a scale, only those that run at it."""
    ordered = sorted(_SEEDERS.values(), key=lambda seeder: seeder.place)
    return [s for s in ordered if scale is None or s.scales is None or scale in s.scales]


def scales() -> list[str]:
    """Every scale some step names, in the order the steps name them (the first is the default)."""
    named: list[str] = []
    for seeder in seeders():
        named += [scale for scale in seeder.scales or () if scale not in named]
    return named


def refusal() -> str:
    """Why the demo cannot be built on this database, or "" when it can."""
    for seeder in seeders():
        if seeder.refuse and (reason := import_string(seeder.refuse)()):
            return reason
    return ""


def build(run: DemoRun) -> DemoRun:
    for seeder in seeders(run.scale):
        import_string(seeder.run)(run)
    return run
