"""perform(): the one way an action declared in cases.workflow is carried out.

It checks the uploads, then in one transaction locks the case (and the dispatch), checks the
version the actor read, the actor's role and place (403) and the case's state (409), runs the
action's own service code, which writes its steps through `Context.write`, then applies what
the written steps declare: their clocks, the boards' copy, their notices. The domain event
`cases.signals.case_changed` goes out after commit (cases.transitions). Pages, the REST API,
Open311, the consultation app and the timer all come here (docs/architecture.md).
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from cases import timers
from cases.errors import IllegalTransition, NotAllowed
from cases.models import Attachment, Case, Deadline, Dispatch, Event
from cases.services.common import (
    TIMER,
    check_photos,
    lock_case,
    lock_dispatch,
    notify,
    store_photos,
)
from cases.transitions import apply_transition, record_event
from cases.uploads import undo_stored_files_on_failure
from cases.workflow import CASE, DISPATCH, NEW, REGISTRY, Action
from teams.models import User


@dataclass
class Context:
    """What an action's service code works with, and what it hands back to perform()."""

    action: Action
    user: User | None
    case: Case
    dispatch: Dispatch | None
    data: dict
    photos: list[UploadedFile] = field(default_factory=list)
    actor_label: str = ""
    now: datetime = field(default_factory=timezone.now)
    events: list[Event] = field(default_factory=list)
    next_stage: str | None = None  # for a step whose clock the service chooses (Start())
    clock_start: datetime | None = None  # when its clocks start (default: now)
    started: list[Deadline] = field(default_factory=list)  # the clocks its steps started
    attachments: list[Attachment] = field(default_factory=list)  # the uploads it stored
    recipients: list[User] = field(default_factory=list)  # for a Notice to `chosen`

    def write(
        self,
        code: str,
        *,
        data: dict | None = None,
        public: bool | None = None,
        target: str | None = None,
        level: str | None = None,
        dispatch: Dispatch | None = None,
        photos: str = "",
        first: bool = False,
        record: bool = False,
        at: datetime | None = None,
    ) -> Event:
        """Write one declared step: a status move by the table, or a record (`record`: of a
        step that moves the case from some statuses and is only recorded in others; `first`:
        the case's first, which comes from nothing). `photos` names the purpose under which
        the action's uploads are stored with this event."""
        step = REGISTRY.steps[code]
        common = {
            "case": self.case,
            "action": code,
            "actor": self.user,
            "actor_label": self.actor_label or ("" if self.user else TIMER),
            "data": data,
            "dispatch": dispatch if dispatch is not None else self.dispatch,
            "public": step.public if public is None else public,
        }
        if step.moves is not None and not record:
            event = apply_transition(**common, target=target, level=level)
        else:
            event = record_event(**common, first=first, at=at)
        if photos and self.photos:
            self.attachments += store_photos(
                case=self.case,
                photos=self.photos,
                purpose=photos,
                user=self.user,
                event=event,
                dispatch=common["dispatch"],
            )
        self.events.append(event)
        return event


def perform(
    *,
    action: str,
    user: User | None,
    case_id: int | None = None,
    dispatch_id: int | None = None,
    data: dict | None = None,
    expected_version: int | None = None,
    case: Case | None = None,
    actor_label: str = "",
    new: bool = False,
) -> Any:
    """Carry out an action for `user` (None: the timer, or `actor_label` such as a citizen).

    `case`: a case the caller has already locked (the timer's batch, a citizen's tracking code);
    otherwise `case_id` or `dispatch_id` is locked here within the user's scope (404).
    `new`: the action brings `case`, created in the caller's transaction, into being."""
    kind = NEW if new else DISPATCH if dispatch_id is not None else CASE
    spec = REGISTRY.get(on=kind, name=action)
    if spec is None:
        raise IllegalTransition()
    data = dict(data or {})
    if new:  # the filing checked its uploads before its idempotent claim
        photos = list(data.get("photos") or [])
    else:
        photos = check_photos(data.get("photos")) if spec.photos else []
    # An action failing after it stored some of its photos (its rollback drops their rows)
    # deletes them again.
    with undo_stored_files_on_failure():
        if case is not None:
            return _perform_locked(spec, user, case, None, data, photos, actor_label)
        with transaction.atomic():
            if spec.on == DISPATCH:
                locked, dispatch = lock_dispatch(
                    user=user, dispatch_id=dispatch_id, expected_version=expected_version
                )
            else:
                locked = lock_case(user=user, case_id=case_id, expected_version=expected_version)
                dispatch = None
            return _perform_locked(spec, user, locked, dispatch, data, photos, actor_label)


def check_guard(
    *, spec: Action, user: User | None, target: Case | Dispatch, actor_label: str = ""
) -> None:
    """The same guard that shows the button: the role and place (403), then the state (409).
    The timer and a citizen acting by tracking code skip the role check."""
    if user is not None and not spec.who(user, target):
        raise NotAllowed(spec.forbidden)
    if user is None and spec.by_timer and not actor_label:
        # The timer answers to the status table alone: its limits decide, not a person's view.
        if REGISTRY.steps[spec.steps[0]].moves.allows(target):
            return
        raise IllegalTransition(spec.refusal)
    if not REGISTRY.table_allows(spec, target):
        raise IllegalTransition()
    if not spec.when(target):
        raise IllegalTransition(spec.refusal)


def _perform_locked(
    spec: Action,
    user: User | None,
    case: Case,
    dispatch: Dispatch | None,
    data: dict,
    photos: Sequence[UploadedFile],
    actor_label: str,
) -> Any:
    target = dispatch if spec.on == DISPATCH else case
    check_guard(spec=spec, user=user, target=target, actor_label=actor_label)
    ctx = Context(
        action=spec,
        user=user,
        case=case,
        dispatch=dispatch,
        data=data,
        photos=list(photos),
        actor_label=actor_label,
    )
    result = spec.service(ctx)
    apply_effects(ctx)
    return result


def apply_effects(ctx: Context) -> None:
    """What the written steps declare, in order: clocks, then the boards' copy, then notices."""
    steps = [REGISTRY.steps[event.action] for event in ctx.events]
    for step in steps:
        for effect in step.effects:
            effect.apply(ctx)
    if any(step.changes_board for step in steps):
        timers.sync_dispatch_board(case=ctx.case)
    for step in steps:
        for notice in step.notices:
            extra = notice.data(ctx) if notice.data else {}
            notify(recipients=notice.to(ctx), kind=notice.kind, case=ctx.case, data=extra)
