"""Changes made by the committees' consultations and by comprehensive investigations.

Every case change goes through the case services (cases.services) and the transition table;
these services add the meeting around them: who was invited and came, the minutes, the agenda's
decisions, and the object permissions that let an invited department see one consultation and
its cases, and nothing more.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm, remove_perm

from cases import notifications
from cases import services as case_services
from cases.access import VIEW_CASE_PERMISSION, require, scope_of
from cases.errors import IllegalTransition, InvalidInput, NotAllowed, NotInScope, ScreeningRefused
from cases.models import Case, Source, Status
from cases.perform import Context, perform
from cases.services.common import lock_case, require_text
from cases.transitions import record_event
from checklists.models import Aspect, Item
from consultation.models import (
    AgendaItem,
    Consultation,
    Finding,
    Investigation,
    InvestigationAttendance,
    InvestigationCheck,
    Invitation,
)
from teams.levels import PREFECTURE, level_words, on_chain
from teams.models import Department, Grid, Membership, Region, Role, Team, User
from teams.service_areas import teams_of_place, teams_serving, teams_within

VIEW_CONSULTATION_PERMISSION = "consultation.view_consultation"
MAX_AGENDA = 50


# --- who is who --------------------------------------------------------------------------------


COMMITTEE_ROLES = {
    Consultation.Level.TOWN: Role.TOWN_COMMITTEE,
    Consultation.Level.CITY: Role.CITY_COMMITTEE,
    Consultation.Level.PREFECTURE: Role.PREFECTURE_COMMITTEE,
}


def committee_role(level: str) -> str:
    return COMMITTEE_ROLES.get(level, Role.TOWN_COMMITTEE)


def committee_regions(*, user: User, level: str) -> frozenset[int]:
    """The towns, cities or prefectures where the user sits on the committee of this level. A
    prefecture's committee is held at the prefecture itself (its consultations' region), which
    the scope keeps apart from the cities below it where it sees the cases."""
    scope = scope_of(user)
    if level == Consultation.Level.PREFECTURE:
        return scope.prefectures.get(Role.PREFECTURE_COMMITTEE, frozenset())
    return scope.regions_of(committee_role(level))


def is_committee_of(user: User, consultation: Consultation) -> bool:
    """Committee staff of the consultation's level and region run it."""
    return consultation.region_id in committee_regions(user=user, level=consultation.level)


def in_region(*, case: Case, level: str, region_id: int) -> bool:
    """Whether the case lies in the committee's region: its town, its city, or a city of its
    prefecture (four levels)."""
    if level == Consultation.Level.TOWN:
        return case.town_id == region_id
    if level == Consultation.Level.PREFECTURE:
        return case.city.parent_id == region_id
    return case.city_id == region_id


def place_teams(*, level: str, region: Region) -> QuerySet[Team]:
    """The units a committee works with: its town's or city's (teams_of_place), and for a
    prefecture's every unit of the cities below it."""
    if level == Consultation.Level.PREFECTURE:
        cities = Region.objects.filter(parent=region, level=Region.Level.CITY)
        return teams_within(cities=cities.values_list("pk", flat=True))
    return teams_of_place(region=region)


def invitee_users(invitation: Invitation) -> QuerySet[User]:
    """Who answers for an invitation: the liaisons of the department, the captains of the
    team, or the invited person."""
    if invitation.user_id:
        return User.objects.filter(pk=invitation.user_id, is_active=True)
    if invitation.department_id:
        place = Q(memberships__role=Role.DEPARTMENT_LIAISON) & Q(
            memberships__department_id=invitation.department_id
        )
    else:
        place = Q(memberships__role=Role.TEAM_CAPTAIN) & Q(memberships__team_id=invitation.team_id)
    return User.objects.filter(place, is_active=True).distinct().order_by("pk")


def answers_for(user: User, invitation: Invitation) -> bool:
    scope = scope_of(user)
    if invitation.user_id:
        return invitation.user_id == user.pk
    if invitation.department_id:
        return invitation.department_id in scope.departments.get(
            Role.DEPARTMENT_LIAISON, frozenset()
        )
    return invitation.team_id in scope.teams.get(Role.TEAM_CAPTAIN, frozenset())


# --- calling a consultation --------------------------------------------------------------------


def _region_filter(level: str, region: Region, prefix: str = "") -> Q:
    """Places inside the consultation's region: the town itself, the city, or the cities of
    the prefecture."""
    if level == Consultation.Level.TOWN:
        return Q(**{f"{prefix}town_id": region.pk})
    if level == Consultation.Level.PREFECTURE:
        return Q(**{f"{prefix}city__parent_id": region.pk})
    return Q(**{f"{prefix}city_id": region.pk})


def _prefecture_level(level: str) -> bool:
    """A consultation of the prefecture's committee (four levels, on the chain): its messages
    name the prefecture, and a deployment of three levels never reads them."""
    return level == Consultation.Level.PREFECTURE and on_chain(PREFECTURE)


def _check_region(*, user: User, level: str, region_id: int) -> Region:
    if level not in Consultation.Level.values or (
        level == Consultation.Level.PREFECTURE and not _prefecture_level(level)
    ):
        raise InvalidInput(
            fields={"level": [_("Choose the %(town)s or the %(city)s committee.") % level_words()]}
        )
    region = Region.objects.filter(pk=region_id, level=level).first()
    if region is None:
        message = (
            _("Choose a %(prefecture)s of yours.")
            if _prefecture_level(level)
            else _("Choose a %(town)s or %(city)s of yours.")
        )
        raise InvalidInput(fields={"region": [message % level_words()]})
    if region.pk not in committee_regions(user=user, level=level):
        message = (
            _("Only the committee staff of this %(prefecture)s can call it.")
            if _prefecture_level(level)
            else _("Only the committee staff of this %(town)s or %(city)s can call it.")
        )
        raise NotAllowed(message % level_words())
    return region


def invitable_departments(*, level: str, region: Region) -> Q:
    """The departments a committee may invite: the town's and its city's; the city's and its
    towns'; the prefecture's, its cities' and their towns'."""
    if level == Consultation.Level.TOWN:
        return Q(region=region) | Q(region_id=region.parent_id)
    if level == Consultation.Level.PREFECTURE:
        return Q(region=region) | Q(region__parent=region) | Q(region__parent__parent=region)
    return Q(region=region) | Q(region__parent=region)


def officers_below(level: str) -> str:
    """The lookup from a village officer's village to the committee's region."""
    return {
        Consultation.Level.TOWN: "parent",
        Consultation.Level.PREFECTURE: "parent__parent__parent",
    }.get(level, "parent__parent")


def _check_invitees(
    *,
    level: str,
    region: Region,
    department_ids: Sequence[int],
    team_ids: Sequence[int],
    user_ids: Sequence[int],
) -> tuple[list[Department], list[Team], list[User]]:
    departments = list(
        Department.objects.filter(invitable_departments(level=level, region=region)).filter(
            pk__in=list(department_ids)
        )
    )
    units = place_teams(level=level, region=region)
    teams = list(units.filter(pk__in=list(team_ids)))
    where = Q(**{f"region__{officers_below(level)}": region})
    lawyers = Q(team_id__in=units.values("pk"))
    people = list(
        User.objects.filter(
            pk__in=Membership.objects.filter(
                (Q(role=Role.VILLAGE_OFFICER) & where)
                | (
                    Q(role__in=[Role.TEAM_CAPTAIN, Role.TEAM_MEMBER])
                    & Q(force=Membership.Force.LAWYER)
                    & lawyers
                ),
                user_id__in=list(user_ids),
            ).values("user_id"),
            is_active=True,
        )
    )
    errors = {}
    prefecture = _prefecture_level(level)
    if len(departments) != len(set(department_ids)):
        errors["departments"] = [
            (
                _("Invite departments of this %(prefecture)s and its %(cities)s only.")
                if prefecture
                else _("Invite departments of this %(town)s or %(city)s only.")
            )
            % level_words()
        ]
    if len(teams) != len(set(team_ids)):
        errors["teams"] = [
            (
                _("Invite teams of the %(cities)s of this %(prefecture)s only.")
                if prefecture
                else _("Invite teams of this %(town)s or %(city)s only.")
            )
            % level_words()
        ]
    if len(people) != len(set(user_ids)):
        errors["people"] = [
            (
                _("Invite lawyers and %(village)s officers of this %(prefecture)s only.")
                if prefecture
                else _("Invite lawyers and %(village)s officers of this %(town)s or %(city)s only.")
            )
            % level_words()
        ]
    if not errors and not (departments or teams or people):
        errors["departments"] = [_("Invite at least one department, team or person.")]
    if errors:
        raise InvalidInput(fields=errors)
    return departments, teams, people


def call_consultation(
    *,
    user: User,
    level: str,
    region_id: int,
    scheduled_at: datetime,
    place: str = "",
    online_link: str = "",
    case_ids: Sequence[int],
    department_ids: Sequence[int] = (),
    team_ids: Sequence[int] = (),
    user_ids: Sequence[int] = (),
) -> Consultation:
    """The committee calls a meeting on cases waiting for it at its level; the invitees are
    told and may see this consultation and its cases, nothing more."""
    region = _check_region(user=user, level=level, region_id=region_id)
    errors: dict[str, list[str]] = {}
    if scheduled_at is None or scheduled_at <= timezone.now():
        errors["scheduled_at"] = [_("The consultation must be in the future.")]
    place, online_link = (place or "").strip()[:200], (online_link or "").strip()[:500]
    if not place and not online_link:
        errors["place"] = [_("Give a place or an online meeting link.")]
    case_ids = list(dict.fromkeys(int(pk) for pk in case_ids))
    if not case_ids:
        errors["cases"] = [_("Put at least one case on the agenda.")]
    elif len(case_ids) > MAX_AGENDA:
        errors["cases"] = [_("At most %(count)d cases per consultation.") % {"count": MAX_AGENDA}]
    if errors:
        raise InvalidInput(fields=errors)
    departments, teams, people = _check_invitees(
        level=level,
        region=region,
        department_ids=list(dict.fromkeys(department_ids)),
        team_ids=list(dict.fromkeys(team_ids)),
        user_ids=list(dict.fromkeys(user_ids)),
    )
    with transaction.atomic():
        cases = []
        for case_id in sorted(case_ids):  # one lock order for every writer
            case = lock_case(user=user, case_id=case_id)
            if not (
                case.status == Status.IN_CONSULTATION
                and case.level == level
                and in_region(case=case, level=level, region_id=region.pk)
            ):
                raise InvalidInput(
                    fields={
                        "cases": [
                            _("Case %(number)s is not waiting for this committee.")
                            % {"number": case.number}
                        ]
                    }
                )
            if pending_agenda(case_id=case.pk).exists():
                raise InvalidInput(
                    fields={
                        "cases": [
                            _("Case %(number)s is already on another consultation's agenda.")
                            % {"number": case.number}
                        ]
                    }
                )
            cases.append(case)
        consultation = Consultation.objects.create(
            level=level,
            region=region,
            scheduled_at=scheduled_at,
            place=place,
            online_link=online_link,
            called_by=user,
        )
        order = {pk: index for index, pk in enumerate(case_ids)}
        for case in sorted(cases, key=lambda c: order[c.pk]):
            AgendaItem.objects.create(consultation=consultation, case=case, order=order[case.pk])
            record_event(
                case=case,
                action="consultation_called",
                actor=user,
                data={"consultation": consultation.pk, "scheduled_at": scheduled_at.isoformat()},
                bump_version=False,
            )
        invitations = (
            [Invitation(consultation=consultation, department=d) for d in departments]
            + [Invitation(consultation=consultation, team=t) for t in teams]
            + [Invitation(consultation=consultation, user=u) for u in people]
        )
        for invitation in invitations:
            invitation.save()
            _grant(invitation=invitation, cases=cases)
            notify_invitees(invitation=invitation)
        return consultation


def pending_agenda(*, case_id: int) -> QuerySet[AgendaItem]:
    """Undecided agenda items of the case on consultations that are not archived."""
    return AgendaItem.objects.filter(
        case_id=case_id,
        decision=AgendaItem.Decision.PENDING,
        consultation__status__in=[Consultation.Status.PLANNED, Consultation.Status.HELD],
    )


def notify_invitees(*, invitation: Invitation) -> None:
    notifications.notify(
        recipients=invitee_users(invitation),
        kind=notifications.CONSULTATION_INVITED,
        case=None,
        data={
            "consultation": invitation.consultation_id,
            "due": invitation.consultation.scheduled_at,
            "number": ", ".join(
                invitation.consultation.agenda_items.order_by("order").values_list(
                    "case__number", flat=True
                )
            ),
        },
    )


def _grant(*, invitation: Invitation, cases: Iterable[Case]) -> None:
    """Object permissions for the invitee's people: this consultation and its cases."""
    for person in invitee_users(invitation):
        assign_perm(VIEW_CONSULTATION_PERMISSION, person, invitation.consultation)
        for case in cases:
            assign_perm(VIEW_CASE_PERMISSION, person, case)


def _revoke(*, consultation: Consultation) -> None:
    """Take back what the invitation granted, except what another open consultation that
    invited the same person on the same case still needs."""
    cases = list(Case.objects.filter(agenda_items__consultation=consultation).distinct())
    people: dict[int, User] = {}
    for invitation in consultation.invitations.all():
        for person in invitee_users(invitation):
            people[person.pk] = person
    for person in people.values():
        remove_perm(VIEW_CONSULTATION_PERMISSION, person, consultation)
        still_needed = set(
            AgendaItem.objects.filter(
                case__in=cases,
                consultation__status__in=[Consultation.Status.PLANNED, Consultation.Status.HELD],
                consultation__invitations__in=_invitations_of(person),
            )
            .exclude(consultation=consultation)
            .values_list("case_id", flat=True)
        )
        for case in cases:
            if case.pk not in still_needed:
                remove_perm(VIEW_CASE_PERMISSION, person, case)


def _invitations_of(person: User) -> QuerySet[Invitation]:
    scope = scope_of(person)
    return Invitation.objects.filter(
        Q(user=person)
        | Q(department_id__in=scope.departments.get(Role.DEPARTMENT_LIAISON, frozenset()))
        | Q(team_id__in=scope.teams.get(Role.TEAM_CAPTAIN, frozenset()))
    )


# --- attendance --------------------------------------------------------------------------------


def _lock_consultation(*, user: User, consultation_id: int) -> Consultation:
    consultation = (
        Consultation.objects.select_for_update().filter(pk=consultation_id).first()
        if consultation_id
        else None
    )
    if consultation is None or not can_see(user=user, consultation=consultation):
        raise NotInScope(_("No such consultation."))
    return consultation


def can_see(*, user: User, consultation: Consultation) -> bool:
    """The committee that runs it, the city's supervisors (the prefecture's, for a prefecture's
    consultation), and the invited (object grant)."""
    scope = scope_of(user)
    if is_committee_of(user, consultation):
        return True
    if consultation.level == Consultation.Level.PREFECTURE:
        supervised = scope.prefectures.get(Role.SUPERVISOR, frozenset())
        if consultation.region_id in supervised:
            return True
        return user.has_perm(VIEW_CONSULTATION_PERMISSION, consultation)
    city_id = (
        consultation.region_id
        if consultation.level == Consultation.Level.CITY
        else consultation.region.parent_id
    )
    if city_id in scope.regions_of(Role.SUPERVISOR):
        return True
    return user.has_perm(VIEW_CONSULTATION_PERMISSION, consultation)


def _lock_invitation(*, user: User, invitation_id: int) -> tuple[Consultation, Invitation]:
    consultation_id = (
        Invitation.objects.filter(pk=invitation_id)
        .values_list("consultation_id", flat=True)
        .first()
    )
    if consultation_id is None:
        raise NotInScope(_("No such invitation."))
    consultation = _lock_consultation(user=user, consultation_id=consultation_id)
    invitation = Invitation.objects.select_for_update().get(pk=invitation_id)
    return consultation, invitation


def confirm_invitation(*, user: User, invitation_id: int) -> Invitation:
    """The invitee says they will come (the first half of reporting in)."""
    with transaction.atomic():
        consultation, invitation = _lock_invitation(user=user, invitation_id=invitation_id)
        require(answers_for(user, invitation))
        if consultation.status != Consultation.Status.PLANNED:
            raise IllegalTransition(_("This consultation can no longer be confirmed."))
        if invitation.confirmed_at is not None:
            raise IllegalTransition(_("This invitation was already confirmed."))
        invitation.confirmed_at = timezone.now()
        invitation.confirmed_by = user
        invitation.save(update_fields=["confirmed_at", "confirmed_by"])
        return invitation


def _require_attendance_open(consultation: Consultation) -> None:
    if consultation.status == Consultation.Status.ARCHIVED:
        raise IllegalTransition(_("This consultation is archived."))
    if consultation.attendance_confirmed_at is not None:
        raise IllegalTransition(
            _("The attendance of this consultation was confirmed; arrivals can no longer change.")
        )


def check_in(*, user: User, invitation_id: int) -> Invitation:
    """Arrival on the day, "now", by the invitee or recorded by the committee at the door;
    arriving after the scheduled time is late, and both feed the assessment. The invitee's
    own arrival confirms their invitation; the committee's record does not (the clerk confirms
    the whole attendance with its own action, confirm_attendance)."""
    with transaction.atomic():
        consultation, invitation = _lock_invitation(user=user, invitation_id=invitation_id)
        own = answers_for(user, invitation)
        require(own or is_committee_of(user, consultation))
        _require_attendance_open(consultation)
        if invitation.checked_in_at is not None:
            raise IllegalTransition(_("The arrival was already recorded."))
        now = timezone.now()
        if timezone.localdate(now) != timezone.localdate(consultation.scheduled_at):
            raise IllegalTransition(_("Check in on the day of the consultation."))
        return _set_arrival(
            consultation=consultation, invitation=invitation, user=user, at=now, confirms=own
        )


def record_arrival(*, user: User, invitation_id: int, arrived_at: datetime) -> Invitation:
    """The committee's clerk enters when an invitee arrived, during or after the meeting, and
    may correct it until the attendance is confirmed. The time is neither in the future nor
    before the meeting was called."""
    with transaction.atomic():
        consultation, invitation = _lock_invitation(user=user, invitation_id=invitation_id)
        require(is_committee_of(user, consultation))
        _require_attendance_open(consultation)
        if arrived_at is None:
            raise InvalidInput(fields={"arrived_at": [_("Enter the time of arrival.")]})
        if timezone.is_naive(arrived_at):
            arrived_at = timezone.make_aware(arrived_at)
        if arrived_at > timezone.now():
            raise InvalidInput(fields={"arrived_at": [_("The arrival cannot be in the future.")]})
        if arrived_at < consultation.created_at:
            raise InvalidInput(
                fields={
                    "arrived_at": [
                        _("The arrival cannot be before the consultation was called (%(at)s).")
                        % {
                            "at": timezone.localtime(consultation.created_at).strftime(
                                "%Y-%m-%d %H:%M"
                            )
                        }
                    ]
                }
            )
        return _set_arrival(
            consultation=consultation,
            invitation=invitation,
            user=user,
            at=arrived_at,
            confirms=False,
        )


def _set_arrival(
    *, consultation: Consultation, invitation: Invitation, user: User, at: datetime, confirms: bool
) -> Invitation:
    invitation.checked_in_at = at
    invitation.checked_in_by = user
    invitation.late = at > consultation.scheduled_at
    fields = ["checked_in_at", "checked_in_by", "late"]
    if confirms and invitation.confirmed_at is None:  # arriving confirms one's own invitation
        invitation.confirmed_at, invitation.confirmed_by = at, user
        fields += ["confirmed_at", "confirmed_by"]
    invitation.save(update_fields=fields)
    return invitation


def confirm_attendance(*, user: User, consultation_id: int) -> Consultation:
    """The clerk confirms the attendance list as entered, once the meeting has begun; from
    then on the arrival times and lateness are final (the assessment reads them)."""
    with transaction.atomic():
        consultation = _lock_consultation(user=user, consultation_id=consultation_id)
        require(is_committee_of(user, consultation))
        _require_attendance_open(consultation)
        now = timezone.now()
        if now < consultation.scheduled_at:
            raise IllegalTransition(
                _("The attendance can be confirmed once the meeting has begun.")
            )
        consultation.attendance_confirmed_at = now
        consultation.attendance_confirmed_by = user
        consultation.save(update_fields=["attendance_confirmed_at", "attendance_confirmed_by"])
        return consultation


# --- the meeting -------------------------------------------------------------------------------


def _mark_held(consultation: Consultation, now: datetime) -> None:
    if consultation.status == Consultation.Status.PLANNED:
        consultation.status = Consultation.Status.HELD
        consultation.held_at = now
        consultation.save(update_fields=["status", "held_at"])


def record_minutes(*, user: User, consultation_id: int, minutes: str) -> Consultation:
    """Keep the minutes; minutes written once the meeting has begun mark it held."""
    with transaction.atomic():
        consultation = _lock_consultation(user=user, consultation_id=consultation_id)
        require(is_committee_of(user, consultation))
        if consultation.status == Consultation.Status.ARCHIVED:
            raise IllegalTransition(_("This consultation is archived."))
        consultation.minutes = require_text(
            minutes, field="minutes", message=_("Write the minutes."), max_length=20000
        )
        consultation.save(update_fields=["minutes"])
        now = timezone.now()
        if now >= consultation.scheduled_at:
            _mark_held(consultation, now)
        return consultation


@dataclass(frozen=True)
class Decision:
    """What the committee decided on one agenda item."""

    kind: str
    text: str
    tasks: tuple[case_services.Task, ...] = ()
    review_on: date | None = None


def decide_item(
    *, user: User, item_id: int, decision: Decision, expected_version: int | None = None
) -> AgendaItem:
    """Record the decision on one case of the agenda and apply it to the case: tasks send it
    back to handling, or it climbs to the committee above (the town's to the city, the city's to
    the prefecture on four levels), is suspended, or is closed."""
    case_id = AgendaItem.objects.filter(pk=item_id).values_list("case_id", flat=True).first()
    if case_id is None:
        raise NotInScope(_("No such agenda item."))
    kinds = AgendaItem.Decision
    with transaction.atomic():
        consultation_id = AgendaItem.objects.get(pk=item_id).consultation_id
        consultation = _lock_consultation(user=user, consultation_id=consultation_id)
        require(is_committee_of(user, consultation))
        case = lock_case(user=user, case_id=case_id)
        item = AgendaItem.objects.select_for_update().get(pk=item_id)
        if consultation.status == Consultation.Status.ARCHIVED:
            raise IllegalTransition(_("This consultation is archived."))
        if item.is_decided:
            raise IllegalTransition(_("This case was already decided at this consultation."))
        if case.status != Status.IN_CONSULTATION or case.level != consultation.level:
            raise IllegalTransition(
                _("This case is no longer waiting for this committee (it is %(status)s).")
                % {"status": case.get_status_display()}
            )
        if decision.kind not in (kinds.TASKS, kinds.ESCALATE, kinds.SUSPEND, kinds.CLOSE):
            raise InvalidInput(fields={"kind": [_("Choose what was decided.")]})
        text = require_text(decision.text, field="decision", message=_("Record the decision."))
        common = {"user": user, "case_id": case.pk, "expected_version": expected_version}
        if decision.kind == kinds.TASKS:
            case_services.decide_consultation(**common, decision=text, tasks=list(decision.tasks))
        elif decision.kind == kinds.ESCALATE:
            _escalate(consultation=consultation, common=common, reason=text)
        elif decision.kind == kinds.SUSPEND:
            if decision.review_on is None:
                raise InvalidInput(fields={"review_on": [_("Give the date of the review.")]})
            case_services.suspend_case(**common, reason=text, review_on=decision.review_on)
        else:
            close_in_consultation(**common, reason=text)
        now = timezone.now()
        item.decision = decision.kind
        item.decision_text = text
        item.decided_at = now
        item.decided_by = user
        item.save(update_fields=["decision", "decision_text", "decided_at", "decided_by"])
        _mark_held(consultation, now)
        return item


def _escalate(*, consultation: Consultation, common: dict, reason: str) -> None:
    """The case climbs to the committee above this one: the town's to the city's, the city's to
    the prefecture's when it sits on the chain (four levels); the last committee decides."""
    if consultation.level == Consultation.Level.TOWN:
        case_services.escalate_case(**common, reason=reason)
    elif consultation.level == Consultation.Level.CITY and on_chain(PREFECTURE):
        case_services.escalate_to_prefecture(**common, reason=reason)
    else:
        message = (
            _("Only a %(town)s or %(city)s case can be escalated.")
            if on_chain(PREFECTURE)
            else _("Only a %(town)s case can be escalated.")
        )
        raise InvalidInput(fields={"kind": [message % level_words()]})


def close_in_consultation(
    *, user: User, case_id: int, reason: str, expected_version: int | None = None
) -> Case:
    """The committee closes a case at its consultation, recording why; every clock stops."""
    return perform(
        action="close",
        user=user,
        case_id=case_id,
        expected_version=expected_version,
        data={"reason": reason},
    )


def run_close(ctx: Context) -> Case:
    case = ctx.case
    reason = require_text(
        ctx.data.get("reason"), field="reason", message=_("Give the reason for closing.")
    )
    case.resolution_note = reason
    case.resolved_level = case.level
    case.save(update_fields=["resolution_note", "resolved_level"])
    ctx.write("close", data={"reason": reason})
    return case


def archive_consultation(*, user: User, consultation_id: int) -> Consultation:
    """File the consultation away: the invited lose their access to it and its cases."""
    with transaction.atomic():
        consultation = _lock_consultation(user=user, consultation_id=consultation_id)
        require(is_committee_of(user, consultation))
        if consultation.status == Consultation.Status.ARCHIVED:
            raise IllegalTransition(_("This consultation is already archived."))
        consultation.status = Consultation.Status.ARCHIVED
        consultation.archived_at = timezone.now()
        consultation.save(update_fields=["status", "archived_at"])
        _revoke(consultation=consultation)
        return consultation


# --- comprehensive investigations --------------------------------------------------------------


def plan_investigation(
    *,
    user: User,
    town_id: int,
    place_name: str,
    grid_id: int,
    planned_for: datetime,
    team_id: int,
    aspect_ids: Sequence[int],
    department_ids: Sequence[int] = (),
    address: str = "",
    latitude: float | None = None,
    longitude: float | None = None,
    notes: str = "",
    hotspot_item_id: int | None = None,
    hotspot_grid_id: int | None = None,
) -> Investigation:
    """The town plans one joint visit to a place, several aspects and departments, one team
    in charge ("comprehensive check once")."""
    town = Region.objects.filter(pk=town_id, level=Region.Level.TOWN).first()
    if town is None or town.pk not in scope_of(user).regions_of(Role.TOWN_COMMITTEE):
        raise NotAllowed(_("Only the %(town)s committee plans its investigations.") % level_words())
    errors: dict[str, list[str]] = {}
    place_name = (place_name or "").strip()
    if not place_name:
        errors["place_name"] = [_("Name the place to visit.")]
    grid = Grid.objects.filter(pk=grid_id, village__parent=town).first()
    if grid is None:
        errors["grid"] = [_("Choose a grid of this %(town)s.") % level_words()]
    team = teams_serving(towns=[town.pk]).filter(pk=team_id).first()
    if team is None:
        errors["team"] = [_("Choose a team of this %(town)s.") % level_words()]
    if planned_for is None or timezone.localdate(planned_for) < timezone.localdate():
        errors["planned_for"] = [_("The visit cannot be planned in the past.")]
    aspects = list(Aspect.objects.filter(pk__in=list(aspect_ids)))
    if not aspects or len(aspects) != len(set(aspect_ids)):
        errors["aspects"] = [_("Choose the aspects to check.")]
    departments = list(
        Department.objects.filter(
            Q(region=town) | Q(region_id=town.parent_id), pk__in=list(department_ids)
        )
    )
    if len(departments) != len(set(department_ids)):
        errors["departments"] = [
            _("Choose departments of this %(town)s or %(city)s.") % level_words()
        ]
    if (latitude is None) != (longitude is None) or (
        latitude is not None and not (-90 <= latitude <= 90 and -180 <= longitude <= 180)
    ):
        errors["latitude"] = [_("Give a valid latitude and longitude, or neither.")]
    hotspot_item = Item.objects.filter(pk=hotspot_item_id).first() if hotspot_item_id else None
    hotspot_grid = (
        Grid.objects.filter(pk=hotspot_grid_id, village__parent=town).first()
        if hotspot_grid_id
        else None
    )
    if errors:
        raise InvalidInput(fields=errors)
    with transaction.atomic():
        investigation = Investigation.objects.create(
            town=town,
            place_name=place_name[:200],
            address=(address or "").strip()[:300],
            grid=grid,
            latitude=latitude,
            longitude=longitude,
            planned_for=planned_for,
            team=team,
            notes=(notes or "").strip(),
            hotspot_item=hotspot_item,
            hotspot_grid=hotspot_grid,
            planned_by=user,
        )
        investigation.aspects.set(aspects)
        investigation.departments.set(departments)
        InvestigationAttendance.objects.create(investigation=investigation, team=team)
        for department in departments:
            InvestigationAttendance.objects.create(
                investigation=investigation, department=department
            )
        for aspect in sorted(aspects, key=lambda a: (a.order, a.pk)):
            InvestigationCheck.objects.create(investigation=investigation, aspect=aspect)

        recipients = User.objects.filter(
            Q(memberships__role=Role.TEAM_CAPTAIN, memberships__team=team)
            | Q(
                memberships__role=Role.DEPARTMENT_LIAISON,
                memberships__department__in=departments,
            ),
            is_active=True,
        ).distinct()
        notifications.notify(
            recipients=recipients,
            kind=notifications.INVESTIGATION_PLANNED,
            case=None,
            data={
                "investigation": investigation.pk,
                "due": planned_for,
                "number": investigation.place_name,
            },
        )
        return investigation


def can_record(user: User, investigation: Investigation) -> bool:
    scope = scope_of(user)
    return investigation.town_id in scope.regions_of(
        Role.TOWN_COMMITTEE
    ) or investigation.team_id in scope.teams.get(Role.TEAM_CAPTAIN, frozenset())


def visit_day_has_come(*, investigation: Investigation) -> bool:
    """A visit is recorded as done on its planned day or later, never before it happened."""
    return timezone.localdate() >= timezone.localdate(investigation.planned_for)


@dataclass(frozen=True)
class Attended:
    attendance_id: int
    present: bool
    people: str = ""


@dataclass(frozen=True)
class Checked:
    check_id: int
    checked: bool
    finding: str = ""
    item_id: int | None = None


def record_investigation(
    *,
    user: User,
    investigation_id: int,
    attendance: Sequence[Attended],
    checks: Sequence[Checked],
    notes: str = "",
) -> Investigation:
    """Record the visit: who came, what was checked, what was found. Each finding is filed as
    a case of the investigation and routed like any whistle."""
    with transaction.atomic():
        investigation = (
            Investigation.objects.select_for_update(of=("self",))
            .select_related("grid")
            .filter(pk=investigation_id)
            .first()
        )
        if investigation is None or not can_see_investigation(
            user=user, investigation=investigation
        ):
            raise NotInScope(_("No such investigation."))
        require(can_record(user, investigation))
        if investigation.status != Investigation.Status.PLANNED:
            raise IllegalTransition(_("This investigation was already recorded."))
        rows = {a.pk: a for a in investigation.attendance.all()}
        own_checks = {c.pk: c for c in investigation.checks.select_related("aspect")}
        errors: dict[str, list[str]] = {}
        for entry in attendance:
            if entry.attendance_id not in rows:
                raise InvalidInput(_("The form does not match this investigation."))
        findings = []
        for entry in checks:
            check = own_checks.get(entry.check_id)
            if check is None:
                raise InvalidInput(_("The form does not match this investigation."))
            finding = (entry.finding or "").strip()
            if finding:
                item = Item.objects.filter(
                    pk=entry.item_id, aspect_id=check.aspect_id, active=True
                ).first()
                if item is None:
                    errors[f"item_{check.pk}"] = [
                        _("Choose the checklist item of this finding, in this aspect.")
                    ]
                else:
                    findings.append((check, item, finding))
        if not any(entry.checked or (entry.finding or "").strip() for entry in checks):
            errors["checks"] = [_("Tick at least one aspect that was checked.")]
        if errors:
            raise InvalidInput(fields=errors)
        if not visit_day_has_come(investigation=investigation):
            raise IllegalTransition(
                _("This visit is planned for %(day)s: record it on that day or later.")
                % {"day": timezone.localdate(investigation.planned_for).isoformat()}
            )
        for entry in attendance:
            row = rows[entry.attendance_id]
            row.present = entry.present
            row.people = (entry.people or "").strip()[:300]
            row.save(update_fields=["present", "people"])
        for entry in checks:
            check = own_checks[entry.check_id]
            check.finding = (entry.finding or "").strip()
            check.checked = entry.checked or bool(check.finding)
            check.save(update_fields=["checked", "finding"])
        for check, item, text in findings:
            try:
                result = case_services.file_whistle(
                    user=user,
                    item=item,
                    description=text,
                    grid=investigation.grid,
                    latitude=investigation.latitude,
                    longitude=investigation.longitude,
                    address=investigation.address or investigation.place_name,
                    source=Source.INVESTIGATION,
                )
            except ScreeningRefused as refusal:
                raise InvalidInput(fields={f"finding_{check.pk}": [refusal.message]}) from None
            except InvalidInput as error:
                messages = [str(m) for ms in error.fields.values() for m in ms] or [error.message]
                raise InvalidInput(fields={f"finding_{check.pk}": messages}) from None
            Finding.objects.create(
                investigation=investigation, case=result.case, aspect=item.aspect
            )
            record_event(
                case=result.case,
                action="investigation_finding",
                actor=user,
                data={"investigation": investigation.pk, "place": investigation.place_name},
                bump_version=False,
            )
        investigation.notes = "\n\n".join(
            part for part in [investigation.notes, (notes or "").strip()] if part
        )
        investigation.status = Investigation.Status.DONE
        investigation.done_at = timezone.now()
        investigation.recorded_by = user
        investigation.save(update_fields=["notes", "status", "done_at", "recorded_by"])
        return investigation


def can_see_investigation(*, user: User, investigation: Investigation) -> bool:
    """The town's committee, the team in charge, the departments taking part, the city."""
    scope = scope_of(user)
    if investigation.town_id in scope.regions_of(Role.TOWN_COMMITTEE):
        return True
    teams = scope.teams.get(Role.TEAM_CAPTAIN, frozenset()) | scope.teams.get(
        Role.TEAM_MEMBER, frozenset()
    )
    if investigation.team_id in teams:
        return True
    city_id = Region.objects.filter(pk=investigation.town_id).values_list("parent_id", flat=True)
    if scope.regions_of(Role.CITY_COMMITTEE, Role.PREFECTURE_COMMITTEE, Role.SUPERVISOR) & set(
        city_id
    ):
        return True
    departments = scope.departments.get(Role.DEPARTMENT_LIAISON, frozenset())
    return bool(departments) and investigation.departments.filter(pk__in=departments).exists()
