# Written by hand (several engineers changed models at once): reason and reply templates.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("checklists", "0005_hotline_routing")]

    operations = [
        migrations.CreateModel(
            name="ReplyTemplate",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("code", models.SlugField(max_length=64, unique=True, verbose_name="code")),
                (
                    "action",
                    models.CharField(
                        choices=[
                            ("reject", "reject a whistle"),
                            ("return_dispatch", "return a dispatch"),
                            ("verify", "verify on site (not fixed)"),
                            ("urge", "urge a unit"),
                            ("cancel", "withdraw a dispatch"),
                        ],
                        max_length=32,
                        verbose_name="action",
                    ),
                ),
                ("text_zh", models.TextField(verbose_name="text (Chinese)")),
                ("text_en", models.TextField(verbose_name="text (English)")),
                (
                    "redirect_zh",
                    models.TextField(
                        blank=True,
                        help_text="For a rejection: the office or channel that can help.",
                        verbose_name="where to go instead (Chinese)",
                    ),
                ),
                (
                    "redirect_en",
                    models.TextField(blank=True, verbose_name="where to go instead (English)"),
                ),
                ("order", models.PositiveSmallIntegerField(default=0, verbose_name="order")),
                ("active", models.BooleanField(default=True, verbose_name="active")),
                (
                    "item",
                    models.ForeignKey(
                        blank=True,
                        help_text="Leave empty to offer it for every item.",
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="reply_templates",
                        to="checklists.item",
                        verbose_name="item",
                    ),
                ),
            ],
            options={
                "verbose_name": "reply template",
                "verbose_name_plural": "reply templates",
                "ordering": ["action", "order", "code"],
                "indexes": [
                    models.Index(fields=["action", "active"], name="reply_template_action")
                ],
            },
        ),
    ]
