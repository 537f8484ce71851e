# Written by hand (several engineers changed models at once).
"""Spot checks cannot be rewritten, whatever the client (core.db_roles, docs/security.md): a
draw (its unit, period, seed and population) is never updated or deleted, and a drawn case's
revisit outcome is written once: the one UPDATE from pending is allowed, a trigger refuses any
later UPDATE or DELETE of a recorded outcome."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION spotchecks_spotcheck_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'spotchecks_spotcheck is append-only: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER spotchecks_spotcheck_append_only BEFORE UPDATE OR DELETE
    ON spotchecks_spotcheck FOR EACH ROW EXECUTE FUNCTION spotchecks_spotcheck_append_only();

CREATE OR REPLACE FUNCTION spotchecks_spotcheckcase_final() RETURNS trigger AS $$
BEGIN
    IF OLD.outcome <> 'pending' THEN
        RAISE EXCEPTION 'spotchecks_spotcheckcase: a recorded revisit is final: % refused',
            TG_OP;
    END IF;
    IF TG_OP = 'UPDATE' AND (NEW.spot_check_id, NEW.case_id, NEW.dispatch_id, NEW.position)
            IS DISTINCT FROM (OLD.spot_check_id, OLD.case_id, OLD.dispatch_id, OLD.position) THEN
        RAISE EXCEPTION 'spotchecks_spotcheckcase: a drawn case stays as drawn';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER spotchecks_spotcheckcase_final BEFORE UPDATE OR DELETE
    ON spotchecks_spotcheckcase FOR EACH ROW EXECUTE FUNCTION spotchecks_spotcheckcase_final();
"""

DROP = """
DROP TRIGGER IF EXISTS spotchecks_spotcheckcase_final ON spotchecks_spotcheckcase;
DROP FUNCTION IF EXISTS spotchecks_spotcheckcase_final();
DROP TRIGGER IF EXISTS spotchecks_spotcheck_append_only ON spotchecks_spotcheck;
DROP FUNCTION IF EXISTS spotchecks_spotcheck_append_only();
"""

SQLITE_CREATE = [
    """CREATE TRIGGER spotchecks_spotcheck_no_update BEFORE UPDATE ON spotchecks_spotcheck
    BEGIN SELECT RAISE(ABORT, 'spotchecks_spotcheck is append-only: UPDATE refused'); END""",
    """CREATE TRIGGER spotchecks_spotcheck_no_delete BEFORE DELETE ON spotchecks_spotcheck
    BEGIN SELECT RAISE(ABORT, 'spotchecks_spotcheck is append-only: DELETE refused'); END""",
    """CREATE TRIGGER spotchecks_spotcheckcase_final_update BEFORE UPDATE
    ON spotchecks_spotcheckcase
    WHEN OLD.outcome <> 'pending' OR NEW.spot_check_id IS NOT OLD.spot_check_id
        OR NEW.case_id IS NOT OLD.case_id OR NEW.dispatch_id IS NOT OLD.dispatch_id
        OR NEW.position IS NOT OLD.position
    BEGIN SELECT RAISE(ABORT, 'spotchecks_spotcheckcase: a recorded revisit is final'); END""",
    """CREATE TRIGGER spotchecks_spotcheckcase_final_delete BEFORE DELETE
    ON spotchecks_spotcheckcase WHEN OLD.outcome <> 'pending'
    BEGIN SELECT RAISE(ABORT, 'spotchecks_spotcheckcase: a recorded revisit is final'); END""",
]

SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS spotchecks_spotcheck_no_update",
    "DROP TRIGGER IF EXISTS spotchecks_spotcheck_no_delete",
    "DROP TRIGGER IF EXISTS spotchecks_spotcheckcase_final_update",
    "DROP TRIGGER IF EXISTS spotchecks_spotcheckcase_final_delete",
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
        ("spotchecks", "0001_initial"),
    ]

    operations = [migrations.RunPython(create, drop)]
