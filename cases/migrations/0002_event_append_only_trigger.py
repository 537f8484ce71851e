"""A trigger refuses UPDATE and DELETE on case events, whatever the client (PostgreSQL and
SQLite alike).

TRUNCATE stays allowed: test databases are flushed with it, and it needs table rights that
the application role of a production deployment does not hold."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION cases_event_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'cases_event is append-only: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER cases_event_no_update BEFORE UPDATE OR DELETE ON cases_event
    FOR EACH ROW EXECUTE FUNCTION cases_event_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS cases_event_no_update ON cases_event;
DROP FUNCTION IF EXISTS cases_event_append_only();
"""


SQLITE_CREATE = [
    """CREATE TRIGGER cases_event_no_update BEFORE UPDATE ON cases_event
    BEGIN SELECT RAISE(ABORT, 'cases_event is append-only: UPDATE refused'); END""",
    """CREATE TRIGGER cases_event_no_delete BEFORE DELETE ON cases_event
    BEGIN SELECT RAISE(ABORT, 'cases_event is append-only: DELETE refused'); END""",
]

SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS cases_event_no_update",
    "DROP TRIGGER IF EXISTS cases_event_no_delete",
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_CREATE:
            schema_editor.execute(statement, params=None)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_DROP:
            schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
