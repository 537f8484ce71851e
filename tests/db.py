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


def deserialize_in_bulk(creation, data: str) -> None:
    """BaseDatabaseCreation.deserialize_db_from_string, which puts the migrated rows back after
    the flush of a serialized_rollback test, with the rows of each model inserted in a few
    statements instead of an UPDATE and an INSERT each (about 1,000 rows, over a second per
    test). The same raw rows, in the same order, with the same pre_save and post_save signals
    (raw, created) and many-to-many sets. A table that still has rows (no flush came before:
    the first such test, or one after tests that rolled back) and a model with parents are
    saved row by row as Django does."""
    from io import StringIO
    from itertools import groupby

    from django.core import serializers
    from django.db import transaction
    from django.db.models.signals import post_save, pre_save

    connection = creation.connection
    alias = connection.alias
    table_names = set()
    with transaction.atomic(using=alias):
        with connection.constraint_checks_disabled():
            loaded = serializers.deserialize("json", StringIO(data), using=alias)
            for model, group in groupby(loaded, key=lambda item: type(item.object)):
                group = list(group)
                table_names.add(model._meta.db_table)
                if (
                    model._meta.parents
                    or model._meta.proxy
                    or model._base_manager.using(alias).exists()  # not flushed: update them
                ):
                    for item in group:
                        item.save()
                    continue
                instances = [item.object for item in group]
                for instance in instances:
                    pre_save.send(
                        sender=model, instance=instance, raw=True, using=alias, update_fields=None
                    )
                fields = model._meta.local_concrete_fields
                size = connection.ops.bulk_batch_size(fields, instances) or len(instances)
                for start in range(0, len(instances), size):
                    model._base_manager._insert(
                        instances[start : start + size], fields=fields, using=alias, raw=True
                    )
                for item in group:
                    item.object._state.db = alias
                    item.object._state.adding = False
                    post_save.send(
                        sender=model,
                        instance=item.object,
                        created=True,
                        update_fields=None,
                        raw=True,
                        using=alias,
                    )
                    for accessor_name, object_list in (item.m2m_data or {}).items():
                        getattr(item.object, accessor_name).set(object_list)
                    item.m2m_data = None
        connection.check_constraints(table_names=table_names)
