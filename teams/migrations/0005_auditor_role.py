# Written by hand (several engineers changed models at once).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("teams", "0004_two_factor"),
    ]

    operations = [
        migrations.AlterField(
            model_name="membership",
            name="role",
            field=models.CharField(
                choices=[
                    ("grid_worker", "grid worker"),
                    ("village_officer", "village officer"),
                    ("team_captain", "team captain"),
                    ("team_member", "team member"),
                    ("department_liaison", "department liaison"),
                    ("town_committee", "town committee staff"),
                    ("city_committee", "city committee staff"),
                    ("supervisor", "supervisor"),
                    ("admin", "administrator"),
                    ("auditor", "auditor"),
                ],
                db_index=True,
                max_length=24,
                verbose_name="role",
            ),
        ),
        migrations.RemoveConstraint(
            model_name="membership",
            name="membership_role_has_its_place",
        ),
        migrations.AddConstraint(
            model_name="membership",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("role", "grid_worker"),
                        ("grid__isnull", False),
                        ("region__isnull", True),
                        ("team__isnull", True),
                        ("department__isnull", True),
                    ),
                    models.Q(
                        ("role__in", ["team_captain", "team_member"]),
                        ("team__isnull", False),
                        ("region__isnull", True),
                        ("grid__isnull", True),
                        ("department__isnull", True),
                    ),
                    models.Q(
                        ("role", "department_liaison"),
                        ("department__isnull", False),
                        ("region__isnull", True),
                        ("grid__isnull", True),
                        ("team__isnull", True),
                    ),
                    models.Q(
                        (
                            "role__in",
                            [
                                "village_officer",
                                "town_committee",
                                "city_committee",
                                "supervisor",
                                "admin",
                                "auditor",
                            ],
                        ),
                        ("region__isnull", False),
                        ("grid__isnull", True),
                        ("team__isnull", True),
                        ("department__isnull", True),
                    ),
                    _connector="OR",
                ),
                name="membership_role_has_its_place",
            ),
        ),
    ]
