"""Open311 refusals, answered as the specification's errors array with their HTTP status."""

from django.utils.translation import gettext as _

from cases.errors import (
    CaseError,
    IdempotencyKeyReused,
    NotAllowed,
    NotInScope,
    ScreeningRefused,
)


class Open311Error(Exception):
    """One or more errors of the same HTTP status (400, 403, 404, 422 or 429)."""

    def __init__(self, status: int, *descriptions: str, retry_after: int | None = None) -> None:
        self.status = status
        self.descriptions = [str(description) for description in descriptions]
        self.retry_after = retry_after
        super().__init__("; ".join(self.descriptions))


def from_case_error(error: CaseError) -> Open311Error:
    """A case service's refusal in Open311 terms: every message becomes one error."""
    if isinstance(error, NotInScope):
        return Open311Error(404, error.message)
    if isinstance(error, NotAllowed):
        return Open311Error(403, error.message)
    if isinstance(error, IdempotencyKeyReused):
        return Open311Error(422, error.message)
    if isinstance(error, ScreeningRefused):
        text = str(error.message)
        if error.redirect:
            text = _("%(reason)s Where to go instead: %(redirect)s") % {
                "reason": text,
                "redirect": error.redirect,
            }
        return Open311Error(400, text)
    messages = [
        f"{field}: {message}"
        for field, errors in error.fields.items()
        for message in (errors if isinstance(errors, list | tuple) else [errors])
    ]
    return Open311Error(400, *(messages or [str(error.message)]))
