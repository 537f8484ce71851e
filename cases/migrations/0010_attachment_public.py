# Written by hand: other engineers' model changes were in the tree at the same time, so
# makemigrations would have taken theirs into this migration as well.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0009_dispatch_board"),
    ]

    operations = [
        migrations.AddField(
            model_name="attachment",
            name="public",
            field=models.BooleanField(default=False, verbose_name="shown to the citizen"),
        ),
        migrations.AlterField(
            model_name="attachment",
            name="purpose",
            field=models.CharField(
                choices=[
                    ("filing", "filing"),
                    ("handling", "handling"),
                    ("evidence", "evidence of resolution"),
                    ("verification", "verification"),
                    ("update", "public update"),
                ],
                max_length=12,
                verbose_name="purpose",
            ),
        ),
    ]
