# Written by hand (several engineers changed models at once).

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("consultation", "0002_append_only"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="consultation",
            name="attendance_confirmed_at",
            field=models.DateTimeField(
                blank=True, editable=False, null=True, verbose_name="attendance confirmed at"
            ),
        ),
        migrations.AddField(
            model_name="consultation",
            name="attendance_confirmed_by",
            field=models.ForeignKey(
                blank=True,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="attendance confirmed by",
            ),
        ),
    ]
