# Written by hand: other engineers' work in the tree kept manage.py from starting at the time.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("assessment", "0004_period_counts"),
    ]

    operations = [
        migrations.AddField(
            model_name="dispatchfact",
            name="urged",
            field=models.BooleanField(default=False, verbose_name="urged"),
        ),
        migrations.AddField(
            model_name="dispatchfact",
            name="urge_count",
            field=models.PositiveIntegerField(default=0, verbose_name="times urged"),
        ),
        migrations.AddField(
            model_name="dispatchfact",
            name="supervised",
            field=models.BooleanField(default=False, verbose_name="under a supervision order"),
        ),
        migrations.AddField(
            model_name="dispatchfact",
            name="supervision_late",
            field=models.BooleanField(default=False, verbose_name="a supervision order met late"),
        ),
    ]
