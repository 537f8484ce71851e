# Written by hand: other engineers' model changes (dispatch returns) were in the tree at the
# same time, so makemigrations would have taken theirs into this migration as well.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0010_attachment_public"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="SupervisionOrder",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("note", models.TextField(verbose_name="note")),
                ("due_at", models.DateTimeField(verbose_name="deadline of the order")),
                ("issued_at", models.DateTimeField(verbose_name="issued at")),
                ("met_at", models.DateTimeField(blank=True, null=True, verbose_name="met at")),
                (
                    "case",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="supervision_orders",
                        to="cases.case",
                        verbose_name="case",
                    ),
                ),
                (
                    "dispatch",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="supervision_orders",
                        to="cases.dispatch",
                        verbose_name="dispatch",
                    ),
                ),
                (
                    "issued_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="issued by",
                    ),
                ),
            ],
            options={
                "verbose_name": "supervision order",
                "verbose_name_plural": "supervision orders",
                "ordering": ["due_at", "id"],
                "indexes": [
                    models.Index(fields=["case", "issued_at"], name="supervision_case_issued"),
                    models.Index(
                        condition=models.Q(("met_at__isnull", True)),
                        fields=["due_at", "id"],
                        name="supervision_open_due",
                    ),
                ],
            },
        ),
    ]
