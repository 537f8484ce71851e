"""System checks of the working calendar (years still provisional, office hours missing) and,
under `check --deploy`, of the site's public address."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Warning, register
from django.db import DatabaseError
from django.utils.translation import gettext as _

from cases.calendar import office_hours_missing, provisional_years


@register("cases")
def check_calendar(app_configs=None, **kwargs) -> list[Warning]:
    """Warn while the engine counts a year by weekdays only, so that an administrator enters
    its holidays before deadlines go wrong. Silent on a database that is not migrated yet."""
    try:
        years = provisional_years()
        no_office_hours = office_hours_missing()
    except DatabaseError:
        return []
    warnings = [
        Warning(
            _(
                "The working calendar for %(year)s is provisional: weekdays count as working "
                "days until an administrator enters its holidays and confirms it."
            )
            % {"year": year},
            hint=_(
                "Run `manage.py seed_calendar` after upgrading the chinesecalendar library, "
                "or enter the year's holidays and make-up working days in the admin and "
                "confirm the year."
            ),
            id="cases.W001",
        )
        for year in years
    ]
    if no_office_hours:
        warnings.append(
            Warning(
                _("No office hours are set: working time uses 08:30-12:00 and 13:30-17:30."),
                hint=_("Enter the office hours in the admin."),
                id="cases.W002",
            )
        )
    return warnings


@register("cases", deploy=True)
def check_site_url(app_configs=None, **kwargs) -> list[Warning]:
    """Warn on a deployment whose WHISTLE_SITE_URL is not an absolute http(s) address: the
    links in notification mail would be relative and open nothing. (In English, as Django's
    own deployment checks are.)"""
    parts = urlsplit(settings.WHISTLE_SITE_URL)
    if parts.scheme in ("http", "https") and parts.netloc:
        return []
    return [
        Warning(
            "WHISTLE_SITE_URL is not an absolute http(s) URL, so the links in notification "
            "mail are relative.",
            hint="Set WHISTLE_SITE_URL to the public base URL, e.g. https://whistle.example.gov.cn.",
            id="cases.W003",
        )
    ]
