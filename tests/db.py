"""Database helpers shared by the test suites."""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection

from core.db_roles import APPEND_ONLY_TABLES, NO_UPDATE_TABLES, WRITTEN_ONCE_TABLES


@contextmanager
def append_only_triggers_lifted() -> Iterator[None]:
    """On SQLite, the triggers of the append-only, written-once and never-updated tables
    (core.db_roles) are dropped while the flush after a transactional test empties them, and
    put back as stored afterwards.

    Django flushes SQLite with DELETE, which those triggers refuse (PostgreSQL uses TRUNCATE,
    which they allow, so there is nothing to do there). Lifted around the flush itself, a row
    that a late request of the live server writes after the test (an access record) is
    flushed with the rest instead of failing the flush."""
    if connection.vendor != "sqlite":
        yield
        return
    tables = (*APPEND_ONLY_TABLES, *WRITTEN_ONCE_TABLES, *NO_UPDATE_TABLES)
    marks = ", ".join(["%s"] * len(tables))
    query = f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ({marks})"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(query, tables)
        triggers = cursor.fetchall()
        for name, _sql in triggers:
            cursor.execute(f'DROP TRIGGER IF EXISTS "{name}"')
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for _name, sql in triggers:
                cursor.execute(sql)


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
