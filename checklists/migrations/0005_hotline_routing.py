# Written by hand (several engineers changed models at once): hotline routing per item.
#
# A whistle from the 12345 hotline goes to the village's screening (as before) or, by its
# item's rule, straight to the town's dispatch with the village informed.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("checklists", "0004_suspension_review_stage")]

    operations = [
        migrations.AddField(
            model_name="item",
            name="hotline_route",
            field=models.CharField(
                choices=[
                    ("village_screening", "to the village for screening"),
                    ("town_dispatch", "straight to the town's dispatch, the village informed"),
                ],
                default="village_screening",
                help_text=(
                    "Where a whistle of this item from the 12345 hotline goes: to the village's "
                    "screening, or straight to the town's dispatch with the village informed."
                ),
                max_length=20,
                verbose_name="route of a hotline whistle",
            ),
        ),
    ]
