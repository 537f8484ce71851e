# Written by hand (several engineers changed models at once).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0016_texts_in_the_readers_language"),
    ]

    operations = [
        migrations.AddField(
            model_name="case",
            name="public",
            field=models.BooleanField(
                default=False,
                editable=False,
                help_text="The public may read the whistle's text, address and photos.",
                verbose_name="public",
            ),
        ),
    ]
