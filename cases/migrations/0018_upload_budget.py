# Written by hand (several engineers changed models at once).

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0017_open311_privacy"),
    ]

    operations = []
