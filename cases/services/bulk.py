"""Bulk actions (批量操作): one registry action on several selected cases or dispatches, from the
village inbox, the board, the town command and the supervision page, and from the API.

No second way to change a case: every row goes through perform() on its own, in its own
transaction, with the same guard as its button, so a row refused (out of scope, not allowed,
wrong state, bad input) is rolled back alone and reported with its reason, and the others are
done (docs/architecture.md)."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.translation import gettext as _

from cases.errors import CaseError, InvalidInput
from cases.perform import perform
from cases.workflow import CASE, DISPATCH, REGISTRY
from teams.models import User

# The actions that may be taken on several rows at once, with the input they share.
BULK_ACTIONS: dict[str, tuple[str, ...]] = {
    CASE: ("accept",),
    DISPATCH: ("assign", "urge"),
}
MAX_ROWS = 100


@dataclass(frozen=True)
class RowResult:
    """What became of one selected row: `status` is the answer the row alone would have had
    (200 done; 400, 403, 404 or 409 refused), `message` says it in the user's language."""

    id: int
    status: int
    code: str
    message: str

    @property
    def done(self) -> bool:
        return self.status == 200


def bulk_action_names(*, on: str) -> tuple[str, ...]:
    return BULK_ACTIONS.get(on, ())


def check_bulk_request(*, on: str, action: str, ids: Iterable[int]) -> list[int]:
    """The action may be taken in bulk and the ids are few enough: the ids once each, in the
    order given. Refused as a whole (400), before any row is touched."""
    if action not in bulk_action_names(on=on) or REGISTRY.get(on=on, name=action) is None:
        raise InvalidInput(fields={"action": [_("This action cannot be taken on several rows.")]})
    unique = list(dict.fromkeys(ids))
    if not unique:
        raise InvalidInput(fields={"ids": [_("Select at least one row.")]})
    if len(unique) > MAX_ROWS:
        raise InvalidInput(
            fields={"ids": [_("Select at most %(count)d rows at once.") % {"count": MAX_ROWS}]}
        )
    return unique


def perform_bulk(
    *, user: User, on: str, action: str, ids: Iterable[int], data: dict | None = None
) -> list[RowResult]:
    """Take `action` on each row (case ids for CASE, dispatch ids for DISPATCH) with the same
    `data`; each row in its own transaction, whatever became of the others."""
    rows = check_bulk_request(on=on, action=action, ids=ids)
    spec = REGISTRY.get(on=on, name=action)
    results = []
    for pk in rows:
        target = {"case_id": pk} if on == CASE else {"dispatch_id": pk}
        try:
            perform(action=action, user=user, data=dict(data or {}), **target)
        except CaseError as error:
            results.append(
                RowResult(id=pk, status=error.http_status, code=error.code, message=_why(error))
            )
        else:
            results.append(RowResult(id=pk, status=200, code="done", message=str(spec.done)))
    return results


def _why(error: CaseError) -> str:
    """The refusal in words: the field messages when the input was wrong for this row."""
    details = [
        str(message)
        for messages in error.fields.values()
        for message in (messages if isinstance(messages, list | tuple) else [messages])
    ]
    return " ".join(details) if details else str(error.message)
