# Written by hand (several engineers changed models at once): system texts stored as codes
# (issue 19, item 12).

import re

from django.db import migrations, models

# The system texts stored as prose before, in either language, and their codes. Anything else
# (an officer's own words) stays as written.
COMMON = {
    "The matter is not on the whistle list.": "not_on_list",
    "该事项不在吹哨清单内。": "not_on_list",
    "A civil or economic dispute: not for whistling.": "dispute",
    "属于民事或经济纠纷，不适用吹哨。": "dispute",
    "A duplicate of a case already open.": "duplicate",
    "与已立案的未结案件重复。": "duplicate",
}
MERGED = re.compile(r"^(Duplicate of \S+\.|与 \S+ 重复。)$")


def codes_for_old_texts(apps, schema_editor):
    Case = apps.get_model("cases", "Case")
    for text, code in COMMON.items():
        Case.objects.filter(rejection_code="", rejection_reason=text).update(
            rejection_code=code, rejection_reason=""
        )
    merged = Case.objects.filter(rejection_code="", merged_into__isnull=False)
    for case in merged.only("pk", "rejection_reason").iterator():
        if MERGED.match(case.rejection_reason.strip()):
            Case.objects.filter(pk=case.pk).update(rejection_code="merged", rejection_reason="")


class Migration(migrations.Migration):
    dependencies = [("cases", "0015_transfers")]

    operations = [
        migrations.AddField(
            model_name="case",
            name="rejection_code",
            field=models.CharField(
                blank=True,
                choices=[
                    ("not_on_list", "The matter is not on the whistle list."),
                    ("dispute", "A civil or economic dispute: not for whistling."),
                    ("duplicate", "A duplicate of a case already open."),
                    ("merged", "Merged into another case as a duplicate."),
                ],
                editable=False,
                max_length=20,
                verbose_name="reason code for rejection",
            ),
        ),
        migrations.RunPython(codes_for_old_texts, migrations.RunPython.noop),
    ]
