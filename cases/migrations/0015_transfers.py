# Written by hand (several engineers changed models at once): transfer of a case or dispatch.
#
# A dispatch transferred to another team or department (移交) is ended without a penalty and a
# new one is created for the right unit: its origin says where it came from.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("cases", "0014_supporters")]

    operations = [
        migrations.AlterField(
            model_name="dispatch",
            name="origin",
            field=models.CharField(
                choices=[
                    ("whistle", "whistle"),
                    ("added", "added by the town"),
                    ("decision", "consultation decision"),
                    ("overruled", "return overruled"),
                    ("transfer", "transferred from another unit"),
                ],
                default="whistle",
                max_length=10,
                verbose_name="origin",
            ),
        ),
    ]
