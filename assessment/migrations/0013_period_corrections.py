# Written by hand (several engineers changed models at once): a closed period's figures do not
# change after the fact unless a correction says why (issue 19, item 6).

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def forget_stored_counts(apps, schema_editor):
    """Stored counts were counted with "closed now": the worker counts them again, by the
    period's end (the facts get overdue_at from `rebuild_facts` or the stale sweep)."""
    apps.get_model("assessment", "PeriodCounts").objects.all().delete()


# A correction is never rewritten or removed: a later one is a new row (core.db_roles).
PG_CREATE = """
CREATE OR REPLACE FUNCTION assessment_closurecorrection_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'assessment_closurecorrection is append-only: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER assessment_closurecorrection_append_only BEFORE UPDATE OR DELETE
    ON assessment_closurecorrection
    FOR EACH ROW EXECUTE FUNCTION assessment_closurecorrection_append_only();
"""
PG_DROP = """
DROP TRIGGER IF EXISTS assessment_closurecorrection_append_only ON assessment_closurecorrection;
DROP FUNCTION IF EXISTS assessment_closurecorrection_append_only();
"""
SQLITE_CREATE = [
    f"""CREATE TRIGGER assessment_closurecorrection_no_{op.lower()} BEFORE {op}
    ON assessment_closurecorrection
    BEGIN SELECT RAISE(ABORT, 'assessment_closurecorrection is append-only: {op} refused'); END"""
    for op in ("UPDATE", "DELETE")
]
SQLITE_DROP = [
    f"DROP TRIGGER IF EXISTS assessment_closurecorrection_no_{op}" for op in ("update", "delete")
]


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_CREATE, params=None)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_CREATE:
            schema_editor.execute(statement, params=None)


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_DROP, params=None)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_DROP:
            schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("assessment", "0012_append_only"),
        ("cases", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="casefact",
            name="overdue_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="first limit passed at"),
        ),
        migrations.AddField(
            model_name="casefact",
            name="closing_corrected",
            field=models.BooleanField(default=False, verbose_name="closing date corrected"),
        ),
        migrations.CreateModel(
            name="ClosureCorrection",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("counts_from", models.DateTimeField(verbose_name="counts as closed from")),
                ("reason", models.TextField(verbose_name="reason")),
                ("recorded_at", models.DateTimeField(verbose_name="recorded at")),
                (
                    "case",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="closure_corrections",
                        to="cases.case",
                        verbose_name="case",
                    ),
                ),
                (
                    "recorded_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="recorded by",
                    ),
                ),
            ],
            options={
                "verbose_name": "closure correction",
                "verbose_name_plural": "closure corrections",
                "ordering": ["-recorded_at", "-id"],
                "indexes": [models.Index(fields=["counts_from"], name="closurecorrection_from")],
            },
        ),
        migrations.RunPython(forget_stored_counts, migrations.RunPython.noop),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
