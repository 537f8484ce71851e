"""Cases in each state, reached through the real services, for the API tests."""

from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from cases.models import Case, Deadline
from cases.services import (
    reject_case,
    request_consultation,
    suspend_case,
    verify_case,
)
from checklists.models import Stage
from teams.models import Department, DepartmentKind
from tests.api.conftest import png
from tests.cases.engine_steps import (
    accepted,
    fresh,
    in_progress,
    resolved_by_team,
    team_dispatch,
    whistled,
)
from tests.cases.engine_steps import file_case as filed

__all__ = ["filed", "fresh", "team_dispatch"]


def in_consultation(org) -> Case:
    case = in_progress(org)
    return request_consultation(user=org.captain, case_id=case.pk, reason="Needs the committee")


def suspended(org) -> Case:
    case = in_progress(org)
    return suspend_case(
        user=org.town_committee,
        case_id=case.pk,
        reason="Waiting for the court",
        review_on=timezone.localdate() + timedelta(days=30),
    )


def rejected(org) -> Case:
    case = filed(org)
    return reject_case(user=org.village_officer, case_id=case.pk, reason="Not on the list")


def closed(org) -> Case:
    case = resolved_by_team(org)
    return verify_case(user=org.grid_worker, case_id=case.pk, passed=True)


def duplicate_pair(org) -> Case:
    """A second whistle of the same matter; the first one's number is stored on it."""
    first = filed(org)
    second = filed(org, description="Garbage again beside the bridge")
    second.merge_target = first
    return second


def second_department(org) -> Department:
    department, _created = Department.objects.get_or_create(
        code="HN-MS",
        defaults={
            "kind": DepartmentKind.objects.get(code="urban_management"),
            "region": org.town,
            "name_zh": "市场监管所",
            "name_en": "Market supervision office",
        },
    )
    return department


@dataclass(frozen=True)
class Step:
    """One case action: the case it starts from, who takes it, the body and what follows."""

    name: str
    start: object
    actor: str
    body: object
    status_after: str
    multipart: bool = False


def _soon(days: int = 3) -> str:
    return (timezone.now() + timedelta(days=days)).isoformat()


def _village_deadline(case: Case) -> int:
    return Deadline.objects.get(case=case, stage=Stage.VILLAGE_HANDLING, met_at__isnull=True).pk


CASE_STEPS = [
    Step("accept", filed, "village_officer", lambda org, case: {}, "village_handling"),
    Step(
        "reject",
        filed,
        "village_officer",
        lambda org, case: {"reason": "A civil dispute", "redirect": "The people's court"},
        "rejected",
    ),
    Step(
        "merge",
        duplicate_pair,
        "village_officer",
        lambda org, case: {"into": case.merge_target.number},
        "rejected",
    ),
    Step(
        "whistle", accepted, "village_officer", lambda org, case: {"note": "Too big"}, "dispatched"
    ),
    Step(
        "resolve_on_spot",
        accepted,
        "village_officer",
        lambda org, case: {"note": "Cleared it", "photos": [png()]},
        "resolved",
        multipart=True,
    ),
    Step(
        "resolve",
        in_progress,
        "captain",
        lambda org, case: {"note": "Removed", "photos": [png()]},
        "resolved",
        multipart=True,
    ),
    Step(
        "request_consultation",
        in_progress,
        "captain",
        lambda org, case: {"reason": "Who pays for the removal?"},
        "in_consultation",
    ),
    Step(
        "decide",
        in_consultation,
        "town_committee",
        lambda org, case: {
            "decision": "The bureau removes it",
            "tasks": [{"department": org.department.pk, "action": "Remove", "due_at": _soon()}],
        },
        "in_progress",
    ),
    Step(
        "escalate",
        in_consultation,
        "town_committee",
        lambda org, case: {"reason": "Beyond the town"},
        "in_consultation",
    ),
    Step("verify", resolved_by_team, "grid_worker", lambda org, case: {"passed": True}, "closed"),
    Step(
        "suspend",
        in_progress,
        "town_committee",
        lambda org, case: {
            "reason": "Waiting for the court",
            "review_on": (timezone.localdate() + timedelta(days=30)).isoformat(),
        },
        "suspended",
    ),
    Step("resume", suspended, "town_committee", lambda org, case: {}, "in_progress"),
    Step("reopen", rejected, "town_committee", lambda org, case: {"reason": "Wrong call"}, "filed"),
    Step(
        "evaluate",
        closed,
        "grid_worker",
        lambda org, case: {"satisfaction": "satisfied", "comment": "Quick"},
        "closed",
    ),
    Step(
        "add_dispatch",
        whistled,
        "town_committee",
        lambda org, case: {"department": second_department(org).pk, "task": "Check licences"},
        "dispatched",
    ),
    Step(
        "request_postponement",
        accepted,
        "village_officer",
        lambda org, case: {
            "deadline": _village_deadline(case),
            "amount": 1,
            "unit": "working_days",
            "reason": "Waiting for the owner",
        },
        "village_handling",
    ),
    Step(
        "post_update",
        in_progress,
        "captain",
        lambda org, case: {"message": "The road reopens on Friday.", "photos": [png()]},
        "in_progress",
        multipart=True,
    ),
    Step(
        "publish_photo",
        lambda org: in_progress(org, photos=[png()]),
        "captain",
        lambda org, case: {"attachment": case.attachments.get().pk, "public": True},
        "in_progress",
    ),
    Step("publish_case", in_progress, "captain", lambda org, case: {"public": True}, "in_progress"),
]


def url(case: Case, name: str) -> str:
    return f"/api/cases/{case.pk}/{name.replace('_', '-')}/"


def post(client, path: str, body: dict, *, multipart: bool = False, **headers):
    if multipart:
        return client.post(path, body, format="multipart", **headers)
    return client.post(path, body, format="json", **headers)
