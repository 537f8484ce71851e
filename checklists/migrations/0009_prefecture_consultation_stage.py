"""The prefecture consultation stage (four levels, the prefecture's committee on the escalation
chain; docs/architecture.md, "Levels"). The stage's value is longer than the column allowed, so
the column grows; and every item gets a limit for the stage, its city consultation's (the same
amount, unit and yellow light), which administrators change in the admin."""

from django.db import migrations, models

import checklists.models

# Spelled out (not imported from checklists.models): migrations must not depend on the code.
CITY_CONSULTATION = "city_consultation"
PREFECTURE_CONSULTATION = "prefecture_consultation"


def add_prefecture_limits(apps, schema_editor) -> None:
    time_limit_model = apps.get_model("checklists", "TimeLimit")
    have = set(
        time_limit_model.objects.filter(stage=PREFECTURE_CONSULTATION).values_list(
            "item_id", flat=True
        )
    )
    time_limit_model.objects.bulk_create(
        time_limit_model(
            item_id=limit.item_id,
            stage=PREFECTURE_CONSULTATION,
            amount=limit.amount,
            unit=limit.unit,
            yellow_at_percent=limit.yellow_at_percent,
        )
        for limit in time_limit_model.objects.filter(stage=CITY_CONSULTATION).exclude(
            item_id__in=have
        )
    )


def remove_prefecture_limits(apps, schema_editor) -> None:
    apps.get_model("checklists", "TimeLimit").objects.filter(
        stage=PREFECTURE_CONSULTATION
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("checklists", "0008_level_names_routes_stages"),
    ]

    operations = [
        migrations.AlterField(
            model_name="timelimit",
            name="stage",
            field=models.CharField(
                choices=checklists.models.stage_choices, max_length=30, verbose_name="stage"
            ),
        ),
        migrations.RunPython(add_prefecture_limits, remove_prefecture_limits),
    ]
