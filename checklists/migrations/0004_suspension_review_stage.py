# Written by hand (several engineers changed models at once): the suspension review stage.
"""The suspension review stage (docs/workflow.md, `suspend`): a suspended (挂账) case must be
reviewed by the committee by the end of its review date. Every item gets a default review
period, the one the forms propose: 30 natural days; administrators change it in the admin."""

from django.db import migrations, models

# Spelled out (not imported from checklists.models): migrations must not depend on the code.
SUSPENSION_REVIEW = "suspension_review"
REVIEW_PERIOD = (30, "natural_days")


def add_review_periods(apps, schema_editor) -> None:
    item_model = apps.get_model("checklists", "Item")
    time_limit_model = apps.get_model("checklists", "TimeLimit")
    have = set(
        time_limit_model.objects.filter(stage=SUSPENSION_REVIEW).values_list("item_id", flat=True)
    )
    amount, unit = REVIEW_PERIOD
    time_limit_model.objects.bulk_create(
        time_limit_model(item=item, stage=SUSPENSION_REVIEW, amount=amount, unit=unit)
        for item in item_model.objects.exclude(pk__in=have).only("pk")
    )


def remove_review_periods(apps, schema_editor) -> None:
    apps.get_model("checklists", "TimeLimit").objects.filter(stage=SUSPENSION_REVIEW).delete()


class Migration(migrations.Migration):
    dependencies = [("checklists", "0003_redispatch_stage")]

    operations = [
        migrations.AlterField(
            model_name="timelimit",
            name="stage",
            field=models.CharField(
                choices=[
                    ("screening", "screening"),
                    ("village_handling", "village handling"),
                    ("report_in", "report-in"),
                    ("redispatch", "re-dispatch"),
                    ("handling", "handling"),
                    ("town_consultation", "town consultation"),
                    ("city_consultation", "city consultation"),
                    ("verification", "verification"),
                    ("suspension_review", "suspension review"),
                ],
                max_length=20,
                verbose_name="stage",
            ),
        ),
        migrations.RunPython(add_review_periods, remove_review_periods),
    ]
