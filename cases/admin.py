from cases import admin_calendar  # noqa: F401
