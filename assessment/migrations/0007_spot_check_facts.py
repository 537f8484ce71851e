# Written by hand (several engineers changed models at once): spot checks and false replies.
#
# Per dispatch, whether a spot check's revisit (抽查) was recorded on the case it reported
# resolved, and whether it found the reply false (虚假回复). The facts are recomputed from the
# events by `manage.py rebuild_facts` (no dispatch was spot-checked before: the defaults are
# their truth).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("assessment", "0006_dispatch_returns")]

    operations = [
        migrations.AddField(
            model_name="dispatchfact",
            name="spot_checked",
            field=models.BooleanField(default=False, verbose_name="revisited in a spot check"),
        ),
        migrations.AddField(
            model_name="dispatchfact",
            name="false_reply",
            field=models.BooleanField(default=False, verbose_name="false reply"),
        ),
    ]
