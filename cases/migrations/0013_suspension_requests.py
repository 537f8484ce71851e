# Written by hand (several engineers changed models at once): long-term cases (挂账):
# requests and the review clock.
#
# A handler requests the suspension of a long-term case; the committee decides. A suspended case
# has a review clock of its own (the suspension review stage).

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

STAGES = [
    ("screening", "screening"),
    ("village_handling", "village handling"),
    ("report_in", "report-in"),
    ("redispatch", "re-dispatch"),
    ("handling", "handling"),
    ("town_consultation", "town consultation"),
    ("city_consultation", "city consultation"),
    ("verification", "verification"),
    ("suspension_review", "suspension review"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0012_dispatch_return"),
        ("checklists", "0004_suspension_review_stage"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="deadline",
            name="stage",
            field=models.CharField(choices=STAGES, max_length=20, verbose_name="stage"),
        ),
        migrations.AddField(
            model_name="case",
            name="suspension_requested",
            field=models.BooleanField(
                default=False, editable=False, verbose_name="suspension requested"
            ),
        ),
        migrations.CreateModel(
            name="SuspensionRequest",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("requested_at", models.DateTimeField(verbose_name="requested at")),
                ("reason", models.TextField(verbose_name="reason")),
                ("review_on", models.DateField(verbose_name="proposed review date")),
                (
                    "state",
                    models.CharField(
                        choices=[
                            ("pending", "pending"),
                            ("approved", "approved"),
                            ("refused", "refused"),
                        ],
                        default="pending",
                        max_length=10,
                        verbose_name="state",
                    ),
                ),
                (
                    "decided_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="decided at"),
                ),
                ("decision_note", models.TextField(blank=True, verbose_name="decision note")),
                (
                    "case",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="suspension_requests",
                        to="cases.case",
                        verbose_name="case",
                    ),
                ),
                (
                    "decided_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="decided by",
                    ),
                ),
                (
                    "requested_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="requested by",
                    ),
                ),
            ],
            options={
                "verbose_name": "suspension request",
                "verbose_name_plural": "suspension requests",
                "ordering": ["-requested_at", "-id"],
                "indexes": [
                    models.Index(fields=["case", "requested_at"], name="suspension_request_case")
                ],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("state", "pending")),
                        fields=("case",),
                        name="suspension_request_one_pending",
                    )
                ],
            },
        ),
    ]
