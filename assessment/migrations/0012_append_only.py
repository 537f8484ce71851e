# Written by hand (several engineers changed models at once).
"""A town's evaluation of a department is never rewritten: giving it again adds a row that
replaces the previous one (`replaces`), and a trigger refuses UPDATE and DELETE whatever the
client (core.db_roles, docs/security.md). The first evaluation of a month is unique; each row
is replaced at most once, so a month has one current evaluation: the one nothing replaces.

On SQLite the triggers are created after the table is rebuilt for the new column (a rebuild
drops a table's triggers)."""

import django.db.models.deletion
from django.db import migrations, models

CREATE = """
CREATE OR REPLACE FUNCTION assessment_townevaluation_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'assessment_townevaluation is append-only: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER assessment_townevaluation_append_only BEFORE UPDATE OR DELETE
    ON assessment_townevaluation
    FOR EACH ROW EXECUTE FUNCTION assessment_townevaluation_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS assessment_townevaluation_append_only ON assessment_townevaluation;
DROP FUNCTION IF EXISTS assessment_townevaluation_append_only();
"""

SQLITE_CREATE = [
    """CREATE TRIGGER assessment_townevaluation_no_update BEFORE UPDATE
    ON assessment_townevaluation
    BEGIN SELECT RAISE(ABORT, 'assessment_townevaluation is append-only: UPDATE refused'); END""",
    """CREATE TRIGGER assessment_townevaluation_no_delete BEFORE DELETE
    ON assessment_townevaluation
    BEGIN SELECT RAISE(ABORT, 'assessment_townevaluation is append-only: DELETE refused'); END""",
]

SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS assessment_townevaluation_no_update",
    "DROP TRIGGER IF EXISTS assessment_townevaluation_no_delete",
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
        ("assessment", "0011_closed_period_facts"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="townevaluation",
            name="town_evaluation_once_a_month",
        ),
        migrations.AddField(
            model_name="townevaluation",
            name="replaces",
            field=models.OneToOneField(
                blank=True,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="replaced_by",
                to="assessment.townevaluation",
                verbose_name="replaces",
            ),
        ),
        migrations.AddConstraint(
            model_name="townevaluation",
            constraint=models.UniqueConstraint(
                condition=models.Q(("replaces__isnull", True)),
                fields=("town", "department", "month"),
                name="town_evaluation_first_once",
            ),
        ),
        migrations.RunPython(create, drop),
    ]
