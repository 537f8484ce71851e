# Written by hand (several engineers changed models at once).
"""A committee's decision on an agenda item is final: the item is created pending, its
decision is written once (the one UPDATE allowed), and a trigger refuses any later UPDATE or
DELETE of a decided item, whatever the client (core.db_roles, docs/security.md)."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION consultation_agendaitem_final() RETURNS trigger AS $$
BEGIN
    IF OLD.decision <> 'pending' THEN
        RAISE EXCEPTION 'consultation_agendaitem: a decided agenda item is final: % refused',
            TG_OP;
    END IF;
    IF TG_OP = 'UPDATE' AND (NEW.consultation_id, NEW.case_id)
            IS DISTINCT FROM (OLD.consultation_id, OLD.case_id) THEN
        RAISE EXCEPTION 'consultation_agendaitem: an agenda item keeps its meeting and case';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER consultation_agendaitem_final BEFORE UPDATE OR DELETE
    ON consultation_agendaitem FOR EACH ROW EXECUTE FUNCTION consultation_agendaitem_final();
"""

DROP = """
DROP TRIGGER IF EXISTS consultation_agendaitem_final ON consultation_agendaitem;
DROP FUNCTION IF EXISTS consultation_agendaitem_final();
"""

SQLITE_CREATE = [
    """CREATE TRIGGER consultation_agendaitem_final_update BEFORE UPDATE
    ON consultation_agendaitem
    WHEN OLD.decision <> 'pending' OR NEW.consultation_id IS NOT OLD.consultation_id
        OR NEW.case_id IS NOT OLD.case_id
    BEGIN SELECT RAISE(ABORT, 'consultation_agendaitem: a decided agenda item is final'); END""",
    """CREATE TRIGGER consultation_agendaitem_final_delete BEFORE DELETE
    ON consultation_agendaitem WHEN OLD.decision <> 'pending'
    BEGIN SELECT RAISE(ABORT, 'consultation_agendaitem: a decided agenda item is final'); END""",
]

SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS consultation_agendaitem_final_update",
    "DROP TRIGGER IF EXISTS consultation_agendaitem_final_delete",
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
    dependencies = [
        ("consultation", "0001_initial"),
    ]

    operations = [migrations.RunPython(create, drop)]
