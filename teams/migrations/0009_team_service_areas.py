# Teams with service areas (issue 17): a team's town becomes its home region (city or town
# level; the data is kept by the rename), brigades of a parent team, the areas a unit serves,
# and the village a team captain or member is stationed in. Existing teams keep empty areas,
# so they serve their home region (the old town) exactly as before.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("teams", "0008_push_subscriptions")]

    operations = [
        migrations.RenameField(model_name="team", old_name="town", new_name="region"),
        migrations.AlterField(
            model_name="team",
            name="region",
            field=models.ForeignKey(
                help_text="The town, or the city / district, the unit belongs to.",
                limit_choices_to={"level__in": ["city", "town"]},
                on_delete=django.db.models.deletion.PROTECT,
                related_name="teams",
                to="teams.region",
                verbose_name="home region",
            ),
        ),
        migrations.AddField(
            model_name="team",
            name="parent",
            field=models.ForeignKey(
                blank=True,
                help_text="For a brigade: the district team it belongs to.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="brigades",
                to="teams.team",
                verbose_name="parent team",
            ),
        ),
        migrations.AddField(
            model_name="team",
            name="areas",
            field=models.ManyToManyField(
                blank=True,
                help_text="Towns (or whole cities / districts) the unit serves. Empty: its home region.",
                limit_choices_to={"level__in": ["city", "town"]},
                related_name="served_by_teams",
                to="teams.region",
                verbose_name="service area",
            ),
        ),
        migrations.AddField(
            model_name="membership",
            name="stationed_in",
            field=models.ForeignKey(
                blank=True,
                help_text=(
                    "For a team captain or member: the village or community they are stationed "
                    "in (they see its cases as their team does)."
                ),
                limit_choices_to={"level": "village"},
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="stationed_memberships",
                to="teams.region",
                verbose_name="stationed in",
            ),
        ),
        migrations.AddConstraint(
            model_name="membership",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("stationed_in__isnull", True),
                    ("role__in", ["team_captain", "team_member"]),
                    _connector="OR",
                ),
                name="membership_stationed_team_roles_only",
            ),
        ),
        migrations.AddConstraint(
            model_name="team",
            constraint=models.CheckConstraint(
                condition=models.Q(("parent", models.F("id")), _negated=True),
                name="team_not_its_own_parent",
            ),
        ),
    ]
