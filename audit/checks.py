"""A retention shorter than the legal floor is a configuration error, not a silent clamp."""

from django.conf import settings
from django.core.checks import Error, register

from audit.models import MINIMUM_RETENTION_DAYS


@register()
def retention_at_least_the_floor(app_configs, **kwargs) -> list[Error]:
    days = settings.WHISTLE_AUDIT_RETENTION_DAYS
    if int(days) < MINIMUM_RETENTION_DAYS:
        return [
            Error(
                f"WHISTLE_AUDIT_RETENTION_DAYS is {days}; the access audit keeps at least "
                f"{MINIMUM_RETENTION_DAYS} days (MLPS 2.0: six months of logs).",
                id="audit.E001",
            )
        ]
    return []
