"""The shapes of the workflow registry: a step (one kind of event in a case's trace) and an
action (what a person, a system or the timer does to a case or a dispatch).

An action is declared once, in the modules of `cases.workflow`, with everything every entry
point needs: who may take it and when (one guard, used to show the button and to refuse the
request), the steps it writes, its form and its API serializer, its labels, the clocks its
steps start, meet, pause or move, who is told, and what it means to the assessment.
`cases.perform.perform` is the one function that carries an action out (docs/architecture.md).
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from django.utils.functional import Promise
from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from cases.models import Case, Dispatch
    from cases.perform import Context
    from teams.models import User

CASE = "case"
DISPATCH = "dispatch"
# An action that brings a case into being (filing): no button, its route is the API's create.
NEW = "new"


@dataclass(frozen=True)
class Transition:
    """A step's move in the status table: from these statuses (and levels) to `target`."""

    sources: frozenset[str]
    target: str | None  # None: the status stays as it is, or the service chooses it
    level: str | None = None  # the level the case moves to, if it moves
    from_levels: frozenset[str] | None = None  # only at these levels

    def allows(self, case: "Case") -> bool:
        return case.status in self.sources and (
            self.from_levels is None or case.level in self.from_levels
        )


class Effect:
    """A declared consequence of a step, applied by perform() after the action's own code.
    `describe` says it in words for docs/workflow.md."""

    def apply(self, ctx: "Context") -> None:  # pragma: no cover - every effect overrides it
        raise NotImplementedError

    def describe(self) -> str:  # pragma: no cover - every effect overrides it
        raise NotImplementedError


@dataclass(frozen=True)
class Notice:
    """Who is told when a step is written: a notification `kind` (its text in both languages
    is in cases.notifications.TEMPLATES) to the people `to` returns."""

    kind: str
    to: Callable[["Context"], Iterable["User"]]
    data: Callable[["Context"], dict] | None = None
    who: str = ""  # in words, for docs/workflow.md


@dataclass(frozen=True)
class Step:
    """One kind of event in the trace, with how it reads and what follows from it."""

    code: str
    timeline: Promise  # on the case page: "<actor> <timeline>"
    tracking: Promise | None = (
        None  # on the citizen's tracking page and Open311; None: never public
    )
    moves: Transition | None = None  # None: the status and level stay as they are
    public: bool = False  # shown to the citizen by default
    effects: tuple[Effect, ...] = ()  # clocks started, met, paused; other consequences
    notices: tuple[Notice, ...] = ()
    board: bool | None = None  # whether the boards' copy must follow; default: when it moves
    assessment: Promise | str = ""  # what the assessment reads in it (assessment/facts.py)

    @property
    def changes_board(self) -> bool:
        if self.board is not None:
            return self.board
        return self.moves is not None or bool(self.effects)


def _always(*_args: Any) -> bool:
    return True


@dataclass(frozen=True)
class Action:
    """What someone does to a case or a dispatch, declared once."""

    name: str
    on: str  # CASE, DISPATCH or NEW
    steps: tuple[str, ...]  # the step codes it may write; the first is its own
    button: Promise  # the button, the page title and the list-page label
    done: Promise  # the message after it was done
    summary: str  # the API's operation summary (OpenAPI, English)
    who: Callable[["User", Any], bool]  # role and place: False refuses with 403
    run: str  # dotted path of the service code: f(ctx) -> the result
    form: str  # dotted path of the page's form class
    serializer: str  # dotted path of the API's input serializer class
    when: Callable[[Any], bool] = _always  # state beyond the table: False refuses with 409
    refusal: Promise | None = None  # the 409's message, when there is a better one
    forbidden: Promise | None = None  # the 403's message, when there is a better one
    inline: bool = False  # offered on list pages as a one-click form
    photos: bool = False  # takes uploads (checked before anything is locked)
    by_timer: bool = False  # the timer may take it too (user None)
    api_fields: dict[str, str] = field(default_factory=dict)  # service field -> API field
    form_fields: dict[str, str] = field(default_factory=dict)  # service field -> form field

    @cached_property
    def service(self) -> Callable[["Context"], Any]:
        return import_string(self.run)

    @cached_property
    def form_class(self) -> type:
        return import_string(self.form)

    @cached_property
    def serializer_class(self) -> type:
        return import_string(self.serializer)

    @property
    def url_name(self) -> str:
        return self.name.replace("_", "-")


class Registry:
    """Every step and action, by code and name; the modules of cases.workflow fill it."""

    def __init__(self) -> None:
        self.steps: dict[str, Step] = {}
        self.actions: dict[str, Action] = {}

    def step(self, step: Step) -> Step:
        if step.code in self.steps:
            raise ValueError(f"step {step.code!r} is declared twice")
        self.steps[step.code] = step
        return step

    def action(self, action: Action) -> Action:
        key = (action.on, action.name)
        if any((a.on, a.name) == key for a in self.actions.values()):
            raise ValueError(f"action {action.name!r} on a {action.on} is declared twice")
        unknown = [code for code in action.steps if code not in self.steps]
        if unknown:
            raise ValueError(f"action {action.name!r} writes undeclared steps {unknown}")
        self.actions[f"{action.on}:{action.name}"] = action
        return action

    def unregister(self, *, action: str | None = None, on: str = CASE, step: str | None = None):
        """Take a declaration back out (tests that declare a throwaway action)."""
        if action is not None:
            self.actions.pop(f"{on}:{action}", None)
        if step is not None:
            self.steps.pop(step, None)

    def get(self, *, on: str, name: str) -> Action | None:
        return self.actions.get(f"{on}:{name}")

    def of(self, on: str) -> list[Action]:
        return [action for action in self.actions.values() if action.on == on]

    def allowed(self, action: Action, target: Any) -> bool:
        """The status table (for a case action: its own step's move) and the action's own
        state rule."""
        return self.table_allows(action, target) and action.when(target)

    def table_allows(self, action: Action, target: Any) -> bool:
        """For a case action, its own step's move in the status table."""
        if action.on != CASE:
            return True
        move = self.steps[action.steps[0]].moves
        return move is None or move.allows(target)

    def available(self, *, on: str, user: "User", target: "Case | Dispatch") -> list[str]:
        """The actions of this kind this user may take on this case or dispatch now: exactly
        the buttons the pages show and the requests perform() accepts."""
        return [
            action.name
            for action in self.of(on)
            if self.allowed(action, target) and action.who(user, target)
        ]


REGISTRY = Registry()
