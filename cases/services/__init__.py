"""The case services: every change to a case goes through one of these verbs.

Each checks the actor's scope and role, runs in one transaction holding the case's row lock,
moves the case through the transition table, writes the event and starts or stops the stage
clocks; notifications are delivered after commit."""

from cases.services.closing import evaluate_case, verify_case
from cases.services.committee import (
    Task,
    decide_consultation,
    decide_postponement,
    escalate_case,
    escalate_to_prefecture,
    reopen_case,
    request_postponement,
    resume_case,
    suspend_case,
)
from cases.services.filing import FilingResult, file_whistle
from cases.services.handling import (
    add_dispatch,
    assign_dispatch,
    cancel_dispatch,
    record_handling,
    report_in,
    request_consultation,
    resolve_case,
    resolve_dispatch,
)
from cases.services.longterm import (
    request_suspension,
    reschedule_review,
    review_suspension,
)
from cases.services.returns import return_dispatch, review_return
from cases.services.supervision import issue_supervision_order, urge_dispatch
from cases.services.support import support_case, support_case_for_caller
from cases.services.transfers import transfer_case, transfer_dispatch
from cases.services.updates import post_update, publish_case, publish_photo
from cases.services.village import (
    accept_case,
    merge_case,
    reject_case,
    resolve_on_spot,
    whistle_to_town,
)

__all__ = [
    "FilingResult",
    "Task",
    "accept_case",
    "add_dispatch",
    "assign_dispatch",
    "cancel_dispatch",
    "decide_consultation",
    "decide_postponement",
    "escalate_case",
    "escalate_to_prefecture",
    "evaluate_case",
    "file_whistle",
    "issue_supervision_order",
    "merge_case",
    "post_update",
    "publish_case",
    "publish_photo",
    "record_handling",
    "reject_case",
    "reopen_case",
    "report_in",
    "request_consultation",
    "request_postponement",
    "request_suspension",
    "reschedule_review",
    "resolve_case",
    "resolve_dispatch",
    "resolve_on_spot",
    "resume_case",
    "return_dispatch",
    "review_return",
    "review_suspension",
    "support_case",
    "support_case_for_caller",
    "suspend_case",
    "transfer_case",
    "transfer_dispatch",
    "urge_dispatch",
    "verify_case",
    "whistle_to_town",
]
