"""The re-dispatch stage (docs/workflow.md, `return_dispatch`): once a team or department
returns a dispatch, the committee must dispatch again within this limit. Every item gets a
default limit: 4 working hours, or 30 natural minutes for an urgent item (whose limits are all
in natural time); administrators change them in the admin."""

from django.db import migrations, models

# Spelled out (not imported from checklists.models): migrations must not depend on the code.
REDISPATCH = "redispatch"
ORDINARY_LIMIT = (4, "working_hours")
URGENT_LIMIT = (30, "natural_minutes")


def add_redispatch_limits(apps, schema_editor) -> None:
    item_model = apps.get_model("checklists", "Item")
    time_limit_model = apps.get_model("checklists", "TimeLimit")
    have = set(time_limit_model.objects.filter(stage=REDISPATCH).values_list("item_id", flat=True))
    rows = []
    for item in item_model.objects.exclude(pk__in=have).only("pk", "urgency"):
        amount, unit = URGENT_LIMIT if item.urgency == "urgent" else ORDINARY_LIMIT
        rows.append(time_limit_model(item=item, stage=REDISPATCH, amount=amount, unit=unit))
    time_limit_model.objects.bulk_create(rows)


def remove_redispatch_limits(apps, schema_editor) -> None:
    apps.get_model("checklists", "TimeLimit").objects.filter(stage=REDISPATCH).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("checklists", "0002_default_checklist"),
    ]

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
                ],
                max_length=20,
                verbose_name="stage",
            ),
        ),
        migrations.RunPython(add_redispatch_limits, remove_redispatch_limits),
    ]
