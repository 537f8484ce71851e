# Written by hand (several engineers changed models at once): whistle quality.
#
# A case's facts say whether it was merged as a duplicate and how many said "me too" on it.
# The facts are a projection of the events: `manage.py rebuild_facts` (or the refresh after
# each change) fills them for existing cases.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("assessment", "0007_spot_check_facts")]

    operations = [
        migrations.AddField(
            model_name="casefact",
            name="merged",
            field=models.BooleanField(default=False, verbose_name="merged as a duplicate"),
        ),
        migrations.AddField(
            model_name="casefact",
            name="supporters",
            field=models.PositiveIntegerField(default=0, verbose_name="“me too” supporters"),
        ),
    ]
