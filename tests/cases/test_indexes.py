"""The case tables' indexes: every foreign key leads an index (its own or a composite one), and
none is the leading column of two indexes for nothing; events stay append-only after the
index migration."""

import pytest
from django.apps import apps
from django.db import connection, models

pytestmark = pytest.mark.django_db


def _indexes(table: str) -> list[list[str]]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return [
        row["columns"]
        for row in constraints.values()
        if (row["index"] or row["unique"] or row["primary_key"]) and row["columns"]
    ]


def _case_models() -> list[type[models.Model]]:
    return [model for model in apps.get_app_config("cases").get_models() if model._meta.managed]


def test_every_foreign_key_leads_an_index():
    for model in _case_models():
        indexes = _indexes(model._meta.db_table)
        for field in model._meta.concrete_fields:
            if isinstance(field, models.ForeignKey):
                assert any(columns[0] == field.column for columns in indexes), (
                    f"{model._meta.db_table}.{field.column} leads no index"
                )


def test_no_single_column_index_repeats_the_start_of_another():
    for model in _case_models():
        table = model._meta.db_table
        with connection.cursor() as cursor:
            constraints = connection.introspection.get_constraints(cursor, table)
        plain = [
            (name, row["columns"])
            for name, row in constraints.items()
            if row["index"]
            and not row["unique"]
            and len(row["columns"]) == 1
            and not name.endswith("_like")
        ]
        # A partial index covers only some rows: it is no substitute.
        partial = {index.name for index in model._meta.indexes if index.condition is not None}
        longer = [
            row["columns"]
            for name, row in constraints.items()
            if (row["index"] or row["unique"]) and len(row["columns"]) > 1 and name not in partial
        ]
        for name, columns in plain:
            assert not any(other[0] == columns[0] for other in longer), f"{table}: {name}"


def test_events_are_still_append_only():
    from cases.models import Event

    assert Event.objects.model._meta.db_table == "cases_event"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'cases_event'::regclass "
                "AND NOT tgisinternal"
            )
        else:
            cursor.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' "
                "AND tbl_name = 'cases_event'"
            )
        assert cursor.fetchone()[0] >= 1
