"""The one state-change mechanism of the platform: declared transitions and the machine that holds them.

An app declares each move of its records as a `Transition`: its name and label, the states it
leaves from, the state it reaches, the role capability it needs (governance.roles) and an actor
rule deciding whether THIS user may take it on THIS object (the lead department of the event, the
grid worker of the grid, the unit itself, someone above the unit …). A transition may also carry a
condition on the object beyond its state (e.g. "not already at province level"), refused with its
own message.

A `StateMachine` holds an app's transitions and answers the two questions every layer asks:

    machine.allowed_transitions(user, obj)   what may this user do now (services, API, pages, templates)
    machine.check(user, obj, name)           may they do this one; raises the app's refusal otherwise

The machine only decides; the app's service locks the row, calls `check`, applies the effects and
writes history and audit in one transaction. This module imports no feature app.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .roles import has_capability


@dataclass(frozen=True)
class ActorRule:
    """A named rule deciding whether a user stands where a transition needs its actor to stand."""

    name: str
    test: Callable[[Any, Any], bool]

    def __call__(self, user, obj) -> bool:
        return bool(self.test(user, obj))

    def __or__(self, other: ActorRule) -> ActorRule:
        return any_of(self, other)


def actor(name: str) -> Callable[[Callable[[Any, Any], bool]], ActorRule]:
    """Decorator: `@actor("lead department")` turns `def rule(user, obj) -> bool` into a named rule."""

    def wrap(test: Callable[[Any, Any], bool]) -> ActorRule:
        return ActorRule(name, test)

    return wrap


def any_of(*rules: ActorRule) -> ActorRule:
    """A rule met when any of `rules` is met ("the grid worker of the grid, or the centre")."""
    return ActorRule(" | ".join(r.name for r in rules), lambda user, obj: any(r(user, obj) for r in rules))


@dataclass(frozen=True)
class Condition:
    """A precondition on the object beyond its state; refused with `message` (and `code`)."""

    test: Callable[[Any], bool]
    message: Any
    code: str


@dataclass(frozen=True)
class Transition:
    name: str
    label: Any
    sources: frozenset[str]
    target: str
    capability: str
    actor: ActorRule
    conditions: tuple[Condition, ...] = field(default=())

    def leaves_from(self, state: str) -> bool:
        return state in self.sources

    def holds_for(self, obj) -> Condition | None:
        """The first condition `obj` does not meet, or None."""
        return next((c for c in self.conditions if not c.test(obj)), None)


def transition(
    name: str,
    label,
    sources: Iterable[str],
    target: str,
    *,
    capability: str,
    actor: ActorRule,
    conditions: Iterable[Condition] = (),
) -> Transition:
    return Transition(name, label, frozenset(sources), target, capability, actor, tuple(conditions))


def may_act(user, capability: str, rule: ActorRule, obj) -> bool:
    """An active, signed-in user whose role has the capability and who meets the actor rule
    (platform superusers meet every rule)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if not has_capability(user, capability):
        return False
    return user.is_superuser or rule(user, obj)


class StateMachine:
    """The transitions of one kind of record, and the refusals of its app.

    `error` is the app's exception class (a ValidationError subclass taking `code=`);
    `wrong_state` and `not_allowed` are its refusal messages, formatted with `status` (the
    object's state label) and `action` (the transition's label).
    """

    def __init__(
        self,
        transitions: Iterable[Transition],
        *,
        error: type[Exception],
        wrong_state,
        not_allowed,
        state: Callable[[Any], str] = lambda obj: obj.status,
        state_label: Callable[[Any], str] = lambda obj: obj.get_status_display(),
    ):
        self.transitions: dict[str, Transition] = {}
        for t in transitions:
            if t.name in self.transitions:
                raise ValueError(f"transition {t.name!r} declared twice")
            self.transitions[t.name] = t
        self.error = error
        self.wrong_state = wrong_state
        self.not_allowed = not_allowed
        self.state = state
        self.state_label = state_label

    # --- The table ---------------------------------------------------------------------------------

    def __getitem__(self, name: str) -> Transition:
        return self.transitions[name]

    def __contains__(self, name: object) -> bool:
        return name in self.transitions

    def __iter__(self) -> Iterator[Transition]:
        return iter(self.transitions.values())

    def items(self):
        return self.transitions.items()

    def from_state(self, state: str) -> list[Transition]:
        """Every transition leaving `state`, whoever takes it (declaration order)."""
        return [t for t in self.transitions.values() if t.leaves_from(state)]

    # --- The decisions ---------------------------------------------------------------------------

    def refusal(self, user, obj, name: str) -> Exception | None:
        """Why `user` may not take `name` on `obj` now (the app's exception, not raised), or None."""
        t = self.transitions[name]
        if not t.leaves_from(self.state(obj)):
            message = self.wrong_state % {"status": self.state_label(obj), "action": t.label}
            return self.error(message, code="illegal_transition")
        if not may_act(user, t.capability, t.actor, obj):
            return self.error(self.not_allowed % {"action": t.label}, code="not_allowed")
        unmet = t.holds_for(obj)
        if unmet is not None:
            return self.error(unmet.message, code=unmet.code)
        return None

    def may(self, user, obj, name: str) -> bool:
        return self.refusal(user, obj, name) is None

    def allowed_transitions(self, user, obj) -> list[Transition]:
        """What this user may do to this object now: the ONLY answer to that question. Declaration
        order; pages sort for display. Runs no query of its own (actor rules read loaded fields)."""
        return [t for t in self.from_state(self.state(obj)) if self.refusal(user, obj, t.name) is None]

    def allowed_names(self, user, obj) -> list[str]:
        return [t.name for t in self.allowed_transitions(user, obj)]

    def check(self, user, obj, name: str) -> Transition:
        """The transition `name` if `user` may take it on `obj` now; raises the app's refusal otherwise
        (wrong state first, then wrong actor, then an unmet condition)."""
        error = self.refusal(user, obj, name)
        if error is not None:
            raise error
        return self.transitions[name]
