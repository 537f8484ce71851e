# Written by hand: the constraint itself was dropped by cases 0025 (the partitioned event log).
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("spotchecks", "0002_append_only"),
        ("cases", "0025_event_partitions"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="spotcheckcase",
                    name="event",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=models.deletion.PROTECT,
                        related_name="+",
                        to="cases.event",
                        verbose_name="event",
                    ),
                ),
            ],
        ),
    ]
