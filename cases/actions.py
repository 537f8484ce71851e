"""The case and dispatch actions by name: one table from an action and its cleaned input to
the service that performs it, shared by the pages and the API so they cannot disagree.

Input keys (each entry point normalises its form or body to these): version, reason,
redirect, into (a case id), note, photos, legal_instrument_number, decision, tasks (a list of
services.Task), passed, review_on, satisfaction, comment, team_id, department_id, task,
deadline, amount, unit, assignee."""

from collections.abc import Callable
from typing import Any

from cases import services
from teams.models import User


def _case_calls(user: User, case_id: int, data: dict) -> dict[str, Callable[[], Any]]:
    common = {"user": user, "case_id": case_id, "expected_version": data.get("version")}
    return {
        "accept": lambda: services.accept_case(**common),
        "reject": lambda: services.reject_case(
            **common, reason=data["reason"], redirect=data.get("redirect", "")
        ),
        "merge": lambda: services.merge_case(**common, into_case_id=data["into"]),
        "whistle": lambda: services.whistle_to_town(**common, note=data.get("note", "").strip()),
        "resolve_on_spot": lambda: services.resolve_on_spot(
            **common, note=data["note"], photos=data.get("photos")
        ),
        "resolve": lambda: services.resolve_case(
            **common,
            note=data.get("note", ""),
            photos=data.get("photos"),
            legal_instrument_number=data.get("legal_instrument_number", ""),
        ),
        "request_consultation": lambda: services.request_consultation(
            **common, reason=data["reason"]
        ),
        "decide": lambda: services.decide_consultation(
            **common, decision=data["decision"], tasks=data["tasks"]
        ),
        "escalate": lambda: services.escalate_case(**common, reason=data["reason"]),
        "verify": lambda: services.verify_case(
            **common,
            passed=data["passed"],
            reason=data.get("reason", ""),
            photos=data.get("photos"),
        ),
        "suspend": lambda: services.suspend_case(
            **common, reason=data["reason"], review_on=data["review_on"]
        ),
        "resume": lambda: services.resume_case(**common),
        "reopen": lambda: services.reopen_case(**common, reason=data["reason"]),
        "evaluate": lambda: services.evaluate_case(
            **common, satisfaction=data["satisfaction"], comment=data.get("comment", "")
        ),
        "add_dispatch": lambda: services.add_dispatch(
            **common,
            team_id=data.get("team_id"),
            department_id=data.get("department_id"),
            task=data.get("task", ""),
        ),
        "request_postponement": lambda: services.request_postponement(
            **common,
            deadline_id=data["deadline"],
            amount=data["amount"],
            unit=data["unit"],
            reason=data["reason"],
        ),
    }


def _dispatch_calls(user: User, dispatch_id: int, data: dict) -> dict[str, Callable[[], Any]]:
    common = {"user": user, "dispatch_id": dispatch_id, "expected_version": data.get("version")}
    return {
        "report_in": lambda: services.report_in(**common),
        "assign": lambda: services.assign_dispatch(**common, assignee_id=data["assignee"]),
        "handle": lambda: services.record_handling(
            **common, note=data["note"], photos=data.get("photos")
        ),
        "resolve_part": lambda: services.resolve_dispatch(
            **common,
            note=data.get("note", ""),
            photos=data.get("photos"),
            legal_instrument_number=data.get("legal_instrument_number", ""),
        ),
        "cancel": lambda: services.cancel_dispatch(**common, reason=data["reason"]),
    }


CASE_ACTION_NAMES = frozenset(_case_calls(None, 0, {}))  # type: ignore[arg-type]
DISPATCH_ACTION_NAMES = frozenset(_dispatch_calls(None, 0, {}))  # type: ignore[arg-type]


def perform_case_action(*, action: str, user: User, case_id: int, data: dict) -> Any:
    """Run the service of a case action with normalised input."""
    return _case_calls(user, case_id, data)[action]()


def perform_dispatch_action(*, action: str, user: User, dispatch_id: int, data: dict) -> Any:
    """Run the service of a dispatch action with normalised input."""
    return _dispatch_calls(user, dispatch_id, data)[action]()
