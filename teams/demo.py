"""What the demo counties share below the apps that build them: the published demo password,
the demo cities' codes, the result of a build, and an idempotent upsert.

The demo counties themselves are files (docs/examples/<shape>/), imported by rollout.demo.
"""

from dataclasses import dataclass, field
from typing import Any

from django.db import models

from teams.models import Grid, Region

DEMO_PASSWORD = "whistle-demo"  # noqa: S105 - a published demo password, not a secret

# The codes of the demo cities (docs/examples/haining and docs/examples/longgang): the demo's
# fast-escalation item is offered there only.
CITY = {"code": "HN", "name_zh": "海宁市", "name_en": "Haining"}
DEMO_CITY_CODES = ("HN", "LG")


@dataclass
class DemoCity:
    """What the builder made: the city and the logins to print."""

    city: Region
    logins: list[tuple[str, str, str]] = field(default_factory=list)  # (role, username, pw)
    # The privileged demo users given the demo's authenticator key and recovery codes.
    second_factor_users: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def upsert(model: type[models.Model], *, lookup: dict[str, Any], values: dict[str, Any]) -> Any:
    """Create the row, or update only the fields that differ: a rerun writes nothing."""
    obj = model.objects.filter(**lookup).first()
    if obj is None:
        obj = model(**lookup, **values)
        if isinstance(obj, Grid):
            obj.refresh_bbox()
        obj.full_clean()
        obj.save()
        return obj
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    if changed:
        for name in changed:
            setattr(obj, name, values[name])
        if isinstance(obj, Grid):
            obj.refresh_bbox()
            changed += ["min_lat", "max_lat", "min_lng", "max_lng"]
        obj.full_clean()
        obj.save(update_fields=changed)
    return obj
