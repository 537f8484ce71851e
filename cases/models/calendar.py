"""The working-time calendar that administrators edit: office hours, holidays, make-up days."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class CalendarYear(models.Model):
    """A year of the calendar. A provisional year counts weekdays as working days until an
    administrator enters its holidays and confirms it."""

    class Source(models.TextChoices):
        LIBRARY = "library", _("seeded from the chinesecalendar library")
        PROVISIONAL = "provisional", _("provisional: weekdays only")
        MANUAL = "manual", _("entered by an administrator")

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    source = models.CharField(_("source"), max_length=12, choices=Source.choices)
    confirmed = models.BooleanField(
        _("confirmed"),
        default=False,
        help_text=_("Tick once the year's holidays and make-up working days are entered."),
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("confirmed by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("calendar year")
        verbose_name_plural = _("calendar years")
        ordering = ["year"]

    def __str__(self) -> str:
        return str(self.year)

    @property
    def provisional(self) -> bool:
        return not self.confirmed


class CalendarDay(models.Model):
    """A day that differs from the weekday rule: a holiday on a weekday, or a make-up working
    day (调休) on a weekend."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("public holiday (no work)")
        MAKEUP_WORKDAY = "makeup_workday", _("make-up working day")

    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()}"

    @property
    def is_working(self) -> bool:
        return self.kind == self.Kind.MAKEUP_WORKDAY


class OfficeHours(models.Model):
    """One period of office hours on a working day, e.g. 08:30-12:00 and 13:30-17:30."""

    start = models.TimeField(_("start"))
    end = models.TimeField(_("end"))

    class Meta:
        verbose_name = _("office hours")
        verbose_name_plural = _("office hours")
        ordering = ["start"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="office_hours_end_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"
