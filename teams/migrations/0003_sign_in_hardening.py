# Written by hand (several engineers changed models at once).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("teams", "0002_department_kinds"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="session_generation",
            field=models.PositiveIntegerField(
                default=0, editable=False, verbose_name="session generation"
            ),
        ),
        # API tokens moved to django-rest-knox, which keeps only a digest. The old
        # rest_framework.authtoken table held every key in clear: drop it where it exists
        # (a database from before); a new database never had it.
        migrations.RunSQL(
            "DROP TABLE IF EXISTS authtoken_token", reverse_sql=migrations.RunSQL.noop
        ),
    ]
