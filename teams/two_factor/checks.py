"""`manage.py check --deploy` warns when two-factor sign-in is not required."""

from django.conf import settings
from django.core.checks import Warning, register


@register("security", deploy=True)
def check_two_factor_required(app_configs=None, **kwargs) -> list[Warning]:
    if settings.WHISTLE_REQUIRE_TWO_FACTOR:
        return []
    return [
        Warning(
            "Two-factor sign-in is off (WHISTLE_REQUIRE_TWO_FACTOR=0): committee staff, "
            "supervisors and administrators sign in with a password alone.",
            hint="Unset WHISTLE_REQUIRE_TWO_FACTOR, or set it to 1, in production.",
            id="teams.W001",
        )
    ]
