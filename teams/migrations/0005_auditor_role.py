# Written by hand (several engineers changed models at once).

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("teams", "0004_two_factor"),
    ]

    operations = []
