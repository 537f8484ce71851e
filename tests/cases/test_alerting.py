"""Who gets what, how (cases.alerting): every notification kind has its class; plan() sends
urgent alerts at once on push and SMS (escalating to SMS when unread), normal ones on the chosen
channels after the quiet hours, routine ones nowhere beyond the inbox; only configured channels
ever appear; preferences() reads in one query and plan() in none."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from cases import alerting, notifications
from cases.alerting import NORMAL, ROUTINE, URGENT, Step
from teams.models import AlertPreference
from tests.factories import UserFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
EVERY_CHANNEL = ("inbox", "mail", "sms", "push", "dingtalk", "wecom")


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def preference(**fields) -> AlertPreference:
    """An unsaved preference: plan() reads only its fields."""
    return AlertPreference(**fields)


@pytest.fixture(autouse=True)
def _china_time(settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    settings.WHISTLE_URGENT_ESCALATION_MINUTES = 15


def plan(kind: str, *, at: datetime, pref=None, available=EVERY_CHANNEL) -> list[Step]:
    return alerting.plan(kind=kind, data={}, at=at, preference=pref, available=available)


# --- the table -------------------------------------------------------------------------------


def test_every_notification_kind_is_classified_and_nothing_else():
    assert set(alerting.CLASSES) == set(notifications.KINDS)
    assert set(alerting.CLASSES.values()) == {URGENT, NORMAL, ROUTINE}


@pytest.mark.parametrize(
    "kind",
    [
        "case_whistled",
        "dispatch_urged",
        "supervision_ordered",
        "dispatch_late",
        "overdue",
        "case_escalated",
        "case_filed",
        "deadline_warning",
    ],
)
def test_a_short_limit_or_a_passed_one_is_urgent(kind):
    assert alerting.class_of(kind) == URGENT


@pytest.mark.parametrize(
    ("kind", "expected"),
    [("case_resolved", NORMAL), ("consultation_invited", NORMAL), ("case_closed", ROUTINE)],
)
def test_work_that_can_wait_is_normal_and_news_is_routine(kind, expected):
    assert alerting.class_of(kind) == expected


def test_an_unknown_kind_is_treated_as_normal():
    at = local(2026, 12, 3, 23, 30)
    quiet = preference(quiet_start=time(22), quiet_end=time(7))
    assert [step.not_before for step in plan("brand_new_kind", at=at, pref=quiet)] == [
        local(2026, 12, 4, 7, 0)
    ] * 2


# --- urgent ----------------------------------------------------------------------------------


def test_urgent_goes_at_once_to_push_and_sms_by_default():
    at = local(2026, 12, 3, 14, 0)
    assert plan("case_whistled", at=at) == [
        Step("mail", at),  # the default channels of the user as well
        Step("sms", at),
        Step("push", at),
    ]


def test_urgent_is_not_held_by_quiet_hours():
    at = local(2026, 12, 3, 23, 30)
    quiet = preference(quiet_start=time(22), quiet_end=time(7), channels=[])
    steps = plan("case_whistled", at=at, pref=quiet)
    assert steps == [Step("sms", at), Step("push", at)]


def test_urgent_also_goes_to_dingtalk_and_wecom_when_the_user_chose_them():
    at = local(2026, 12, 3, 9, 0)
    chose = preference(channels=["dingtalk", "wecom"])
    assert [step.channel for step in plan("dispatch_urged", at=at, pref=chose)] == [
        "sms",
        "push",
        "dingtalk",
        "wecom",
    ]
    assert all(step.not_before == at and not step.only_if_unread for step in plan("overdue", at=at))


def test_urgent_without_sms_at_once_escalates_to_sms_when_unread():
    at = local(2026, 12, 3, 23, 50)
    no_text = preference(channels=["push"], urgent_sms=False)
    assert plan("supervision_ordered", at=at, pref=no_text) == [
        Step("push", at),
        Step("sms", at + timedelta(minutes=15), only_if_unread=True),
    ]


def test_the_escalation_delay_is_a_setting_and_zero_turns_it_off(settings):
    at = local(2026, 12, 3, 10, 0)
    no_text = preference(channels=[], urgent_sms=False)
    settings.WHISTLE_URGENT_ESCALATION_MINUTES = 40
    assert plan("dispatch_late", at=at, pref=no_text)[-1] == Step(
        "sms", local(2026, 12, 3, 10, 40), only_if_unread=True
    )
    settings.WHISTLE_URGENT_ESCALATION_MINUTES = 0
    assert plan("dispatch_late", at=at, pref=no_text) == [Step("push", at)]


def test_no_escalation_when_sms_was_sent_at_once_or_is_not_configured():
    at = local(2026, 12, 3, 10, 0)
    assert not any(step.only_if_unread for step in plan("overdue", at=at))
    no_text = preference(channels=[], urgent_sms=False)
    assert plan("overdue", at=at, pref=no_text, available=("inbox", "push")) == [Step("push", at)]


def test_sms_chosen_among_the_channels_texts_urgent_alerts_at_once_whatever_the_box():
    at = local(2026, 12, 3, 10, 0)
    chose_sms = preference(channels=["sms"], urgent_sms=False)
    assert plan("overdue", at=at, pref=chose_sms) == [Step("sms", at), Step("push", at)]


# --- normal ----------------------------------------------------------------------------------


def test_normal_goes_to_mail_and_push_by_default_at_once_outside_quiet_hours():
    at = local(2026, 12, 3, 15, 0)
    assert plan("case_resolved", at=at) == [Step("mail", at), Step("push", at)]


def test_normal_goes_to_the_chosen_channels_only():
    at = local(2026, 12, 3, 15, 0)
    chose = preference(channels=["wecom", "sms"])
    assert plan("case_resolved", at=at, pref=chose) == [Step("sms", at), Step("wecom", at)]
    assert plan("case_resolved", at=at, pref=preference(channels=[])) == []


def test_normal_at_2330_with_quiet_hours_2200_to_0700_waits_until_0700_next_day():
    at = local(2026, 12, 3, 23, 30)
    quiet = preference(quiet_start=time(22), quiet_end=time(7))
    steps = plan("case_resolved", at=at, pref=quiet)
    assert steps == [
        Step("mail", local(2026, 12, 4, 7, 0)),
        Step("push", local(2026, 12, 4, 7, 0)),
    ]
    # The same instant given in UTC: the quiet hours are read on China's clock.
    steps_utc = plan("case_resolved", at=at.astimezone(ZoneInfo("UTC")), pref=quiet)
    assert steps_utc == steps
    # ...while an urgent alert at that moment goes at once.
    assert {step.not_before for step in plan("case_whistled", at=at, pref=quiet)} == {at}


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (local(2026, 12, 4, 0, 10), local(2026, 12, 4, 7, 0)),  # after midnight: the same day
        (local(2026, 12, 4, 6, 59), local(2026, 12, 4, 7, 0)),
        (local(2026, 12, 4, 7, 0), local(2026, 12, 4, 7, 0)),  # the end is not quiet
        (local(2026, 12, 4, 21, 59), local(2026, 12, 4, 21, 59)),
        (local(2026, 12, 4, 22, 0), local(2026, 12, 5, 7, 0)),  # the start is quiet
        (local(2026, 12, 31, 23, 0), local(2027, 1, 1, 7, 0)),  # across the year's end
    ],
)
def test_quiet_hours_across_midnight(moment, expected):
    quiet = preference(quiet_start=time(22), quiet_end=time(7), channels=["mail"])
    assert plan("rework", at=moment, pref=quiet) == [Step("mail", expected)]


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (local(2026, 12, 4, 11, 0), local(2026, 12, 4, 11, 0)),
        (local(2026, 12, 4, 12, 0), local(2026, 12, 4, 14, 0)),
        (local(2026, 12, 4, 13, 30), local(2026, 12, 4, 14, 0)),
        (local(2026, 12, 4, 14, 0), local(2026, 12, 4, 14, 0)),
    ],
)
def test_quiet_hours_within_one_day(moment, expected):
    siesta = preference(quiet_start=time(12), quiet_end=time(14), channels=["push"])
    assert plan("postponement_requested", at=moment, pref=siesta) == [Step("push", expected)]


def test_quiet_hours_follow_the_deployment_time_zone(settings):
    settings.TIME_ZONE = "UTC"
    quiet = preference(quiet_start=time(22), quiet_end=time(7), channels=["mail"])
    at = local(2026, 12, 4, 6, 30)  # 22:30 UTC the day before: quiet in UTC
    (step,) = plan("rework", at=at, pref=quiet)
    assert step.not_before == datetime(2026, 12, 4, 7, 0, tzinfo=ZoneInfo("UTC"))


# --- routine and availability ----------------------------------------------------------------


def test_routine_stays_in_the_inbox():
    at = local(2026, 12, 3, 15, 0)
    assert plan("case_closed", at=at) == []
    assert plan("dispatch_cancelled", at=at, pref=preference(channels=["sms", "wecom"])) == []


@pytest.mark.parametrize(
    "kind", sorted(notifications.KINDS)
)  # every kind, with and without a preference
@pytest.mark.parametrize(
    "available", [("inbox",), ("inbox", "mail"), ("mail", "push"), ("sms",), ("inbox", "wecom")]
)
def test_unavailable_channels_never_appear(kind, available):
    at = local(2026, 12, 3, 23, 30)
    for pref in (
        None,
        preference(channels=list(EVERY_CHANNEL[1:]), urgent_sms=False),
        preference(channels=[], quiet_start=time(22), quiet_end=time(7)),
    ):
        steps = plan(kind, at=at, pref=pref, available=available)
        assert {step.channel for step in steps} <= set(available) - {"inbox"}
        assert len({(step.channel, step.only_if_unread) for step in steps}) == len(steps)
        assert all(step.not_before >= at for step in steps)


# --- queries ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_preferences_reads_in_one_query_and_plan_in_none(django_assert_num_queries):
    users = [UserFactory() for _ in range(4)]
    AlertPreference.objects.create(user=users[0], channels=["sms"])
    AlertPreference.objects.create(
        user=users[1], channels=None, quiet_start=time(22), quiet_end=time(7)
    )
    with django_assert_num_queries(1):
        found = alerting.preferences(user_ids=[user.pk for user in users])
    assert set(found) == {users[0].pk, users[1].pk}
    at = local(2026, 12, 3, 23, 30)
    with django_assert_num_queries(0):
        for user in users:
            for kind in notifications.KINDS:
                plan(kind, at=at, pref=found.get(user.pk))
    with django_assert_num_queries(0):
        assert alerting.preferences(user_ids=[]) == {}
    assert plan("case_resolved", at=at, pref=found[users[1].pk]) == [
        Step("mail", local(2026, 12, 4, 7, 0)),
        Step("push", local(2026, 12, 4, 7, 0)),
    ]
