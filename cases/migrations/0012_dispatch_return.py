# Written by hand: other engineers' model changes were in the tree at the same time, so
# makemigrations would have taken theirs into this migration as well.
#
# A dispatch may be returned (退回) by its team or department before its report-in limit; the
# committee rules on the return. The re-dispatch stage is a clock of its own.

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
]


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0011_supervision_orders"),
        ("checklists", "0003_redispatch_stage"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="dispatch",
            name="state",
            field=models.CharField(
                choices=[
                    ("waiting", "waiting for report-in"),
                    ("reported", "reported in"),
                    ("resolved", "resolved"),
                    ("cancelled", "cancelled"),
                    ("returned", "returned"),
                ],
                default="waiting",
                editable=False,
                max_length=10,
                verbose_name="state",
            ),
        ),
        migrations.AlterField(
            model_name="dispatch",
            name="origin",
            field=models.CharField(
                choices=[
                    ("whistle", "whistle"),
                    ("added", "added by the town"),
                    ("decision", "consultation decision"),
                    ("overruled", "return overruled"),
                ],
                default="whistle",
                max_length=10,
                verbose_name="origin",
            ),
        ),
        migrations.AddField(
            model_name="dispatch",
            name="returned_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="returned at"),
        ),
        migrations.AddField(
            model_name="dispatch",
            name="returned_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="returned by",
            ),
        ),
        migrations.AddField(
            model_name="dispatch",
            name="return_reason",
            field=models.CharField(
                blank=True,
                choices=[
                    ("not_our_duty", "not our duty"),
                    ("wrong_place", "wrong place"),
                    ("duplicate", "duplicate of another case"),
                    ("other", "other"),
                ],
                max_length=20,
                verbose_name="reason for the return",
            ),
        ),
        migrations.AddField(
            model_name="dispatch",
            name="return_note",
            field=models.TextField(blank=True, verbose_name="why it was returned"),
        ),
        migrations.AddField(
            model_name="dispatch",
            name="return_ruling",
            field=models.CharField(
                blank=True,
                choices=[
                    ("upheld", "upheld: dispatch it elsewhere"),
                    ("overruled", "overruled: the same unit handles it"),
                ],
                max_length=10,
                verbose_name="ruling on the return",
            ),
        ),
        migrations.AddField(
            model_name="dispatch",
            name="return_ruled_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="ruled at"),
        ),
        migrations.AddField(
            model_name="dispatch",
            name="return_ruled_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="ruled by",
            ),
        ),
        migrations.AlterField(
            model_name="deadline",
            name="stage",
            field=models.CharField(choices=STAGES, max_length=20, verbose_name="stage"),
        ),
    ]
