"""Steps that walk a case through the engine for the service and timer tests.

Every step goes through the real services, so a test that starts from "a dispatched case" has
also exercised filing, accepting and whistling. The clock is fixed by the tests (time_machine)
at T0, a Tuesday morning in office hours with no holiday near it.
"""

import io
from datetime import datetime
from zoneinfo import ZoneInfo

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from cases.models import Case, Deadline, Dispatch, Event, Notification, Postponement
from cases.services import (
    accept_case,
    decide_postponement,
    file_whistle,
    report_in,
    request_postponement,
    resolve_case,
    whistle_to_town,
)
from checklists.models import TimeUnit

TZ = ZoneInfo("Asia/Shanghai")

# The grid of `org` is a square of 0.01° around (lng 120.70, lat 30.50).
LAT, LNG = 30.50, 120.70


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=TZ)


T0 = at(2025, 6, 10, 9, 0)  # Tuesday, a working day


def png(
    name: str = "photo.png", colour: tuple[int, int, int] = (200, 40, 40)
) -> SimpleUploadedFile:
    """A small real PNG made with Pillow."""
    buffer = io.BytesIO()
    Image.new("RGB", (16, 12), colour).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def actions(case: Case) -> list[str]:
    return list(
        Event.objects.filter(case=case)
        .order_by("created_at", "id")
        .values_list("action", flat=True)
    )


def kinds_for(user, case: Case | None = None) -> list[str]:
    rows = Notification.objects.filter(recipient=user)
    if case is not None:
        rows = rows.filter(case=case)
    return sorted(rows.values_list("kind", flat=True))


def file_case(org, **kwargs) -> Case:
    values = {
        "user": org.grid_worker,
        "item": org.item,
        "description": "Garbage piled beside the bridge",
        "latitude": LAT,
        "longitude": LNG,
    }
    values.update(kwargs)
    return file_whistle(**values).case


def accepted(org, **kwargs) -> Case:
    case = file_case(org, **kwargs)
    return accept_case(user=org.village_officer, case_id=case.pk)


def whistled(org, **kwargs) -> Case:
    """Filed, accepted and whistled to the town: one team and one department dispatch."""
    case = accepted(org, **kwargs)
    return whistle_to_town(user=org.village_officer, case_id=case.pk, note="Too big for us")


def team_dispatch(case: Case) -> Dispatch:
    return case.dispatches.get(team__isnull=False)


def department_dispatch(case: Case) -> Dispatch:
    return case.dispatches.get(department__isnull=False)


def in_progress(org, **kwargs) -> Case:
    """Whistled, and the team's captain has reported in."""
    case = whistled(org, **kwargs)
    report_in(user=org.captain, dispatch_id=team_dispatch(case).pk)
    case.refresh_from_db()
    return case


def resolved_by_team(org, **kwargs) -> Case:
    case = in_progress(org, **kwargs)
    return resolve_case(user=org.captain, case_id=case.pk, note="Cleared", photos=[png()])


def postponed(org, case: Case, deadline: Deadline) -> Postponement:
    """The captain asks two more working days for the deadline, and the town approves."""
    asked = request_postponement(
        user=org.captain,
        case_id=case.pk,
        deadline_id=deadline.pk,
        amount=2,
        unit=TimeUnit.WORKING_DAYS,
        reason="Waiting for the crane",
    )
    return decide_postponement(user=org.town_committee, postponement_id=asked.pk, approve=True)


def fresh(case: Case) -> Case:
    return Case.objects.get(pk=case.pk)
