# Written by hand (several engineers changed models at once).

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0018_upload_budget"),
    ]

    operations = []
