"""What the village does with a whistle: accept, reject, merge, solve on the spot, whistle up."""

from collections.abc import Sequence
from datetime import datetime

from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import timers
from cases.errors import InvalidInput
from cases.models import Case, Deadline, Dispatch
from cases.notifications import handlers_of_dispatch
from cases.perform import Context, perform
from cases.rejections import COMMON_REASONS, RejectionReason
from cases.selectors import default_handlers
from cases.services.common import notify, require_evidence, require_text
from checklists.models import Stage
from teams.levels import level_words
from teams.models import Department, Team, User


def accept_case(*, user: User, case_id: int, expected_version: int | None = None) -> Case:
    return perform(action="accept", user=user, case_id=case_id, expected_version=expected_version)


def run_accept(ctx: Context) -> Case:
    ctx.write("accept")
    return ctx.case


def reject_case(
    *,
    user: User,
    case_id: int,
    reason: str = "",
    reason_code: str = "",
    redirect: str = "",
    expected_version: int | None = None,
) -> Case:
    """Refuse a whistle that is not for whistling, saying why (a common reason by its code,
    own words, or both) and where to go instead."""
    return perform(
        action="reject",
        user=user,
        case_id=case_id,
        expected_version=expected_version,
        data={"reason": reason, "reason_code": reason_code, "redirect": redirect},
    )


def run_reject(ctx: Context) -> Case:
    code = ctx.data.get("reason_code") or ""
    if code and code not in COMMON_REASONS:
        raise InvalidInput(fields={"reason_code": [_("Choose one of the common reasons.")]})
    reason = (ctx.data.get("reason") or "").strip()
    if reason or not code:  # own words, or no common reason: the words are needed
        reason = require_text(reason, field="reason", message=_("Give the reason for rejection."))
    _reject(ctx, code=code, reason=reason, redirect=(ctx.data.get("redirect") or "").strip())
    return ctx.case


def _reject(
    ctx: Context, *, code: str, reason: str, redirect: str, data: dict | None = None
) -> None:
    """Stored as the code and the officer's own words: each reader reads the code in their
    own language (cases.rejections)."""
    case = ctx.case
    case.rejection_code = code
    case.rejection_reason = reason
    case.redirect = redirect
    case.save(update_fields=["rejection_code", "rejection_reason", "redirect"])
    codes = {"reason_code": code} if code else {}
    ctx.write("reject", data={"reason": reason, "redirect": redirect, **codes, **(data or {})})


def merge_case(
    *, user: User, case_id: int, into_case_id: int, expected_version: int | None = None
) -> Case:
    """Merge a duplicate whistle into the open case it repeats: it is rejected as a duplicate
    and linked to that case."""
    return perform(
        action="merge",
        user=user,
        case_id=case_id,
        expected_version=expected_version,
        data={"into": into_case_id},
    )


def run_merge(ctx: Context) -> Case:
    case = ctx.case
    target = Case.objects.filter(pk=ctx.data["into"], village_id=case.village_id).first()
    if target is None or target.pk == case.pk or not target.is_open:
        raise InvalidInput(
            fields={
                "into": [
                    _("Choose an open case of this %(village)s to merge into.") % level_words()
                ]
            }
        )
    case.merged_into = target
    case.save(update_fields=["merged_into"])
    _reject(
        ctx,
        code=RejectionReason.MERGED,
        reason="",
        redirect="",
        data={"merged_into": target.number},
    )
    return case


def resolve_on_spot(
    *,
    user: User,
    case_id: int,
    note: str,
    photos: Sequence[UploadedFile] | None = None,
    expected_version: int | None = None,
) -> Case:
    """The village solved it itself ("small things don't leave the village")."""
    return perform(
        action="resolve_on_spot",
        user=user,
        case_id=case_id,
        expected_version=expected_version,
        data={"note": note, "photos": photos},
    )


def run_resolve_on_spot(ctx: Context) -> Case:
    note = ctx.data.get("note") or ""
    require_evidence(note=note, photos=ctx.photos, instrument_allowed=False)
    ctx.case.resolution_note = note.strip()
    ctx.case.save(update_fields=["resolution_note"])
    ctx.write("resolve_on_spot", data={"note": note.strip()}, photos="evidence")
    return ctx.case


def whistle_to_town(
    *, user: User | None, case_id: int, note: str = "", expected_version: int | None = None
) -> Case:
    """Whistle the case up to the town: dispatches go to the item's default handlers.

    `user=None` is the village-handling timer."""
    return perform(
        action="whistle",
        user=user,
        case_id=case_id,
        expected_version=expected_version,
        data={"note": note},
    )


def run_whistle(ctx: Context) -> Case:
    """The whistle itself: the dispatches go to the item's default handlers, their report-in
    clocks and the handling clock in one insert (the timer does this for thousands of cases
    in a burst)."""
    case = ctx.case
    teams, departments = default_handlers(case=case)
    ctx.write(
        "whistle",
        data={
            "note": (ctx.data.get("note") or "").strip(),
            "teams": [team.code for team in teams],
            "departments": [department.code for department in departments],
            **(ctx.data.get("deadline") or {}),
        },
    )
    now = timezone.now()
    handling = timers.plan_deadline(case=case, stage=Stage.HANDLING, start=now)
    create_dispatches(
        case=case,
        handlers=[*teams, *departments],
        now=now,
        other_clocks=[handling] if handling else [],
        serving=True,
    )
    return case


def create_dispatch(
    *,
    case: Case,
    handler: Team | Department,
    now: datetime | None = None,
    origin: str = Dispatch.Origin.WHISTLE,
    task: str = "",
    due_at: datetime | None = None,
) -> Dispatch:
    """Hand the case to one team or department and start its report-in clock."""
    (dispatch,) = create_dispatches(
        case=case, handlers=[handler], now=now, origin=origin, task=task, due_at=due_at
    )
    return dispatch


def create_dispatches(
    *,
    case: Case,
    handlers: Sequence[Team | Department],
    now: datetime | None = None,
    origin: str = Dispatch.Origin.WHISTLE,
    task: str = "",
    due_at: datetime | None = None,
    other_clocks: Sequence[Deadline] = (),
    serving: bool = False,
) -> list[Dispatch]:
    """Hand the case to teams and departments at once: the dispatches in one insert, their
    report-in clocks (with `other_clocks`, started at the same moment) in another, since a
    whistle fired by the timer does this for thousands of cases in a burst. `serving`: the
    teams are the case's default handlers (cases.selectors.default_handlers), which serve its
    place by the same rule as Team.serves, so it is not asked again."""
    now = now or timezone.now()
    for handler in () if serving else handlers:
        if isinstance(handler, Team) and not handler.serves(case.village):
            raise InvalidInput(fields={"team": [_("This team does not serve the case's place.")]})
    # The report-in clock is planned first, so each dispatch is written once with its due time.
    report_in = timers.plan_deadline(case=case, stage=Stage.REPORT_IN, start=now)
    dispatches = Dispatch.objects.bulk_create(
        [
            Dispatch(
                case=case,
                team=handler if isinstance(handler, Team) else None,
                department=None if isinstance(handler, Team) else handler,
                origin=origin,
                task=task,
                dispatched_at=now,
                report_in_due=report_in.due_at if report_in else now,
                due_at=due_at,
            )
            for handler in handlers
        ]
    )
    clocks = list(other_clocks)
    if report_in is not None:
        clocks += [
            timers.plan_deadline(
                case=case, stage=Stage.REPORT_IN, dispatch=dispatch, start=now, due=report_in.due_at
            )
            for dispatch in dispatches
        ]
    if clocks:
        Deadline.objects.bulk_create(clocks)
    for dispatch, handler in zip(dispatches, handlers, strict=True):
        notify(
            recipients=handlers_of_dispatch(dispatch),
            kind="case_whistled",
            case=case,
            data={"handler": handler.code},
        )
    return dispatches
