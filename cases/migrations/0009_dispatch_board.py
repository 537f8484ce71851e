"""What the handlers' boards read, copied onto each dispatch: whether it is on the boards and
the times of its current clock. Filled here for the active dispatches (FILL is a frozen copy of
cases.timers.sync_dispatch_board), then indexed for the boards."""

from django.conf import settings
from django.db import migrations, models

FILL = """
UPDATE cases_dispatch
SET (clock_due_at, clock_warn_at, clock_paused_at) = (
        SELECT clock.due_at, clock.warn_at, clock.paused_at FROM cases_deadline clock
        WHERE clock.id = (
            CASE cases_dispatch.state
              WHEN 'waiting' THEN (
                SELECT k.id FROM cases_deadline k
                WHERE k.dispatch_id = cases_dispatch.id AND k.met_at IS NULL
                  AND k.stage = 'report_in'
                ORDER BY k.started_at DESC, k.id DESC LIMIT 1)
              WHEN 'reported' THEN COALESCE(
                (SELECT k.id FROM cases_deadline k
                 WHERE k.dispatch_id = cases_dispatch.id AND k.met_at IS NULL
                   AND k.stage <> 'report_in'
                 ORDER BY k.started_at DESC, k.id DESC LIMIT 1),
                (SELECT k.id FROM cases_deadline k
                 WHERE k.case_id = cases_dispatch.case_id AND k.dispatch_id IS NULL
                   AND k.met_at IS NULL
                 ORDER BY k.started_at DESC, k.id DESC LIMIT 1))
            END)),
    on_board = EXISTS (
        SELECT 1 FROM cases_case c
        WHERE c.id = cases_dispatch.case_id
          AND c.status IN ('filed', 'village_handling', 'dispatched', 'in_progress',
                           'in_consultation', 'resolved', 'suspended'))
WHERE cases_dispatch.state IN ('waiting', 'reported')
"""


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0008_fewer_redundant_indexes"),
        ("teams", "0002_department_kinds"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="dispatch",
            name="clock_due_at",
            field=models.DateTimeField(
                blank=True, editable=False, null=True, verbose_name="clock due"
            ),
        ),
        migrations.AddField(
            model_name="dispatch",
            name="clock_paused_at",
            field=models.DateTimeField(
                blank=True, editable=False, null=True, verbose_name="clock paused at"
            ),
        ),
        migrations.AddField(
            model_name="dispatch",
            name="clock_warn_at",
            field=models.DateTimeField(
                blank=True, editable=False, null=True, verbose_name="clock yellow from"
            ),
        ),
        migrations.AddField(
            model_name="dispatch",
            name="on_board",
            field=models.BooleanField(
                db_default=False, default=False, editable=False, verbose_name="on the board"
            ),
        ),
        migrations.RunSQL(FILL, migrations.RunSQL.noop, elidable=True),
        migrations.AddIndex(
            model_name="dispatch",
            index=models.Index(
                condition=models.Q(("on_board", True)),
                fields=["team", "clock_due_at", "dispatched_at", "id"],
                include=("clock_warn_at", "clock_paused_at", "assignee"),
                name="dispatch_board_team",
            ),
        ),
        migrations.AddIndex(
            model_name="dispatch",
            index=models.Index(
                condition=models.Q(("on_board", True)),
                fields=["department", "clock_due_at", "dispatched_at", "id"],
                include=("clock_warn_at", "clock_paused_at"),
                name="dispatch_board_department",
            ),
        ),
    ]
