# Written by hand (several engineers changed models at once): closed periods that do not
# change after the fact (issue 19, items 5 and 6).

from django.db import migrations, models


def forget_stored_counts(apps, schema_editor):
    """The stored counts were counted with "suspended now" and without the screening and
    verification overruns: the worker counts them again (`rebuild_facts` fills the facts)."""
    apps.get_model("assessment", "PeriodCounts").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("assessment", "0010_who_solved_and_dispatch_charges")]

    operations = [
        migrations.AddField(
            model_name="casefact",
            name="late_count",
            field=models.PositiveIntegerField(default=0, verbose_name="limits passed"),
        ),
        migrations.AlterField(
            model_name="casefact",
            name="suspended",
            field=models.BooleanField(
                default=False, verbose_name="suspended (left out of the closure rates)"
            ),
        ),
        migrations.AlterField(
            model_name="schemededuction",
            name="kind",
            field=models.CharField(
                choices=[
                    ("per_failed_verification", "per failed verification"),
                    ("per_late_report_in", "per late report-in"),
                    ("per_overdue_case", "per overdue case"),
                    ("per_passed_limit", "per passed limit (each firing)"),
                    ("per_missed_consultation", "per missed consultation"),
                    ("per_late_consultation", "per late arrival at a consultation"),
                ],
                max_length=32,
                verbose_name="kind",
            ),
        ),
        migrations.RunPython(forget_stored_counts, migrations.RunPython.noop),
    ]
