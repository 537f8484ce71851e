# Written by hand (several engineers changed models at once).

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("assessment", "0011_closed_period_facts"),
    ]

    operations = []
