"""Each dispatch keeps the id of the clock it shows beside that clock's times (cases.timers.
sync_dispatch_board), so the board reads its page's clocks by id and month instead of asking
the partitioned deadlines per row (docs/architecture.md, "Partitioned history"). The ids of the
dispatches on the boards are filled here, by the rule of cases.timers.CURRENT_CLOCK_SQL as it
stands at this migration."""

from django.db import migrations, models

FILL = """
UPDATE cases_dispatch SET clock_deadline_id = CASE cases_dispatch.state
  WHEN 'waiting' THEN (
    SELECT k.id FROM cases_deadline k
    WHERE k.dispatch_id = cases_dispatch.id AND k.met_at IS NULL AND k.stage = 'report_in'
    ORDER BY k.started_at DESC, k.id DESC LIMIT 1)
  WHEN 'reported' THEN COALESCE(
    (SELECT k.id FROM cases_deadline k
     WHERE k.dispatch_id = cases_dispatch.id AND k.met_at IS NULL AND k.stage <> 'report_in'
     ORDER BY k.started_at DESC, k.id DESC LIMIT 1),
    (SELECT k.id FROM cases_deadline k
     WHERE k.case_id = cases_dispatch.case_id AND k.dispatch_id IS NULL AND k.met_at IS NULL
       AND k.stage <> 'suspension_review'
     ORDER BY k.started_at DESC, k.id DESC LIMIT 1))
END
WHERE cases_dispatch.state IN ('waiting', 'reported')
"""


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0028_open_case_filed"),
    ]

    operations = [
        migrations.AddField(
            model_name="dispatch",
            name="clock_deadline_id",
            field=models.BigIntegerField(
                blank=True, editable=False, null=True, verbose_name="clock shown"
            ),
        ),
        migrations.RunSQL(FILL, migrations.RunSQL.noop),
    ]
