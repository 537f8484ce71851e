# Written by hand: each fact a period counts is counted as it stood at the period's end
# (issue 19, item 6): the moments of the first closing and its undoing, the rating, the first
# rework and the first postponement.

from django.db import migrations, models


def forget_stored_counts(apps, schema_editor):
    """Stored counts were counted without these moments: the worker counts them again (the
    facts get them from `rebuild_facts` or the stale sweep; until then a fact without the
    moment counts as before)."""
    apps.get_model("assessment", "PeriodCounts").objects.all().delete()


def moment(verbose_name):
    return models.DateTimeField(blank=True, null=True, verbose_name=verbose_name)


class Migration(migrations.Migration):
    dependencies = [("assessment", "0013_period_corrections")]

    operations = [
        migrations.AddField("casefact", "first_closed_at", moment("first closed at")),
        migrations.AddField("casefact", "reopened_at", moment("first closing undone at")),
        migrations.AddField("casefact", "reworked_at", moment("first reworked at")),
        migrations.AddField("casefact", "postponed_at", moment("first postponed at")),
        migrations.AddField("casefact", "rated_at", moment("rated at")),
        migrations.AddField("dispatchfact", "reworked_at", moment("first reworked at")),
        migrations.RunPython(forget_stored_counts, migrations.RunPython.noop),
    ]
