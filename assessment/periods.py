"""Assessment periods: a day, week, month, quarter, year or a custom range of local dates."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

KINDS = ("day", "week", "month", "quarter", "year", "custom")
MAX_CUSTOM_DAYS = 3660


@dataclass(frozen=True)
class Period:
    """[start, end) in local dates; `end` is exclusive."""

    start: date
    end: date
    kind: str

    @property
    def start_at(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.start, time.min))

    @property
    def end_at(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.end, time.min))

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    def is_closed(self, *, today: date | None = None) -> bool:
        """A period is closed once it ended before today: its scheme can no longer change."""
        return self.end <= (today or timezone.localdate())

    def as_params(self) -> dict[str, str]:
        """GET parameters that `parse_period` turns back into this period."""
        if self.kind == "custom":
            return {
                "kind": "custom",
                "start": self.start.isoformat(),
                "end": self.last_day.isoformat(),
            }
        return {"kind": self.kind, "anchor": self.start.isoformat()}

    def __str__(self) -> str:
        if self.kind == "day":
            return self.start.isoformat()
        if self.kind == "month":
            return f"{self.start:%Y-%m}"
        if self.kind == "quarter":
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        if self.kind == "year":
            return str(self.start.year)
        return f"{self.start.isoformat()} – {self.last_day.isoformat()}"


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def period_for(kind: str, anchor: date) -> Period:
    """The period of this kind that contains `anchor` (weeks start on Monday)."""
    if kind == "day":
        return Period(anchor, anchor + timedelta(days=1), kind)
    if kind == "week":
        start = anchor - timedelta(days=anchor.weekday())
        return Period(start, start + timedelta(days=7), kind)
    if kind == "month":
        start = anchor.replace(day=1)
        return Period(start, _add_months(start, 1), kind)
    if kind == "quarter":
        start = date(anchor.year, (anchor.month - 1) // 3 * 3 + 1, 1)
        return Period(start, _add_months(start, 3), kind)
    if kind == "year":
        start = date(anchor.year, 1, 1)
        return Period(start, date(anchor.year + 1, 1, 1), kind)
    raise ValueError(_("Unknown kind of period."))


def previous(period: Period) -> Period:
    """The period just before, of the same kind (a custom range: of the same length)."""
    if period.kind == "custom":
        length = period.end - period.start
        return Period(period.start - length, period.start, "custom")
    return period_for(period.kind, period.start - timedelta(days=1))


def custom(start: date, end: date) -> Period:
    """A custom range from `start` to `end`, both days included."""
    if end < start:
        raise ValueError(_("The end of the period is before its start."))
    if (end - start).days >= MAX_CUSTOM_DAYS:
        raise ValueError(_("A period can last at most ten years."))
    return Period(start, end + timedelta(days=1), "custom")


def _date(value: str, message: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except (ValueError, AttributeError):
        raise ValueError(message) from None


def parse_period(query, *, today: date | None = None) -> Period:
    """A period from GET parameters: kind and anchor (default: this month), or kind=custom
    with start and end (both days included). ValueError with a message for the user."""
    kind = (query.get("kind") or "").strip() or "month"
    if kind not in KINDS:
        raise ValueError(_("Unknown kind of period."))
    if kind == "custom" or (query.get("start") and query.get("end") and not query.get("anchor")):
        start = _date(query.get("start") or "", _("Enter the first day as YYYY-MM-DD."))
        end = _date(query.get("end") or "", _("Enter the last day as YYYY-MM-DD."))
        return custom(start, end)
    anchor_text = (query.get("anchor") or "").strip()
    anchor = (
        _date(anchor_text, _("Enter the date as YYYY-MM-DD."))
        if anchor_text
        else (today or timezone.localdate())
    )
    return period_for(kind, anchor)
