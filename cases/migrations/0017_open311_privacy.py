# Written by hand (several engineers changed models at once).

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0016_texts_in_the_readers_language"),
    ]

    operations = []
