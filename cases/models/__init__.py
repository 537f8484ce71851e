from cases.models.api_client import ApiClient, ApiSubmission
from cases.models.calendar import CalendarDay, CalendarYear, OfficeHours
from cases.models.case import (
    ABOVE_TOWN,
    OPEN_STATUSES,
    Attachment,
    Case,
    CaseSequence,
    Dispatch,
    Event,
    Level,
    Priority,
    Satisfaction,
    Source,
    Status,
)
from cases.models.deadline import Deadline, Postponement
from cases.models.delivery import DUE_STATUSES as DUE_DELIVERY_STATUSES
from cases.models.delivery import Delivery, DeliveryStatus, SkipReason
from cases.models.idempotency import IdempotencyKey
from cases.models.longterm import SuspensionRequest
from cases.models.notification import Notification
from cases.models.supervision import SupervisionOrder
from cases.models.support import Supporter

__all__ = [
    "ABOVE_TOWN",
    "DUE_DELIVERY_STATUSES",
    "OPEN_STATUSES",
    "ApiClient",
    "ApiSubmission",
    "Attachment",
    "CalendarDay",
    "CalendarYear",
    "Case",
    "CaseSequence",
    "Deadline",
    "Delivery",
    "DeliveryStatus",
    "Dispatch",
    "Event",
    "IdempotencyKey",
    "Level",
    "Notification",
    "OfficeHours",
    "Postponement",
    "Priority",
    "Satisfaction",
    "SkipReason",
    "Source",
    "Status",
    "SupervisionOrder",
    "Supporter",
    "SuspensionRequest",
]
