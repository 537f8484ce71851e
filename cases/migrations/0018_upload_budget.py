# Written by hand (several engineers changed models at once).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0017_open311_privacy"),
    ]

    operations = [
        # Rows written before this are re-encoded already: READY.
        migrations.AddField(
            model_name="attachment",
            name="state",
            field=models.CharField(
                choices=[
                    ("processing", "being processed"),
                    ("ready", "ready"),
                    ("failed", "unreadable"),
                ],
                default="ready",
                max_length=10,
                verbose_name="state",
            ),
        ),
        migrations.AddField(
            model_name="attachment",
            name="thumbnail",
            field=models.FileField(
                blank=True, upload_to="cases/thumbnails/%Y/%m/", verbose_name="thumbnail"
            ),
        ),
        migrations.AddIndex(
            model_name="attachment",
            index=models.Index(
                condition=models.Q(("state", "processing")),
                fields=["created_at"],
                name="attachment_processing",
            ),
        ),
    ]
