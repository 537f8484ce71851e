# Written by hand, after 0005_supervision_facts (written at the same time by another engineer):
# other engineers' model changes were in the tree at the same time, so
# makemigrations would have taken theirs into this migration as well.
#
# A dispatch's return (退回) and the committee's ruling on it, per unit. The facts are
# recomputed from the events by `manage.py rebuild_facts` (existing dispatches were never
# returned: the defaults are their truth).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("assessment", "0005_supervision_facts"),
        ("cases", "0012_dispatch_return"),
    ]

    operations = [
        migrations.AddField(
            model_name="dispatchfact",
            name="returned",
            field=models.BooleanField(default=False, verbose_name="returned"),
        ),
        migrations.AddField(
            model_name="dispatchfact",
            name="return_upheld",
            field=models.BooleanField(default=False, verbose_name="return upheld"),
        ),
        migrations.AddField(
            model_name="dispatchfact",
            name="return_overruled",
            field=models.BooleanField(default=False, verbose_name="return overruled"),
        ),
        migrations.AlterField(
            model_name="dispatchfact",
            name="origin",
            field=models.CharField(
                choices=[
                    ("whistle", "whistle"),
                    ("added", "added by the town"),
                    ("decision", "consultation decision"),
                    ("overruled", "return overruled"),
                ],
                max_length=10,
                verbose_name="origin",
            ),
        ),
    ]
