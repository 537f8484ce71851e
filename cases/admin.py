from cases import admin_api_clients, admin_calendar, admin_cases  # noqa: F401
