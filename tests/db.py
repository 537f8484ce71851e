"""Database helpers shared by the test suites."""

import importlib

from django.db import connection


def clear_case_events_for_flush() -> None:
    """Let the flush after a transactional test empty the append-only event table on SQLite.

    Django flushes SQLite with DELETE, which the append-only trigger refuses (PostgreSQL uses
    TRUNCATE, which it allows, so there is nothing to do there): drop the trigger, delete the
    events, put the trigger back."""
    if connection.vendor != "sqlite":
        return
    trigger = importlib.import_module("cases.migrations.0002_event_append_only_trigger")
    with connection.cursor() as cursor:
        # Attachments point at events; the flush that follows removes them too.
        cursor.execute("PRAGMA foreign_keys = OFF")
        cursor.execute("DROP TRIGGER IF EXISTS cases_event_no_delete")
        try:
            cursor.execute("DELETE FROM cases_event")
        finally:
            cursor.execute(
                next(sql for sql in trigger.SQLITE_CREATE if "cases_event_no_delete" in sql)
            )
            cursor.execute("PRAGMA foreign_keys = ON")
