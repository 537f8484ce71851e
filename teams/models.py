"""The organisation: the region tree, grids, departments, teams and who holds which role where."""

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.reference import ReferenceQuerySet
from teams.geo import bbox, polygon_errors
from teams.levels import (
    ONE_WHISTLE_LEVEL,
    PREFECTURE,
    TIER_LABELS,
    TIERS,
    flag_problems,
    level_label,
    level_name,
    level_words,
    on_chain,
    parent_level,
    parent_required,
    region_level_choices,
    shape,
    with_levels,
)
from teams.localized import BilingualNameMixin
from teams.names import person_name


class User(AbstractUser):
    """A person who signs in; what they may do comes from their memberships."""

    phone = models.CharField(_("phone"), max_length=32, blank=True)
    # The addresses of the DingTalk and WeCom channels (cases.channels): the user's id in the
    # organisation's DingTalk / WeCom directory.
    dingtalk_userid = models.CharField(_("DingTalk user id"), max_length=64, blank=True)
    wecom_userid = models.CharField(_("WeCom user id"), max_length=64, blank=True)
    # Raised by "sign out everywhere" (teams.sessions): it is part of the session hash, so every
    # session signed in before is refused at its next request.
    session_generation = models.PositiveIntegerField(
        _("session generation"), default=0, editable=False
    )

    class Meta(AbstractUser.Meta):
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def _get_session_auth_hash(self, secret: str | None = None) -> str:
        """Django's hash of the password, with the session generation once it was raised (so
        that sessions from before this field keep their hash)."""
        if not self.session_generation:
            return super()._get_session_auth_hash(secret=secret)
        return salted_hmac(
            "whistle.teams.User.session_generation",
            f"{self.password}:{self.session_generation}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()

    def __str__(self) -> str:
        full = self.get_full_name()
        return f"{full} ({self.username})" if full else self.username

    def get_full_name(self) -> str:
        """Family name first without a space for a Chinese name (teams.names)."""
        return person_name(given=self.first_name, family=self.last_name)


class Region(BilingualNameMixin):
    """A node of the administrative tree: city -> town/street -> village/community, and in a
    deployment of four levels a prefecture above its cities (teams.levels.parent_level)."""

    class Level(models.TextChoices):
        # The deployment's names (teams.levels); fields take region_level_choices, never these.
        PREFECTURE = "prefecture", level_label("prefecture")
        CITY = "city", level_label("city")
        TOWN = "town", level_label("town")
        VILLAGE = "village", level_label("village")

    code = models.CharField(_("code"), max_length=32, unique=True)
    level = models.CharField(_("level"), max_length=10, choices=region_level_choices, db_index=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )

    # Filing keeps regions and grids in each process (teams.selectors): every write must drop
    # them.
    objects = ReferenceQuerySet.as_manager()

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(level="prefecture", parent__isnull=True)
                | Q(level="city")
                | (Q(level__in=["town", "village"]) & Q(parent__isnull=False)),
                name="region_parent_by_level",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.level == PREFECTURE and not shape().prefecture_in_use:
            raise ValidationError({"level": PREFECTURE_OUT_OF_USE})
        expected = parent_level(self.level) if self.level in TIERS else None
        if expected is None and self.parent_id:
            raise ValidationError(
                {
                    "parent": _("A %(level)s has no parent region.")
                    % {"level": level_name(self.level)}
                }
            )
        if expected is not None:
            if not self.parent_id and not parent_required(self.level):
                return  # a county standing alone beside the prefecture's
            if not self.parent_id:
                raise ValidationError({"parent": _("This level needs a parent region.")})
            if self.parent.level != expected:
                raise ValidationError(
                    {
                        "parent": _("The parent of a %(level)s must be a %(expected)s.")
                        % {"level": level_name(self.level), "expected": level_name(expected)}
                    }
                )

    @property
    def city(self) -> "Region":
        """The region of the top level this one lies in (itself for a top level's region)."""
        node = self
        while node.level not in (self.Level.CITY, self.Level.PREFECTURE) and node.parent_id:
            node = node.parent
        return node

    @property
    def town(self) -> "Region | None":
        if self.level == self.Level.TOWN:
            return self
        if self.level == self.Level.VILLAGE:
            return self.parent
        return None


class RegionOutline(models.Model):
    """A region's outline, when its files gave one: a grid must lie inside its village's
    (rollout.load_grids). Apart from Region, which every page and the filing cache read."""

    region = models.OneToOneField(
        Region,
        verbose_name=_("region"),
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="outline",
    )
    polygon = models.JSONField(
        _("outline"),
        help_text=_(
            "GeoJSON Polygon or MultiPolygon (with holes if any) in WGS-84 (longitude, latitude)"
        ),
    )

    class Meta:
        verbose_name = _("region outline")
        verbose_name_plural = _("region outlines")

    def __str__(self) -> str:
        return str(self.region)

    def clean(self) -> None:
        problem = polygon_errors(self.polygon)
        if problem:
            raise ValidationError({"polygon": problem})


class LevelName(models.Model):
    """What the deployment calls one tier of its tree, in both languages (teams.levels)."""

    level = models.CharField(
        _("tier"), max_length=10, unique=True, choices=[(t, TIER_LABELS[t]) for t in TIERS]
    )
    name_en = models.CharField(_("name (English)"), max_length=40, help_text=_("e.g. street"))
    plural_en = models.CharField(
        _("plural (English)"), max_length=40, blank=True, help_text=_("e.g. streets")
    )
    name_zh = models.CharField(_("name (Chinese)"), max_length=20, help_text=_("e.g. 街道"))
    # Where whistles are blown (teams.levels.whistle_level): the bottom level, or the middle one
    # (Beijing's streets), where every whistle then goes straight to the street's dispatch.
    whistles_here = models.BooleanField(
        _("whistles are blown here"),
        default=False,
        help_text=_(
            "The middle or the bottom level. At the middle level, every whistle goes straight to "
            "its dispatch, the village or community being told."
        ),
    )
    # The escalation chain (teams.levels.on_chain): without the top level's committee, the
    # middle level's committee decides last and nothing climbs further.
    committee = models.BooleanField(
        _("its committee sits on the escalation chain"),
        default=True,
        help_text=_("Only the top level's committee can be left out."),
    )
    # Two levels instead of three (teams.levels.levels_in_use): the top tier out of use is the
    # deployment's whole area, the root of its tree, and no level of its own.
    in_use = models.BooleanField(
        _("in use"),
        default=True,
        help_text=_(
            "Only the top level can be out of use: the deployment then has two levels, its top "
            "tier being the whole area, with no committee."
        ),
    )

    objects = ReferenceQuerySet.as_manager()

    class Meta:
        verbose_name = _("level name")
        verbose_name_plural = _("level names")
        ordering = ["level"]
        constraints = [
            models.CheckConstraint(
                condition=Q(whistles_here=False) | Q(level__in=["town", "village"]),
                name="levelname_whistles_below_the_top",
            ),
            models.CheckConstraint(
                condition=Q(committee=True) | Q(level__in=["prefecture", "city"]),
                name="levelname_committee_top_only",
            ),
            models.UniqueConstraint(
                fields=["whistles_here"],
                condition=Q(whistles_here=True),
                name="levelname_one_whistle_level",
            ),
            models.CheckConstraint(
                condition=Q(in_use=True)
                | (Q(level__in=["prefecture", "city"]) & Q(committee=False)),
                name="levelname_out_of_use_top_only",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name_zh} / {self.name_en}"

    def clean(self) -> None:
        problems = flag_problems(
            level=self.level,
            whistles_here=self.whistles_here,
            committee=self.committee,
            in_use=self.in_use,
        )
        if problems:
            raise ValidationError(problems)
        others = LevelName.objects.filter(whistles_here=True).exclude(pk=self.pk)
        if self.whistles_here and others.exists():
            raise ValidationError({"whistles_here": ONE_WHISTLE_LEVEL})
        if self.level == PREFECTURE:
            problem = prefecture_change_problem(in_use=self.in_use)
            if problem:
                raise ValidationError({"in_use": problem})
            return
        if not self.in_use and (staff := top_committee_staff()):
            raise ValidationError({"in_use": staff_left(staff)})
        if not self.in_use and shape().prefecture_in_use:
            raise ValidationError({"in_use": PREFECTURE_OVER_TWO})


class Grid(BilingualNameMixin):
    """The smallest patch, inside exactly one village, walked by its grid workers."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    village = models.ForeignKey(
        Region,
        verbose_name=_("village"),
        on_delete=models.PROTECT,
        related_name="grids",
        limit_choices_to={"level": Region.Level.VILLAGE},
    )
    polygon = models.JSONField(
        _("polygon"),
        help_text=_(
            "GeoJSON Polygon or MultiPolygon (with holes if any) in WGS-84 (longitude, latitude)"
        ),
    )
    # Bounding box kept from the polygon so that "which grid is this point in" is an index scan.
    min_lat = models.FloatField(_("minimum latitude"), editable=False, default=0)
    max_lat = models.FloatField(_("maximum latitude"), editable=False, default=0)
    min_lng = models.FloatField(_("minimum longitude"), editable=False, default=0)
    max_lng = models.FloatField(_("maximum longitude"), editable=False, default=0)

    objects = ReferenceQuerySet.as_manager()

    class Meta:
        verbose_name = _("grid")
        verbose_name_plural = _("grids")
        ordering = ["code"]
        indexes = [models.Index(fields=["min_lat", "max_lat", "min_lng", "max_lng"])]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def clean(self) -> None:
        if self.village_id and self.village.level != Region.Level.VILLAGE:
            raise ValidationError(
                {"village": _("A grid must lie in a %(village)s.") % level_words()}
            )
        problem = polygon_errors(self.polygon)
        if problem:
            raise ValidationError({"polygon": problem})

    def refresh_bbox(self) -> None:
        """From the outer rings of every part of the polygon."""
        self.min_lng, self.min_lat, self.max_lng, self.max_lat = bbox(self.polygon)


class DepartmentKind(BilingualNameMixin):
    """A kind of functional department (market supervision, fire, ...) the checklist refers to."""

    code = models.CharField(_("code"), max_length=32, unique=True)

    class Meta:
        verbose_name = _("department kind")
        verbose_name_plural = _("department kinds")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Department(BilingualNameMixin):
    """A functional department of a city (or its branch in a town)."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    kind = models.ForeignKey(
        DepartmentKind, verbose_name=_("kind"), on_delete=models.PROTECT, related_name="departments"
    )
    region = models.ForeignKey(
        Region,
        verbose_name=_("region"),
        on_delete=models.PROTECT,
        related_name="departments",
        limit_choices_to={"level__in": [Region.Level.CITY, Region.Level.TOWN]},
        help_text=_("The city, or the town for a town branch."),
    )

    objects = ReferenceQuerySet.as_manager()  # kept as the items' default handlers

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.region_id and self.region.level == Region.Level.VILLAGE:
            raise ValidationError(
                {"region": _("A department belongs to a %(city)s or a %(town)s.") % level_words()}
            )


class Team(BilingualNameMixin):
    """A law enforcement unit ("1+1+X"): a town's team, a district's team or one of its brigades.

    Where it works is its service area (`areas`: towns or whole cities); empty means its home
    region. A district team's brigades (`brigades`) divide the district between them, by area or
    by speciality (checklists: Aspect.teams / Item.teams)."""

    class Kind(models.TextChoices):
        COMPREHENSIVE = "comprehensive", _("comprehensive law enforcement")
        PROFESSIONAL = "professional", _("professional")

    code = models.CharField(_("code"), max_length=32, unique=True)
    region = models.ForeignKey(
        Region,
        verbose_name=_("home region"),
        on_delete=models.PROTECT,
        related_name="teams",
        limit_choices_to={"level__in": [Region.Level.CITY, Region.Level.TOWN]},
        help_text=_("The town, or the city / district, the unit belongs to."),
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent team"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="brigades",
        help_text=_("For a brigade: the district team it belongs to."),
    )
    areas = models.ManyToManyField(
        Region,
        verbose_name=_("service area"),
        blank=True,
        related_name="served_by_teams",
        limit_choices_to={"level__in": [Region.Level.CITY, Region.Level.TOWN]},
        help_text=_("Towns (or whole cities / districts) the unit serves. Empty: its home region."),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    departments = models.ManyToManyField(
        Department,
        verbose_name=_("X forces: departments"),
        blank=True,
        related_name="teams",
        help_text=_("Departments that work with this team (the X of 1+1+X)."),
    )

    objects = ReferenceQuerySet.as_manager()  # kept in the users' scopes (cases.access)

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(parent=models.F("id")), name="team_not_its_own_parent"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.region_id and self.region.level == Region.Level.VILLAGE:
            raise ValidationError(
                {"region": _("A team belongs to a %(city)s or a %(town)s.") % level_words()}
            )
        if self.parent_id:
            if self.pk and self.parent_id == self.pk:
                raise ValidationError({"parent": _("A team cannot be its own parent.")})
            node, seen = self.parent, {self.pk}
            while node is not None:
                if node.pk in seen:
                    raise ValidationError({"parent": _("The parent teams would form a loop.")})
                seen.add(node.pk)
                node = node.parent

    def serves(self, place: "Region | models.Model") -> bool:
        """Whether a place (a village, town or city), or a case's place (cases.Case, read by
        its village, town or city), lies in the unit's service area or its brigades'."""
        from teams.service_areas import team_serves

        if not isinstance(place, Region):
            place = place.village or place.town or place.city
        return team_serves(team=self, region=place)

    def takes(self, item: models.Model) -> bool:
        """Whether the unit takes a checklist item (checklists.Item): one of its items, or an
        item of one of its aspects; a unit with no speciality takes every item."""
        items = set(self.items.values_list("pk", flat=True))
        aspects = set(self.aspects.values_list("pk", flat=True))
        if not items and not aspects:
            return True
        return item.pk in items or item.aspect_id in aspects


class Role(models.TextChoices):
    GRID_WORKER = "grid_worker", _("grid worker")
    VILLAGE_OFFICER = "village_officer", with_levels(_("%(village)s officer"))
    TEAM_CAPTAIN = "team_captain", _("team captain")
    TEAM_MEMBER = "team_member", _("team member")
    DEPARTMENT_LIAISON = "department_liaison", _("department liaison")
    TOWN_COMMITTEE = "town_committee", with_levels(_("%(town)s committee staff"))
    CITY_COMMITTEE = "city_committee", with_levels(_("%(city)s committee staff"))
    # Four levels, with the prefecture's committee on the escalation chain (teams.levels).
    PREFECTURE_COMMITTEE = (
        "prefecture_committee",
        with_levels(_("%(prefecture)s committee staff")),
    )
    SUPERVISOR = "supervisor", _("supervisor")
    ADMIN = "admin", _("administrator")
    # Reads the access audit trail (audit app) and nothing of the cases: a duty of its own.
    AUDITOR = "auditor", _("auditor")


def role_choices() -> list[tuple[str, str]]:
    """The roles, those held at a level named by the deployment (a callable, so migrations
    keep the function and never the names)."""
    return list(Role.choices)


# Where each role is held: the field that must be set and, for regions, the level.
ROLE_PLACE = {
    Role.GRID_WORKER: ("grid", None),
    Role.VILLAGE_OFFICER: ("region", Region.Level.VILLAGE),
    Role.TEAM_CAPTAIN: ("team", None),
    Role.TEAM_MEMBER: ("team", None),
    Role.DEPARTMENT_LIAISON: ("department", None),
    Role.TOWN_COMMITTEE: ("region", Region.Level.TOWN),
    Role.CITY_COMMITTEE: ("region", Region.Level.CITY),
    Role.PREFECTURE_COMMITTEE: ("region", Region.Level.PREFECTURE),
    Role.SUPERVISOR: ("region", Region.Level.CITY),
    Role.ADMIN: ("region", Region.Level.CITY),
    Role.AUDITOR: ("region", Region.Level.CITY),
}
# The roles that may also be held at a prefecture (four levels): they then hold it at every
# region of the top level below it (cases.access.scope_of).
PREFECTURE_ROLES = frozenset({Role.SUPERVISOR, Role.ADMIN, Role.AUDITOR})
# Every role held at a prefecture, which each of them holds at the top level's regions below
# it (cases.access.scope_of): the overseers' and the prefecture committee's.
HELD_BELOW_PREFECTURE = PREFECTURE_ROLES | {Role.PREFECTURE_COMMITTEE}
PREFECTURE_OUT_OF_USE = with_levels(
    _(
        "The level above the top (%(prefecture)s) is not in use: say in_use = true on its row "
        "of the levels file, or on the admin page Level names, first."
    )
)
PREFECTURE_OVER_TWO = with_levels(
    _(
        "The level above the top (%(prefecture)s) is in use: a deployment of four levels keeps "
        "its top level. Put the level above out of use first."
    )
)


def role_held_at(role: str, level: str) -> bool:
    """Whether a role held at a region may be held at one of this level: its own, or a
    prefecture for the roles that oversee (PREFECTURE_ROLES)."""
    return level == ROLE_PLACE[role][1] or (level == PREFECTURE and role in PREFECTURE_ROLES)


def prefecture_change_problem(*, in_use: bool, top_in_use: bool | None = None) -> str:
    """Why the tier above the top cannot be put in or out of use now, or "": in use only over a
    top level in use (as stored, or as a file leaves it); out of use only once no region of it
    is left."""
    if in_use and not (shape().top_in_use if top_in_use is None else top_in_use):
        return str(
            with_levels(
                _(
                    "The level above the top needs the top level (%(city)s) in use: a deployment "
                    "has two, three or four levels."
                )
            )
        )
    if not in_use and (count := Region.objects.filter(level=PREFECTURE).count()):
        return ngettext(
            "%(count)d region of the level above the top is left: remove it first.",
            "%(count)d regions of the level above the top are left: remove them first.",
            count,
        ) % {"count": count}
    return ""


PLACE_FIELDS = ("region", "grid", "team", "department")
NO_TOP_COMMITTEE = _(
    "This deployment has two levels: its top tier, the whole area, has no committee, so no one "
    "is its committee staff."
)


def staff_left(count: int) -> str:
    """Why the top level cannot go out of use yet: its committee still has staff."""
    return ngettext(
        "%(count)d person is still the top committee's staff: take the membership away before "
        "the top level goes out of use.",
        "%(count)d people are still the top committee's staff: take their memberships away "
        "before the top level goes out of use.",
        count,
    ) % {"count": count}


def top_committee_staff() -> int:
    """How many memberships the top level's committee still has (none may be left when it goes
    out of use)."""
    return Membership.objects.filter(role=Role.CITY_COMMITTEE).count()


NO_PREFECTURE_COMMITTEE = with_levels(
    _(
        "The %(prefecture)s committee is not on this deployment's escalation chain: say "
        "committee = true on its row of the levels file, or on the admin page Level names, first."
    )
)


def role_out_of_use(role: str) -> str:
    """Why no one may hold this role in this deployment, or "" (role_in_use)."""
    if role_in_use(role):
        return ""
    return str(NO_PREFECTURE_COMMITTEE if role == Role.PREFECTURE_COMMITTEE else NO_TOP_COMMITTEE)


def role_in_use(role: str) -> bool:
    """Every role but the top committee's staff in a deployment of two levels, and the
    prefecture committee's staff unless its committee sits on the escalation chain."""
    if role == Role.PREFECTURE_COMMITTEE:
        return on_chain(PREFECTURE)
    return role != Role.CITY_COMMITTEE or shape().top_in_use


def _one_place(field: str) -> Q:
    q = Q(**{f"{field}__isnull": False})
    for other in PLACE_FIELDS:
        if other != field:
            q &= Q(**{f"{other}__isnull": True})
    return q


class Membership(models.Model):
    """A role held by a user at one place: a grid, a region, a team or a department."""

    class Force(models.TextChoices):
        LAW_ENFORCEMENT = "law_enforcement", _("law enforcement officer")
        GRID = "grid", _("grid team")
        DEPARTMENT = "department", _("department force")
        LAWYER = "lawyer", _("public-interest lawyer")
        VOLUNTEER = "volunteer", _("volunteer")

    user = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=24, choices=role_choices, db_index=True)
    region = models.ForeignKey(
        Region,
        verbose_name=_("region"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="memberships",
    )
    grid = models.ForeignKey(
        Grid,
        verbose_name=_("grid"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="memberships",
    )
    team = models.ForeignKey(
        Team,
        verbose_name=_("team"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="memberships",
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="memberships",
    )
    force = models.CharField(
        _("force"),
        max_length=16,
        choices=Force.choices,
        blank=True,
        help_text=_("For team members: which of the 1+1+X forces they come from."),
    )
    stationed_in = models.ForeignKey(
        Region,
        verbose_name=_("stationed in"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="stationed_memberships",
        limit_choices_to={"level": Region.Level.VILLAGE},
        help_text=_(
            "For a team captain or member: the village or community they are stationed in "
            "(they see its cases as their team does)."
        ),
    )

    objects = ReferenceQuerySet.as_manager()  # kept in the users' scopes (cases.access)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ["user_id", "role"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    (Q(role="grid_worker") & _one_place("grid"))
                    | (Q(role__in=["team_captain", "team_member"]) & _one_place("team"))
                    | (Q(role="department_liaison") & _one_place("department"))
                    | (
                        Q(
                            role__in=[
                                "village_officer",
                                "town_committee",
                                "city_committee",
                                "prefecture_committee",
                                "supervisor",
                                "admin",
                                "auditor",
                            ]
                        )
                        & _one_place("region")
                    )
                ),
                name="membership_role_has_its_place",
            ),
            models.CheckConstraint(
                condition=Q(stationed_in__isnull=True)
                | Q(role__in=["team_captain", "team_member"]),
                name="membership_stationed_team_roles_only",
            ),
            *[
                models.UniqueConstraint(
                    fields=["user", "role", field],
                    condition=Q(**{f"{field}__isnull": False}),
                    name=f"membership_unique_{field}",
                )
                for field in PLACE_FIELDS
            ],
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.place}"

    @property
    def place(self) -> Region | Grid | Team | Department | None:
        return self.region or self.grid or self.team or self.department

    def clean(self) -> None:
        field, level = ROLE_PLACE.get(self.role, (None, None))
        if field is None:
            return
        if problem := role_out_of_use(self.role):
            raise ValidationError({"role": problem})
        self._clean_stationed_in()
        for other in PLACE_FIELDS:
            if other != field and getattr(self, f"{other}_id"):
                raise ValidationError(
                    {
                        other: _("This role is held at a %(place)s only.")
                        % {"place": self._meta.get_field(field).verbose_name}
                    }
                )
        target = getattr(self, field)
        if target is None:
            raise ValidationError(
                {
                    field: _("This role needs a %(place)s.")
                    % {"place": self._meta.get_field(field).verbose_name}
                }
            )
        if level and not role_held_at(self.role, target.level):
            raise ValidationError(
                {
                    field: _("This role is held at the level: %(level)s.")
                    % {"level": level_name(level)}
                }
            )

    def _clean_stationed_in(self) -> None:
        if not self.stationed_in_id:
            return
        if self.role not in (Role.TEAM_CAPTAIN, Role.TEAM_MEMBER):
            raise ValidationError(
                {
                    "stationed_in": _(
                        "Only team captains and members are stationed in a %(village)s."
                    )
                    % level_words()
                }
            )
        if self.stationed_in.level != Region.Level.VILLAGE:
            raise ValidationError(
                {"stationed_in": _("A member is stationed in a %(village)s.") % level_words()}
            )
        if self.team_id and not self.team.serves(self.stationed_in):
            raise ValidationError(
                {
                    "stationed_in": _("This %(village)s lies outside the team's service area.")
                    % level_words()
                }
            )


class AlertChannel(models.TextChoices):
    """The ways beyond the inbox a notification may reach a person (WHISTLE_NOTIFICATION_CHANNELS
    names the ones this installation delivers through)."""

    MAIL = "mail", _("mail")
    SMS = "sms", _("text message (SMS)")
    PUSH = "push", _("push notification (phone or browser)")
    DINGTALK = "dingtalk", _("DingTalk")
    WECOM = "wecom", _("WeCom")


class AlertPreference(models.Model):
    """How one person wants to be alerted beyond the inbox: the channels of the alerts that
    can wait (cases.alerting decides which those are) and the quiet hours during which they do
    wait. Urgent alerts ignore the quiet hours: a 30-minute report-in cannot wait for morning.
    No row means the defaults."""

    # What "the defaults" are, for a user without a row or with `channels` left null.
    DEFAULT_CHANNELS = (AlertChannel.MAIL.value, AlertChannel.PUSH.value)

    user = models.OneToOneField(
        User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="alert_preference"
    )
    # Null: the defaults (DEFAULT_CHANNELS), which follow the defaults if they change later;
    # a list, possibly empty (the inbox only), is the user's own choice.
    channels = models.JSONField(
        _("channels"),
        null=True,
        blank=True,
        default=None,
        help_text=_("Null: the defaults (mail and push); an empty list: the inbox only."),
    )
    urgent_sms = models.BooleanField(
        _("text urgent alerts at once"),
        default=True,
        help_text=_(
            "Off: urgent alerts are texted only if still unread after the escalation delay."
        ),
    )
    quiet_start = models.TimeField(_("quiet hours from"), null=True, blank=True)
    quiet_end = models.TimeField(_("quiet hours until"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("alert preference")
        verbose_name_plural = _("alert preferences")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(quiet_start__isnull=True, quiet_end__isnull=True)
                    | (
                        Q(quiet_start__isnull=False, quiet_end__isnull=False)
                        & ~Q(quiet_start=models.F("quiet_end"))
                    )
                ),
                name="alert_preference_quiet_hours_span",
            ),
        ]

    def __str__(self) -> str:
        return str(self.user)

    @property
    def chosen_channels(self) -> tuple[str, ...]:
        """The channels of the alerts that can wait: the user's own or the defaults."""
        if self.channels is None:
            return self.DEFAULT_CHANNELS
        return tuple(self.channels)

    @property
    def has_quiet_hours(self) -> bool:
        return self.quiet_start is not None and self.quiet_end is not None

    def clean(self) -> None:
        errors: dict[str, list] = {}
        if self.channels is not None:
            if not isinstance(self.channels, list) or not all(
                isinstance(name, str) for name in self.channels
            ):
                errors["channels"] = [_("Give the channels as a list of names.")]
            else:
                unknown = [name for name in self.channels if name not in AlertChannel.values]
                if unknown:
                    errors["channels"] = [
                        _("Unknown channel: %(names)s. Choose among %(known)s.")
                        % {"names": ", ".join(unknown), "known": ", ".join(AlertChannel.values)}
                    ]
                elif len(set(self.channels)) != len(self.channels):
                    errors["channels"] = [_("Name each channel once.")]
        if (self.quiet_start is None) != (self.quiet_end is None):
            missing = "quiet_end" if self.quiet_end is None else "quiet_start"
            errors[missing] = [_("Give both the start and the end of the quiet hours, or neither.")]
        elif self.has_quiet_hours and self.quiet_start == self.quiet_end:
            errors["quiet_end"] = [_("The quiet hours must end at another time than they start.")]
        if errors:
            raise ValidationError(errors)


class PushSubscription(models.Model):
    """One browser's Web Push subscription for a user (a phone with alerts turned on).

    The endpoint is the push service's address for that browser: unique, so a phone that
    subscribes again (or passes to another user) keeps one row. p256dh and auth are the
    browser's public key and secret that the payload is encrypted to (RFC 8291)."""

    user = models.ForeignKey(
        User,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="push_subscriptions",
    )
    endpoint = models.URLField(_("endpoint"), max_length=1000, unique=True)
    p256dh = models.CharField(_("browser public key"), max_length=200)
    auth = models.CharField(_("authentication secret"), max_length=100)
    user_agent = models.CharField(_("browser"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("push subscription")
        verbose_name_plural = _("push subscriptions")
        ordering = ["user_id", "-created_at"]

    def __str__(self) -> str:
        return f"{self.user} · {self.user_agent[:40] or self.endpoint[:40]}"
