"""Drop the single-column indexes of foreign keys that already lead a composite index: every
insert maintained both (nine index entries fewer per filed whistle).

Dropped by name, not by AlterField's own SQL: on PostgreSQL that would also drop and re-check
each foreign key constraint (a scan of millions of rows), and on SQLite it would rebuild the
tables, losing the append-only triggers of cases_event (migration 0002)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# (index, table, column) as Django named them when the foreign keys were created.
REDUNDANT = [
    ("cases_case_city_id_5e1c6c64", "cases_case", "city_id"),
    ("cases_case_grid_id_af7609ce", "cases_case", "grid_id"),
    ("cases_case_item_id_896f667f", "cases_case", "item_id"),
    ("cases_case_reporter_id_7d7d0c2b", "cases_case", "reporter_id"),
    ("cases_case_town_id_2dc94c04", "cases_case", "town_id"),
    ("cases_case_village_id_9afc21ac", "cases_case", "village_id"),
    ("cases_casesequence_city_id_27dfc6c3", "cases_casesequence", "city_id"),
    ("cases_deadline_case_id_fd6938e1", "cases_deadline", "case_id"),
    ("cases_dispatch_assignee_id_37abceb0", "cases_dispatch", "assignee_id"),
    ("cases_dispatch_department_id_2737a6c1", "cases_dispatch", "department_id"),
    ("cases_dispatch_team_id_e6c29f4b", "cases_dispatch", "team_id"),
    ("cases_event_case_id_59b954a1", "cases_event", "case_id"),
    ("cases_notification_recipient_id_59a34e79", "cases_notification", "recipient_id"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0007_pages_indexes"),
        ("checklists", "0002_default_checklist"),
        ("teams", "0002_department_kinds"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    sql=f'DROP INDEX IF EXISTS "{name}"',
                    reverse_sql=f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ("{column}")',
                )
                for name, table, column in REDUNDANT
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="case",
                    name="city",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="teams.region",
                        verbose_name="city",
                    ),
                ),
                migrations.AlterField(
                    model_name="case",
                    name="grid",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="cases",
                        to="teams.grid",
                        verbose_name="grid",
                    ),
                ),
                migrations.AlterField(
                    model_name="case",
                    name="item",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="cases",
                        to="checklists.item",
                        verbose_name="item",
                    ),
                ),
                migrations.AlterField(
                    model_name="case",
                    name="reporter",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="reported_cases",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="reporter",
                    ),
                ),
                migrations.AlterField(
                    model_name="case",
                    name="town",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="teams.region",
                        verbose_name="town",
                    ),
                ),
                migrations.AlterField(
                    model_name="case",
                    name="village",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="teams.region",
                        verbose_name="village",
                    ),
                ),
                migrations.AlterField(
                    model_name="casesequence",
                    name="city",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="teams.region",
                    ),
                ),
                migrations.AlterField(
                    model_name="deadline",
                    name="case",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="deadlines",
                        to="cases.case",
                        verbose_name="case",
                    ),
                ),
                migrations.AlterField(
                    model_name="dispatch",
                    name="assignee",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="assigned_dispatches",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="assignee",
                    ),
                ),
                migrations.AlterField(
                    model_name="dispatch",
                    name="department",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="dispatches",
                        to="teams.department",
                        verbose_name="department",
                    ),
                ),
                migrations.AlterField(
                    model_name="dispatch",
                    name="team",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="dispatches",
                        to="teams.team",
                        verbose_name="team",
                    ),
                ),
                migrations.AlterField(
                    model_name="event",
                    name="case",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="events",
                        to="cases.case",
                        verbose_name="case",
                    ),
                ),
                migrations.AlterField(
                    model_name="notification",
                    name="recipient",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="notifications",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="recipient",
                    ),
                ),
            ],
        ),
    ]
