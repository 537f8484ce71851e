# Written by hand (several engineers changed models at once): the assessment's numbers
# corrected (issue 19, items 1-4 and 7).

from django.db import migrations, models


def forget_stored_counts(apps, schema_editor):
    """The stored counts lack the new counts (who solved it, rework per dispatch, on-time
    closure of the cases fallen due): the worker counts them again (`rebuild_facts` fills the
    new fact columns of the existing cases)."""
    apps.get_model("assessment", "PeriodCounts").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("assessment", "0009_dispatchfact_origin_transfer")]

    operations = [
        migrations.AddField(
            model_name="casefact",
            name="solved_by",
            field=models.CharField(
                blank=True,
                choices=[
                    ("village", "the village itself"),
                    ("team", "the town's teams and departments"),
                    ("consultation", "a consultation of the town or city committee"),
                ],
                max_length=12,
                verbose_name="solved by",
            ),
        ),
        migrations.AddField(
            model_name="dispatchfact",
            name="reworked",
            field=models.BooleanField(default=False, verbose_name="reworked"),
        ),
        migrations.AddField(
            model_name="dispatchfact",
            name="rework_count",
            field=models.PositiveIntegerField(default=0, verbose_name="failed verifications"),
        ),
        migrations.RunPython(forget_stored_counts, migrations.RunPython.noop),
    ]
