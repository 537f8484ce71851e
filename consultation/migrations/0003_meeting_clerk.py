# Written by hand (several engineers changed models at once).

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("consultation", "0002_append_only"),
    ]

    operations = []
