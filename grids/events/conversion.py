"""转矛盾纠纷: the events' hand-off point to the app that takes a converted event.

Events sit below mediation cases and never import them. The "convert" transition (grids.events.transitions)
and everything it shows — the form's and the API body's fields, the linked case on the event page and
in the API — go through the one `ConversionTarget` that the app above registers in its
`AppConfig.ready()` (disputes.apps). The events code asks this module only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured


@dataclass(frozen=True)
class LinkedCase:
    """What the event page and the API show of the case registered from a converted event."""

    number: str
    organisation: str
    status: str
    url: str


@dataclass(frozen=True)
class ConversionTarget:
    # register(user=, event=, organisation=, dispute_type=, **case_fields) -> the new case (its pk and number)
    register: Callable[..., Any]
    # form_fields(user) -> {name: django form field}: what the page's convert form asks for
    form_fields: Callable[[Any], dict]
    # api_fields() -> {name: DRF field}: what the API's transition body accepts for a conversion
    api_fields: Callable[[], dict]
    # linked(event) -> LinkedCase | None
    linked: Callable[[Any], LinkedCase | None]


_target: ConversionTarget | None = None


def register_conversion(target: ConversionTarget) -> None:
    """Called once by the app that takes converted events (its AppConfig.ready())."""
    global _target
    _target = target


def conversion() -> ConversionTarget:
    if _target is None:
        raise ImproperlyConfigured(
            "No app registered to take converted events (grids.events.conversion.register_conversion)."
        )
    return _target
