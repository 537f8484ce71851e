# Written by hand (several engineers changed models at once): "me too": supporters of an open case.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

SOURCES = [
    ("grid_worker", "grid worker"),
    ("hotline", "12345 hotline"),
    ("citizen", "citizen"),
    ("investigation", "comprehensive investigation"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0013_suspension_requests"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Supporter",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "source",
                    models.CharField(choices=SOURCES, max_length=16, verbose_name="source"),
                ),
                (
                    "caller_reference",
                    models.CharField(blank=True, max_length=64, verbose_name="caller reference"),
                ),
                (
                    "contact_name",
                    models.CharField(blank=True, max_length=100, verbose_name="contact name"),
                ),
                (
                    "contact_phone",
                    models.CharField(blank=True, max_length=40, verbose_name="contact phone"),
                ),
                ("note", models.TextField(blank=True, verbose_name="note")),
                ("supported_at", models.DateTimeField(verbose_name="supported at")),
                (
                    "case",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="supporters",
                        to="cases.case",
                        verbose_name="case",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="user",
                    ),
                ),
            ],
            options={
                "verbose_name": "supporter",
                "verbose_name_plural": "supporters",
                "ordering": ["supported_at", "id"],
                "indexes": [
                    models.Index(fields=["case", "supported_at"], name="supporter_case_at")
                ],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("user__isnull", False)),
                        fields=("case", "user"),
                        name="supporter_once_per_user",
                    ),
                    models.UniqueConstraint(
                        condition=models.Q(
                            ("user__isnull", True),
                            models.Q(("caller_reference", ""), _negated=True),
                        ),
                        fields=("case", "source", "caller_reference"),
                        name="supporter_once_per_caller",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("user__isnull", False),
                            models.Q(("caller_reference", ""), _negated=True),
                            _connector="OR",
                        ),
                        name="supporter_is_someone",
                    ),
                ],
            },
        ),
    ]
