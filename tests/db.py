"""Database helpers shared by the test suites."""

import importlib

from django.db import connection

from core.db_roles import APPEND_ONLY_TABLES, WRITTEN_ONCE_TABLES


def clear_case_events_for_flush() -> None:
    """Let the flush after a transactional test empty the append-only event table (and the
    access audit trail) on SQLite.

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
        # The access audit trail is append-only too (audit.migrations.0001_initial).
        audit = importlib.import_module("audit.migrations.0001_initial")
        cursor.execute("DROP TRIGGER IF EXISTS audit_accessrecord_no_delete")
        try:
            cursor.execute("DELETE FROM audit_accessrecord")
        finally:
            cursor.execute(
                next(sql for sql in audit.SQLITE_CREATE if "audit_accessrecord_no_delete" in sql)
            )


def clear_append_only_rows_for_flush() -> None:
    """The same for the other append-only and written-once tables (core.db_roles): their
    SQLite triggers are dropped, their rows deleted, and the triggers put back as stored."""
    if connection.vendor != "sqlite":
        return
    tables = [t for t in (*APPEND_ONLY_TABLES, *WRITTEN_ONCE_TABLES) if t != "cases_event"]
    marks = ", ".join(["%s"] * len(tables))
    query = f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ({marks})"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(query, tables)
        triggers = cursor.fetchall()
        cursor.execute("PRAGMA foreign_keys = OFF")
        try:
            for name, _sql in triggers:
                cursor.execute(f'DROP TRIGGER IF EXISTS "{name}"')
            for table in tables:
                cursor.execute(f'DELETE FROM "{table}"')  # noqa: S608
        finally:
            for _name, sql in triggers:
                cursor.execute(sql)
            cursor.execute("PRAGMA foreign_keys = ON")
