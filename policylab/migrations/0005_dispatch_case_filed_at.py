"""A replayed dispatch's facts keep its case's filing time, as the live ones do (migration
assessment 0017): the column the indicators' subqueries name to read one month's partition."""

from django.db import migrations, models

FILL = """
UPDATE policylab_replaydispatchfact SET case_filed_at = (
    SELECT filed_at FROM policylab_replaycasefact r
    WHERE r.id = policylab_replaydispatchfact.case_fact_id
)
"""


class Migration(migrations.Migration):
    dependencies = [
        ("assessment", "0017_fact_partitions"),
        ("policylab", "0004_level_names_solved_by"),
    ]

    operations = [
        migrations.AddField(
            model_name="replaydispatchfact",
            name="case_filed_at",
            field=models.DateTimeField(editable=False, null=True, verbose_name="case filed at"),
        ),
        migrations.RunSQL(FILL, migrations.RunSQL.noop),
        migrations.AlterField(
            model_name="replaydispatchfact",
            name="case_filed_at",
            field=models.DateTimeField(editable=False, verbose_name="case filed at"),
        ),
    ]
