# Speciality of law enforcement units (issue 17): the aspects and items a unit takes. A unit
# with neither takes every item, so existing teams keep taking everything.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("checklists", "0006_reply_templates"),
        ("teams", "0009_team_service_areas"),
    ]

    operations = [
        migrations.AddField(
            model_name="aspect",
            name="teams",
            field=models.ManyToManyField(
                blank=True,
                help_text="Units that specialise in this aspect's items.",
                related_name="aspects",
                to="teams.team",
                verbose_name="specialised units",
            ),
        ),
        migrations.AddField(
            model_name="item",
            name="teams",
            field=models.ManyToManyField(
                blank=True,
                help_text="Units that specialise in this item (besides those of its aspect).",
                related_name="items",
                to="teams.team",
                verbose_name="specialised units",
            ),
        ),
    ]
