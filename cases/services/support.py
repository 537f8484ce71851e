"""A "me too" (附议) on an open case: a grid worker, or a hotline caller through Open311,
backs it instead of filing a duplicate; each person counts once (cases/workflow/support.py)."""

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from cases.errors import IllegalTransition, InvalidInput
from cases.models import Case, Source, Supporter
from cases.perform import Context, perform
from cases.workflow.support import SUPPORT
from teams.models import User

MAX_NOTE = 1000


def support_case(
    *, user: User, case_id: int, note: str = "", expected_version: int | None = None
) -> Case:
    """A grid worker of the village backs the open case (the filing page offers it for a
    similar case nearby): one whistle with its supporters instead of duplicates."""
    return perform(
        action=SUPPORT,
        user=user,
        case_id=case_id,
        expected_version=expected_version,
        data={"note": note},
    )


def support_case_for_caller(
    *,
    case_id: int,
    caller_reference: str,
    contact_name: str = "",
    contact_phone: str = "",
    note: str = "",
    source: str = Source.HOTLINE,
) -> Case:
    """A caller of the 12345 hotline backs the case (Open311); the caller's reference (the
    hotline's account or the phone number) makes a repeated call count once."""
    return perform(
        action=SUPPORT,
        user=None,
        case_id=case_id,
        actor_label=source,
        data={
            "note": note,
            "source": source,
            "caller_reference": caller_reference,
            "contact_name": contact_name,
            "contact_phone": contact_phone,
        },
    )


def _already(case: Case, *, caller: bool) -> IllegalTransition:
    if caller:
        message = _("This caller already supports case %(number)s: a “me too” counts once.")
    else:
        message = _("You already support case %(number)s: a “me too” counts once per person.")
    return IllegalTransition(message % {"number": case.number})


def run_support(ctx: Context) -> Case:
    case = ctx.case
    note = (ctx.data.get("note") or "").strip()
    if len(note) > MAX_NOTE:
        raise InvalidInput(
            fields={"note": [_("Use at most %(count)d characters.") % {"count": MAX_NOTE}]}
        )
    row = Supporter(case=case, note=note, supported_at=ctx.now)
    if ctx.user is not None:
        row.user = ctx.user
        row.source = Source.GRID_WORKER
        repeated = Supporter.objects.filter(case=case, user=ctx.user).exists()
    else:
        row.source = ctx.data.get("source") or Source.HOTLINE
        row.caller_reference = (ctx.data.get("caller_reference") or "").strip()[:64]
        row.contact_name = (ctx.data.get("contact_name") or "").strip()[:100]
        row.contact_phone = (ctx.data.get("contact_phone") or "").strip()[:40]
        if not row.caller_reference:
            raise InvalidInput(
                fields={
                    "caller_reference": [
                        _("Give the caller's reference or phone number, so a caller counts once.")
                    ]
                }
            )
        repeated = Supporter.objects.filter(
            case=case, user__isnull=True, source=row.source, caller_reference=row.caller_reference
        ).exists()
    if repeated:
        raise _already(case, caller=ctx.user is None)
    try:
        with transaction.atomic():  # a concurrent copy of the same support meets the constraint
            row.save()
    except IntegrityError:
        raise _already(case, caller=ctx.user is None) from None
    count = Supporter.objects.filter(case=case).count()
    ctx.write(SUPPORT, data={"source": row.source, "note": note, "supporters": count})
    return case
