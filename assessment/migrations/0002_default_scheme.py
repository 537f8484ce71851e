"""The default scoring scheme: the seven rates with weights and floors, and the towns'
evaluation of departments at 30% (seed 004)."""

import datetime
from decimal import Decimal

from django.db import migrations

INDICATORS = [
    # key, weight, floor (more is better), ceiling (less is better)
    ("on_time_closure_rate", "25", "0.90", None),
    ("closure_rate", "15", "0.95", None),
    ("response_rate", "15", "0.95", None),
    ("satisfaction_rate", "20", "0.90", None),
    ("on_the_spot_rate", "10", "0.70", None),
    ("rework_rate", "10", None, "0.05"),
    ("postponement_rate", "5", None, "0.10"),
]
DEDUCTIONS = [
    ("per_failed_verification", "0.50"),
    ("per_late_report_in", "0.20"),
]


def create_default(apps, schema_editor):
    Scheme = apps.get_model("assessment", "ScoringScheme")
    if Scheme.objects.exists():
        return
    scheme = Scheme.objects.create(
        name="Default (seed 004)",
        valid_from=datetime.date(2000, 1, 1),
        active=True,
        town_evaluation_weight=Decimal("0.300"),
    )
    Indicator = apps.get_model("assessment", "SchemeIndicator")
    for key, weight, floor, ceiling in INDICATORS:
        Indicator.objects.create(
            scheme=scheme,
            key=key,
            weight=Decimal(weight),
            floor=Decimal(floor) if floor else None,
            ceiling=Decimal(ceiling) if ceiling else None,
        )
    Deduction = apps.get_model("assessment", "SchemeDeduction")
    for kind, points in DEDUCTIONS:
        Deduction.objects.create(scheme=scheme, kind=kind, points=Decimal(points))


def remove_default(apps, schema_editor):
    apps.get_model("assessment", "ScoringScheme").objects.filter(name="Default (seed 004)").delete()


class Migration(migrations.Migration):
    dependencies = [("assessment", "0001_initial")]

    operations = [migrations.RunPython(create_default, remove_default)]
