"""Notifications: rendered in the reader's language, stored once per recipient, mailed exactly
once, and never blocking a request when the Celery broker is down."""

import itertools
import logging
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.http import HttpResponse
from django.urls import include, path
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from cases import notifications, timers
from cases import tasks as case_tasks
from cases.channels import configured_names, delivery
from cases.models import Case, Delivery, DeliveryStatus, Dispatch, Notification, Source
from checklists.models import Aspect, Item
from teams.models import Role
from tests.factories import (
    DepartmentFactory,
    GridFactory,
    MembershipFactory,
    TeamFactory,
    UserFactory,
)
from tests.workers import reset_pools
from whistle.celery import app as celery_app

pytestmark = pytest.mark.django_db

_sequence = itertools.count(1)


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """The factories set passwords; the slow production hasher adds nothing to these tests."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def send_now(channel: str) -> None:
    """The sweep's hand-out, run here instead of queued."""
    delivery.send(channel=channel)


def make_case(**overrides: object) -> Case:
    """A minimal case in a fresh grid, with an item named in both languages."""
    n = next(_sequence)
    grid = overrides.pop("grid", None) or GridFactory()
    village = grid.village
    town = village.parent
    aspect = Aspect.objects.create(code=f"NT-A{n}", name_zh="环境", name_en="Environment")
    item = Item.objects.create(
        aspect=aspect, code=f"NT-I{n}", name_zh="乱倒垃圾", name_en="Illegal dumping"
    )
    fields = {
        "number": f"WH-2025-{n:06d}",
        "tracking_code": f"TRK{n:08d}",
        "source": Source.GRID_WORKER,
        "item": item,
        "grid": grid,
        "village": village,
        "town": town,
        "city": town.parent,
        "description": "Rubbish dumped by the river",
        "filed_at": timezone.now(),
    }
    fields.update(overrides)
    return Case.objects.create(**fields)


def note(case: Case | None, kind: str, **data: object) -> Notification:
    """An unsaved notification, enough for rendering."""
    if case is not None:
        data.setdefault("number", case.number)
    return Notification(
        recipient=UserFactory(), case=case, kind=kind, data=data, created_at=timezone.now()
    )


# --- rendering ---------------------------------------------------------------------------------


def test_render_in_english_gives_exact_texts():
    case = make_case()
    due = datetime(2025, 3, 5, 6, 30, tzinfo=UTC)  # 14:30 in Asia/Shanghai
    subject, body = notifications.render(
        note(case, notifications.CASE_FILED, due=due.isoformat()), "en"
    )
    assert subject == f"New whistle {case.number}"
    assert body == (
        f"Whistle {case.number} (Illegal dumping) was filed in your village and waits for "
        "screening.\nDue: 2025-03-05 14:30"
    )


def test_render_in_chinese_works_and_differs_from_english():
    case = make_case()
    notification = note(case, notifications.CASE_RESOLVED)
    english = notifications.render(notification, "en")
    chinese = notifications.render(notification, "zh-hans")
    assert all(part.strip() for part in chinese)
    assert case.number in chinese[0]
    assert "乱倒垃圾" in chinese[1]
    assert chinese != english
    assert english == (
        f"Please verify case {case.number}",
        f"Case {case.number} (Illegal dumping) was reported resolved. Please verify on site.",
    )


def test_render_uses_the_active_language_when_none_is_given():
    from django.utils import translation

    case = make_case()
    with translation.override("en"):
        subject, _ = notifications.render(note(case, notifications.CASE_CLOSED))
    assert subject == f"Case {case.number} closed"


@pytest.mark.parametrize("kind", sorted(notifications.KINDS))
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_every_kind_renders_in_both_languages(kind, language):
    case = make_case()
    subject, body = notifications.render(note(case, kind), language)
    assert case.number in subject
    assert case.number in body
    assert "%(" not in subject + body


def test_extra_facts_become_their_own_lines():
    case = make_case()
    rejected = note(
        case,
        notifications.CASE_REJECTED,
        reason="A neighbours' dispute",
        redirect="The people's mediation committee",
    )
    assert notifications.render(rejected, "en")[1] == (
        f"Your whistle {case.number} (Illegal dumping) was not accepted.\n"
        "Reason: A neighbours' dispute\n"
        "Where to go instead: The people's mediation committee"
    )
    due = datetime(2025, 3, 5, 6, 30, tzinfo=UTC)
    warning = note(case, notifications.DEADLINE_WARNING, stage="handling", due_at=due.isoformat())
    assert notifications.render(warning, "en")[1].endswith(
        "\nStage: handling\nDue: 2025-03-05 14:30"
    )
    escalated = note(case, notifications.CASE_ESCALATED, level="town")
    assert notifications.render(escalated, "en")[1].endswith("\nLevel: town")


def test_handler_name_comes_from_the_team_code_in_the_readers_language():
    case = make_case()
    team = TeamFactory(name_en="Riverside Brigade", name_zh="河畔中队")
    late = note(case, notifications.DISPATCH_LATE, handler=team.code)
    assert notifications.render(late, "en")[1] == (
        f"The report-in limit of case {case.number} (Illegal dumping) has passed without a "
        "report-in.\nHandler: Riverside Brigade"
    )
    assert "河畔中队" in notifications.render(late, "zh-hans")[1]
    department = DepartmentFactory(name_en="Market supervision", name_zh="市场监管")
    cancelled = note(case, notifications.DISPATCH_CANCELLED, handler=department.code)
    assert notifications.render(cancelled, "en")[1].endswith("\nHandler: Market supervision")
    unknown = note(case, notifications.DISPATCH_LATE, handler="NO-SUCH-CODE")
    assert notifications.render(unknown, "en")[1].endswith("\nHandler: NO-SUCH-CODE")


def test_postponement_decision_reads_as_approved_or_refused():
    case = make_case()
    approved = note(case, notifications.POSTPONEMENT_DECIDED, approved=True)
    refused = note(case, notifications.POSTPONEMENT_DECIDED, approved=False)
    assert notifications.render(approved, "en")[0] == f"Postponement approved: {case.number}"
    assert notifications.render(refused, "en")[0] == f"Postponement refused: {case.number}"


def test_unknown_kind_and_odd_data_render_a_generic_message():
    case = make_case()
    assert notifications.render(note(case, "something_new"), "en") == (
        f"Notification about case {case.number}",
        f"There is news about case {case.number} (Illegal dumping).",
    )
    orphan = Notification(recipient=UserFactory(), kind="something_new", data=["not", "a dict"])
    assert notifications.render(orphan, "en") == ("Notification", "You have a new notification.")
    assert all(notifications.render(orphan, "zh-hans"))
    odd_due = note(case, notifications.CASE_WHISTLED, due=12345, stage="no-such-stage")
    subject, body = notifications.render(odd_due, "en")
    assert subject == f"Whistled: report in for {case.number}"
    assert body.endswith("\nStage: no-such-stage")


def _case_page(request, pk):
    return HttpResponse(str(pk))


class WithCasePages:
    urlpatterns = [
        path("cases/", include(([path("<int:pk>/", _case_page, name="detail")], "cases")))
    ]


class WithoutCasePages:
    urlpatterns = []


def test_case_link_only_when_the_case_page_exists(settings):
    case = make_case()
    settings.ROOT_URLCONF = WithoutCasePages
    assert notifications.case_url(case.pk) is None
    settings.ROOT_URLCONF = WithCasePages
    settings.WHISTLE_SITE_URL = "https://whistle.example.gov.cn/"
    assert notifications.case_url(case.pk) == f"https://whistle.example.gov.cn/cases/{case.pk}/"
    assert notifications.case_url(None) is None


# --- notify ------------------------------------------------------------------------------------


def test_notify_stores_one_row_per_distinct_active_recipient():
    case = make_case()
    alice, bob = UserFactory(), UserFactory()
    retired = UserFactory(is_active=False)
    due = timezone.now() + timedelta(hours=2)
    created = notifications.notify(
        recipients=[alice, bob, alice, retired, bob],
        kind=notifications.CASE_WHISTLED,
        case=case,
        data={"due": due},
    )
    assert sorted(n.recipient_id for n in created) == sorted([alice.pk, bob.pk])
    rows = Notification.objects.filter(case=case)
    assert rows.count() == 2
    assert not rows.filter(recipient=retired).exists()
    stored = rows.get(recipient=alice)
    assert stored.kind == "case_whistled"
    assert stored.data["number"] == case.number
    # Stored as JSON text, to the millisecond.
    assert parse_datetime(stored.data["due"]) == due.replace(
        microsecond=due.microsecond // 1000 * 1000
    )
    assert stored.read_at is None and stored.emailed_at is None


def test_notify_with_nobody_to_tell_stores_nothing():
    case = make_case()
    assert (
        notifications.notify(
            recipients=[UserFactory(is_active=False)],
            kind=notifications.CASE_CLOSED,
            case=case,
            data={},
        )
        == []
    )
    assert not Notification.objects.filter(case=case).exists()


def test_notify_stores_an_unknown_kind_with_a_warning(caplog):
    """A kind without a template must not break the transition that sends it."""
    case = make_case()
    with caplog.at_level(logging.WARNING, logger="cases.notifications"):
        created = notifications.notify(
            recipients=[UserFactory()], kind="brand_new", case=case, data={}
        )
    assert [n.kind for n in created] == ["brand_new"]
    assert any("brand_new" in r.getMessage() for r in caplog.records)
    assert notifications.render(created[0], "en")[0] == f"Notification about case {case.number}"


def test_notify_schedules_delivery_after_commit(django_capture_on_commit_callbacks):
    case = make_case()
    with django_capture_on_commit_callbacks() as callbacks:
        notifications.notify(
            recipients=[UserFactory()], kind=notifications.CASE_FILED, case=case, data={}
        )
    assert len(callbacks) == 1


def test_no_delivery_task_when_no_channel_has_work(settings, django_capture_on_commit_callbacks):
    """Inbox-only rows (no address, or mail switched off) are delivered by being stored."""
    case = make_case()
    with django_capture_on_commit_callbacks() as callbacks:
        notifications.notify(
            recipients=[UserFactory(email="")], kind=notifications.CASE_FILED, case=case, data={}
        )
    assert callbacks == []
    settings.WHISTLE_NOTIFICATION_CHANNELS = ["inbox"]
    with django_capture_on_commit_callbacks() as callbacks:
        notifications.notify(
            recipients=[UserFactory()], kind=notifications.CASE_FILED, case=case, data={}
        )
    assert callbacks == []
    assert Notification.objects.filter(case=case).count() == 2


# --- delivery ----------------------------------------------------------------------------------


def test_delivery_mails_each_recipient_with_an_address_exactly_once(settings, mailoutbox):
    settings.LANGUAGE_CODE = "en"
    case = make_case()
    alice, bob = UserFactory(), UserFactory()
    no_mail = UserFactory(email="")
    created = notifications.notify(
        recipients=[alice, bob, no_mail], kind=notifications.REWORK, case=case, data={}
    )
    ids = [n.pk for n in created]

    # Two mail deliveries: the recipient without an address was skipped when stored.
    assert notifications.deliver(notification_ids=ids) == 2

    assert sorted(m.to[0] for m in mailoutbox) == sorted([alice.email, bob.email])
    assert {m.subject for m in mailoutbox} == {f"Rework: {case.number}"}
    assert "(Illegal dumping)" in mailoutbox[0].body
    rows = Notification.objects.filter(pk__in=ids)
    assert rows.filter(emailed_at__isnull=False).count() == 2
    assert rows.get(recipient=no_mail).emailed_at is None

    notifications.deliver(notification_ids=ids)
    notifications.deliver_notifications(ids)
    assert case_tasks.deliver_pending_mail() == 0
    assert len(mailoutbox) == 2


def test_mail_is_written_in_the_site_language_by_default(mailoutbox):
    case = make_case()
    created = notifications.notify(
        recipients=[UserFactory()], kind=notifications.CASE_RESOLVED, case=case, data={}
    )
    notifications.deliver_notifications([created[0].pk])
    assert len(mailoutbox) == 1
    assert case.number in mailoutbox[0].subject
    assert "乱倒垃圾" in mailoutbox[0].body


def test_mail_links_to_the_case_page_when_it_exists(settings, mailoutbox):
    settings.LANGUAGE_CODE = "en"
    settings.ROOT_URLCONF = WithCasePages
    settings.WHISTLE_SITE_URL = "https://whistle.example.gov.cn"
    case = make_case()
    created = notifications.notify(
        recipients=[UserFactory()], kind=notifications.CASE_RESOLVED, case=case, data={}
    )
    notifications.deliver(notification_ids=[created[0].pk])
    assert mailoutbox[0].body.endswith(
        f"\n\nOpen the case: https://whistle.example.gov.cn/cases/{case.pk}/"
    )


def test_only_the_configured_channels_deliver(settings, mailoutbox):
    settings.WHISTLE_NOTIFICATION_CHANNELS = ["inbox", "carrier-pigeon"]
    case = make_case()
    created = notifications.notify(
        recipients=[UserFactory()], kind=notifications.CASE_CLOSED, case=case, data={}
    )
    assert notifications.deliver(notification_ids=[created[0].pk]) == 0
    assert not Delivery.objects.exists()
    assert notifications.sweep_deliveries(send=send_now) == []
    assert mailoutbox == []
    assert configured_names() == []


class FailingBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise ConnectionRefusedError("SMTP server unreachable")


def test_failed_mail_is_given_back_to_the_sweep(settings, mailoutbox):
    case = make_case()
    created = notifications.notify(
        recipients=[UserFactory()], kind=notifications.CASE_RESOLVED, case=case, data={}
    )
    settings.EMAIL_BACKEND = "tests.cases.test_notifications.FailingBackend"
    notifications.deliver(notification_ids=[created[0].pk])
    assert Notification.objects.get(pk=created[0].pk).emailed_at is None
    mail = Delivery.objects.get(notification=created[0])
    assert mail.status == DeliveryStatus.RETRYING
    assert "SMTP server unreachable" in mail.last_error

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert notifications.sweep_deliveries(send=send_now) == []  # not before the backoff
    Delivery.objects.filter(pk=mail.pk).update(not_before=timezone.now())
    assert notifications.sweep_deliveries(send=send_now) == ["mail"]
    assert len(mailoutbox) == 1
    assert Notification.objects.get(pk=created[0].pk).emailed_at is not None


def test_the_sweep_sends_what_is_due_on_each_channel_once(settings, mailoutbox):
    case = make_case()
    now_due, later, done = (
        notifications.notify(
            recipients=[UserFactory()], kind=notifications.CASE_RESOLVED, case=case, data={}
        )[0]
        for _ in range(3)
    )
    # A step planned for later (quiet hours) waits; a sent one is never sent again.
    Delivery.objects.filter(notification=later).update(
        not_before=timezone.now() + timedelta(hours=1)
    )
    notifications.deliver(notification_ids=[done.pk])
    assert len(mailoutbox) == 1

    queued = []
    assert case_tasks.deliver_pending_mail() == 1  # the old name: one channel handed out
    assert notifications.sweep_deliveries(send=queued.append) == ["mail"]
    assert case_tasks.send_due_deliveries("mail") == 1
    assert [m.to for m in mailoutbox][1:] == [[now_due.recipient.email]]
    assert notifications.sweep_deliveries(send=queued.append) == []
    assert Delivery.objects.get(notification=later).status == DeliveryStatus.PENDING


CLOSED_BROKER = "redis://127.0.0.1:6399/0"


@pytest.fixture
def broker_down():
    """Point the Celery app at a port where nothing listens, then restore it."""
    conf = celery_app.conf
    saved = (conf.broker_url, conf.broker_connection_timeout, conf.broker_transport_options)

    conf.broker_url = CLOSED_BROKER
    conf.broker_connection_timeout = 1
    conf.broker_transport_options = {}
    reset_pools()
    yield
    conf.broker_url, conf.broker_connection_timeout, conf.broker_transport_options = saved
    reset_pools()


# A real commit is needed for on_commit; serialized_rollback puts back the migrated default
# checklist that the flush after a transactional test would otherwise remove for later tests.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_broker_down_neither_breaks_nor_loses_the_notification(broker_down, mailoutbox, caplog):
    case = make_case()
    user = UserFactory()
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="cases.notifications"), transaction.atomic():
        created = notifications.notify(
            recipients=[user], kind=notifications.CASE_WHISTLED, case=case, data={}
        )
    elapsed = time.monotonic() - started

    assert elapsed < 10
    assert Notification.objects.filter(pk=created[0].pk, recipient=user).exists()
    assert any("Could not queue delivery" in r.getMessage() for r in caplog.records)
    assert mailoutbox == []

    assert notifications.sweep_deliveries(send=send_now) == ["mail"]
    assert [m.to for m in mailoutbox] == [[user.email]]


# --- inbox -------------------------------------------------------------------------------------


def test_read_marks_touch_only_the_users_own_rows():
    case = make_case()
    alice, bob = UserFactory(), UserFactory()
    for kind in (notifications.CASE_FILED, notifications.CASE_CLOSED):
        notifications.notify(recipients=[alice, bob], kind=kind, case=case, data={})
    alices = list(Notification.objects.filter(recipient=alice))
    bobs = list(Notification.objects.filter(recipient=bob))
    assert notifications.unread_count(user=alice) == 2

    assert notifications.mark_read(user=alice, notification_ids=[alices[0].pk, bobs[0].pk]) == 1
    assert notifications.unread_count(user=alice) == 1
    assert notifications.unread_count(user=bob) == 2

    assert notifications.mark_all_read(user=alice) == 1
    assert notifications.unread_count(user=alice) == 0
    assert notifications.unread_count(user=bob) == 2
    assert notifications.mark_read(user=alice, notification_ids=[alices[0].pk]) == 0


def test_inbox_lists_the_newest_own_notifications_first():
    case = make_case()
    alice, bob = UserFactory(), UserFactory()
    now = timezone.now()
    for minutes, kind in ((3, "case_filed"), (2, "case_whistled"), (1, "case_closed")):
        Notification.objects.create(
            recipient=alice, case=case, kind=kind, created_at=now - timedelta(minutes=minutes)
        )
    Notification.objects.create(recipient=bob, case=case, kind="case_filed", created_at=now)
    assert [n.kind for n in notifications.inbox(user=alice, limit=2)] == [
        "case_closed",
        "case_whistled",
    ]
    assert len(notifications.inbox(user=alice, limit=50)) == 3


# --- recipients --------------------------------------------------------------------------------


def test_recipient_selectors_find_the_role_holders_of_the_place():
    grid = GridFactory()
    village = grid.village
    town = village.parent
    city = town.parent
    other_grid = GridFactory()

    officer = MembershipFactory(role=Role.VILLAGE_OFFICER, region=village).user
    MembershipFactory(role=Role.VILLAGE_OFFICER, region=other_grid.village)
    retired = UserFactory(is_active=False)
    MembershipFactory(user=retired, role=Role.VILLAGE_OFFICER, region=village)
    committee = MembershipFactory(role=Role.TOWN_COMMITTEE, region=town).user
    city_staff = MembershipFactory(role=Role.CITY_COMMITTEE, region=city).user
    walker = MembershipFactory(role=Role.GRID_WORKER, grid=grid).user
    MembershipFactory(role=Role.GRID_WORKER, grid=other_grid)

    assert list(notifications.village_officers(village)) == [officer]
    assert list(notifications.town_committee(town)) == [committee]
    assert list(notifications.city_committee(city)) == [city_staff]
    assert list(notifications.grid_workers(grid)) == [walker]


def test_handlers_of_a_dispatch_are_team_captains_or_department_liaisons():
    case = make_case()
    team = TeamFactory(region=case.town)
    department = DepartmentFactory(region=case.city)
    captain = MembershipFactory(role=Role.TEAM_CAPTAIN, team=team).user
    MembershipFactory(role=Role.TEAM_MEMBER, team=team)
    liaison = MembershipFactory(role=Role.DEPARTMENT_LIAISON, department=department).user
    # One person who is both captain and liaison is still one recipient per dispatch.
    MembershipFactory(user=liaison, role=Role.TEAM_CAPTAIN, team=TeamFactory(region=case.town))
    now = timezone.now()
    to_team = Dispatch.objects.create(
        case=case, team=team, dispatched_at=now, report_in_due=now + timedelta(hours=1)
    )
    to_department = Dispatch.objects.create(
        case=case, department=department, dispatched_at=now, report_in_due=now
    )
    timers.sync_dispatch_board(case=case)  # as the services that dispatch do
    assert list(notifications.handlers_of_dispatch(to_team)) == [captain]
    assert list(notifications.handlers_of_dispatch(to_department)) == [liaison]
