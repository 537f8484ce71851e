"""On PostgreSQL a trigger refuses UPDATE and DELETE on case events, whatever the client.

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


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
