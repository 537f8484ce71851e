"""Spot checks (抽查): the draw of a unit's closed cases and the revisit's outcome
(docs/workflow.md, spotchecks/workflow.py)."""

import random
import secrets
from collections.abc import Sequence
from datetime import date

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.errors import IllegalTransition, InvalidInput, NotAllowed
from cases.models import Case, Dispatch
from cases.notifications import handlers_of_dispatch
from cases.perform import Context, perform
from cases.services.common import require_text
from cases.services.village import create_dispatch
from cases.transitions import record_event
from spotchecks import selectors
from spotchecks.models import SpotCheck, SpotCheckCase
from teams.levels import level_words
from teams.models import Department, Team, User

Outcome = SpotCheckCase.Outcome
MAX_SIZE = 200
SEED_LIMIT = 2**31


def sample(*, population: Sequence[int], size: int, seed: int) -> list[int]:
    """The draw itself: the same seed over the same population (case ids in ascending order)
    always gives the same cases, in the same order."""
    return random.Random(seed).sample(sorted(population), size)


def draw_spot_check(
    *,
    user: User,
    city_id: int | None = None,
    team_id: int | None = None,
    department_id: int | None = None,
    closed_from: date,
    closed_to: date,
    size: int,
    seed: int | None = None,
) -> SpotCheck:
    """A supervisor draws `size` of one unit's cases closed in the period, at random; the
    seed and the population are recorded so that the draw can be repeated and checked. Each
    drawn case gets the step `spot_check_drawn` and waits for its revisit."""
    cities = selectors.supervisor_cities(user=user)
    if not cities:
        raise NotAllowed(_("Only the %(city)s's supervisors draw spot checks.") % level_words())
    city_id = city_id or min(cities)
    if city_id not in cities:
        raise InvalidInput(fields={"city": [_("Choose a %(city)s you supervise.") % level_words()]})
    unit = _unit(city_id=city_id, team_id=team_id, department_id=department_id)
    if closed_from > closed_to:
        raise InvalidInput(
            fields={"closed_to": [_("The end of the period is before its beginning.")]}
        )
    if size < 1:
        raise InvalidInput(fields={"size": [_("Draw at least one case.")]})
    if size > MAX_SIZE:
        raise InvalidInput(
            fields={"size": [_("Draw at most %(count)d cases at a time.") % {"count": MAX_SIZE}]}
        )
    if seed is None:
        seed = secrets.randbelow(SEED_LIMIT)
    elif not 0 <= seed < SEED_LIMIT:
        raise InvalidInput(fields={"seed": [_("Use a seed from 0 to 2147483647.")]})
    with transaction.atomic():
        population = selectors.population(
            city_id=city_id, unit=unit, closed_from=closed_from, closed_to=closed_to
        )
        if size > len(population):
            raise InvalidInput(
                fields={
                    "size": [
                        _(
                            "The sample is larger than the unit's closed cases of the period "
                            "(%(count)d): draw at most that many."
                        )
                        % {"count": len(population)}
                    ]
                }
            )
        drawn = sample(population=population, size=size, seed=seed)
        # Lock the drawn cases: a revisit recorded or a draw made at the same time waits.
        cases = {
            case.pk: case
            for case in Case.objects.select_for_update(of=("self",)).filter(pk__in=drawn)
        }
        if SpotCheckCase.objects.filter(case_id__in=drawn, outcome=Outcome.PENDING).exists():
            # Another draw took some of them while this one was choosing.
            raise IllegalTransition(_("Another spot check drew some of these cases: draw again."))
        spot_check = SpotCheck.objects.create(
            city_id=city_id,
            team=unit if isinstance(unit, Team) else None,
            department=unit if isinstance(unit, Department) else None,
            closed_from=closed_from,
            closed_to=closed_to,
            size=size,
            seed=seed,
            population=population,
            drawn_by=user,
            drawn_at=timezone.now(),
        )
        replies = selectors.replies(case_ids=drawn, unit=unit)
        for position, case_id in enumerate(drawn, start=1):
            case = cases[case_id]
            dispatch = replies[case_id]
            SpotCheckCase.objects.create(
                spot_check=spot_check, case=case, dispatch=dispatch, position=position
            )
            record_event(
                case=case,
                action="spot_check_drawn",
                actor=user,
                dispatch=dispatch,
                data={"spot_check": spot_check.pk, "handler": unit.code},
                bump_version=False,
            )
    return spot_check


def _unit(*, city_id: int, team_id: int | None, department_id: int | None) -> Team | Department:
    if bool(team_id) == bool(department_id):
        raise InvalidInput(fields={"team": [_("Choose one team or one department.")]})
    unit = selectors.units(city_id=city_id, team_id=team_id, department_id=department_id)
    if unit is None:
        field = "team" if team_id else "department"
        raise InvalidInput(
            fields={field: [_("Choose a team or department of the %(city)s.") % level_words()]}
        )
    return unit


def record_revisit(
    *,
    user: User,
    case_id: int,
    outcome: str,
    note: str = "",
    photos: Sequence[UploadedFile] | None = None,
    expected_version: int | None = None,
) -> SpotCheckCase:
    """The revisit's outcome, once: confirmed, or not actually resolved (the case goes back to
    the same unit and its reply counts as false)."""
    return perform(
        action="record_spot_check",
        user=user,
        case_id=case_id,
        expected_version=expected_version,
        data={"outcome": outcome, "note": note, "photos": photos},
    )


def run_record_revisit(ctx: Context) -> SpotCheckCase:
    outcome = ctx.data.get("outcome") or ""
    if outcome not in (Outcome.CONFIRMED, Outcome.FALSE_REPLY):
        raise InvalidInput(fields={"outcome": [_("Choose the outcome of the revisit.")]})
    note = (ctx.data.get("note") or "").strip()
    if outcome == Outcome.FALSE_REPLY:
        note = require_text(note, field="note", message=_("Say what is still wrong."))
        if not ctx.photos:
            raise InvalidInput(fields={"photos": [_("Add a photo of what is still wrong.")]})
    elif note:
        note = require_text(note, field="note", message="")
    drawn = (
        SpotCheckCase.objects.select_for_update(of=("self",))
        .select_related("dispatch__team", "dispatch__department")
        .get(case=ctx.case, outcome=Outcome.PENDING)
    )
    reply = drawn.dispatch
    data = {"spot_check": drawn.spot_check_id, "handler": reply.handler.code, "note": note}
    if outcome == Outcome.CONFIRMED:
        event = ctx.write("spot_check_confirmed", data=data, dispatch=reply, photos="verification")
    else:
        # The same unit again, with a new dispatch and its report-in clock (create_dispatch).
        again = create_dispatch(
            case=ctx.case,
            handler=reply.handler,
            now=ctx.now,
            origin=Dispatch.Origin.ADDED,
            task=note,
        )
        event = ctx.write(
            "spot_check_failed",
            data={**data, "dispatch": again.pk},
            dispatch=reply,
            photos="verification",
        )
        ctx.case.closed_at = None
        ctx.case.satisfaction = ""
        ctx.case.save(update_fields=["closed_at", "satisfaction"])
        ctx.recipients = handlers_of_dispatch(reply)
    drawn.outcome = outcome
    drawn.note = note
    drawn.recorded_by = ctx.user
    drawn.recorded_at = ctx.now
    drawn.event = event
    drawn.save(update_fields=["outcome", "note", "recorded_by", "recorded_at", "event"])
    return drawn
