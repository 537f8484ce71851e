from cases import admin_calendar, admin_cases  # noqa: F401
