"""The navigation bar as a registry: each app adds its own entries in `AppConfig.ready()`.

The platform knows nothing of the pages above it; an entry brings its label, its URL name,
who sees it and its place in the bar. Places are numbers so entries of different apps can
interleave (the dashboard comes second, notifications after the platform's own pages); the
bar a role sees is pinned by tests/test_navigation.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse

Label = str | Callable[[object], str]


@dataclass(frozen=True)
class NavEntry:
    place: int
    url_name: str
    label: Label  # a (lazy) string, or a function of the user for a label that counts something
    visible: Callable[[object], bool]

    def label_for(self, user) -> str:
        return str(self.label(user) if callable(self.label) else self.label)


_ENTRIES: dict[str, NavEntry] = {}


def everyone(user) -> bool:
    return True


def register(key: str, *, place: int, url_name: str, label: Label, visible: Callable[[object], bool] = everyone):
    """Add (or, when `ready()` runs again, replace) the entry `key`; two entries may not share a place."""
    taken = next((k for k, entry in _ENTRIES.items() if entry.place == place and k != key), None)
    if taken is not None:
        raise ValueError(f"navigation place {place} is taken by {taken!r}")
    _ENTRIES[key] = NavEntry(place=place, url_name=url_name, label=label, visible=visible)


def entries() -> list[NavEntry]:
    return sorted(_ENTRIES.values(), key=lambda entry: entry.place)


def nav_items(user) -> list[tuple[str, str]]:
    """(label, url) of the entries this signed-in user may use, in their places."""
    return [(entry.label_for(user), reverse(entry.url_name)) for entry in entries() if entry.visible(user)]
