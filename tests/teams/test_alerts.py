"""My alerts: the model's validation, the service, the page (only one's own preference, only
the channels configured here, a warning for a channel without an address) and the admin
inline."""

from datetime import time

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import translation

from teams import alerts
from teams.models import AlertPreference
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}


@pytest.fixture(autouse=True)
def _channels(settings):
    settings.WHISTLE_NOTIFICATION_CHANNELS = ["inbox", "mail", "sms", "push"]
    settings.WHISTLE_URGENT_ESCALATION_MINUTES = 15


@pytest.fixture
def user():
    return UserFactory(phone="13800000000")


@pytest.fixture
def signed_in(client, user):
    client.force_login(user)
    return client


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# --- model and service -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field", "text"),
    [
        ({"channels": ["mail", "fax"]}, "channels", "Unknown channel: fax"),
        ({"channels": ["mail", "mail"]}, "channels", "Name each channel once"),
        ({"channels": "mail"}, "channels", "list of names"),
        ({"quiet_start": time(22), "quiet_end": time(22)}, "quiet_end", "another time"),
        ({"quiet_start": time(22)}, "quiet_end", "or neither"),
        ({"quiet_end": time(7)}, "quiet_start", "or neither"),
    ],
)
def test_the_model_refuses_bad_values_with_clear_messages(user, fields, field, text):
    with translation.override("en"):
        with pytest.raises(ValidationError) as refused:
            AlertPreference(user=user, **fields).full_clean()
        assert text in " ".join(refused.value.message_dict[field])


def test_the_database_refuses_equal_or_half_quiet_hours(user):
    for start, end in ((time(8), time(8)), (time(8), None)):
        with pytest.raises(IntegrityError), transaction.atomic():
            AlertPreference.objects.create(user=user, quiet_start=start, quiet_end=end)


def test_the_service_creates_then_updates_one_row(user):
    first = alerts.set_alert_preference(
        user=user, channels=["sms"], urgent_sms=True, quiet_start=None, quiet_end=None
    )
    second = alerts.set_alert_preference(
        user=user, channels=None, urgent_sms=False, quiet_start=time(22), quiet_end=time(7)
    )
    assert first.pk == second.pk
    row = AlertPreference.objects.get(user=user)
    assert row.channels is None and row.chosen_channels == ("mail", "push")
    assert (row.urgent_sms, row.quiet_start, row.quiet_end) == (False, time(22), time(7))


def test_the_service_refuses_a_channel_not_configured_here_and_changes_nothing(user):
    alerts.set_alert_preference(
        user=user, channels=["mail"], urgent_sms=True, quiet_start=None, quiet_end=None
    )
    with translation.override("en"):
        with pytest.raises(alerts.AlertPreferenceInvalid) as refused:
            alerts.set_alert_preference(
                user=user, channels=["wecom"], urgent_sms=False, quiet_start=None, quiet_end=None
            )
        assert "Not available here: wecom" in " ".join(refused.value.fields["channels"])
    row = AlertPreference.objects.get(user=user)
    assert (row.channels, row.urgent_sms) == (["mail"], True)


def test_a_channel_chosen_before_it_was_turned_off_is_kept(settings, user):
    settings.WHISTLE_NOTIFICATION_CHANNELS = ["inbox", "mail", "wecom"]
    alerts.set_alert_preference(
        user=user, channels=["wecom"], urgent_sms=True, quiet_start=None, quiet_end=None
    )
    settings.WHISTLE_NOTIFICATION_CHANNELS = ["inbox", "mail"]
    alerts.set_alert_preference(
        user=user, channels=["wecom"], urgent_sms=True, quiet_start=time(22), quiet_end=time(7)
    )
    row = AlertPreference.objects.get(user=user)
    assert (row.channels, row.quiet_start) == (["wecom"], time(22))
    assert alerts.alerts_of(user=user).channels == ()  # not offered: not shown, never used


def test_a_channel_without_an_address_is_named(user):
    user.phone = ""
    user.email = ""
    user.save()
    current = alerts.alerts_of(user=user)
    assert {row.channel for row in current.unreachable} == {"mail", "sms"}


# --- the page --------------------------------------------------------------------------------


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get(reverse("my_alerts"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    response = client.post(reverse("my_alerts"), {"action": "save", "channels": ["sms"]})
    assert response.status_code == 302 and not AlertPreference.objects.exists()


def test_the_page_shows_the_defaults_and_only_the_configured_channels(signed_in):
    response = signed_in.get(reverse("my_alerts"), **EN)
    assert response.status_code == 200
    body = response.content.decode()
    assert "My alerts" in body
    assert 'value="mail"' in body and 'value="sms"' in body and 'value="push"' in body
    assert 'value="dingtalk"' not in body and 'value="wecom"' not in body
    assert response.context["form"].initial["channels"] == ["mail", "push"]
    assert "You use the defaults: mail and push." in body
    # The three kinds in plain words, and that quiet hours do not hold urgent alerts.
    assert "Urgent" in body and "Normal" in body and "Routine" in body
    assert "a 30-minute report-in cannot wait" in body
    assert "not read after 15 minutes is texted" in body
    assert 'name="csrfmiddlewaretoken"' in body


def test_the_page_renders_in_chinese(signed_in):
    response = signed_in.get(reverse("my_alerts"), **ZH)
    assert response.status_code == 200
    assert '<html lang="zh-hans"' in response.content.decode()


def test_a_valid_post_saves_the_users_own_preference(signed_in, user):
    other = UserFactory()
    AlertPreference.objects.create(user=other, channels=["mail"])
    response = signed_in.post(
        reverse("my_alerts"),
        {
            "action": "save",
            "channels": ["sms", "push"],
            "urgent_sms": "",
            "quiet_start": "22:00",
            "quiet_end": "07:00",
            "user": other.pk,  # ignored: the page has no user to choose
        },
        follow=True,
        **EN,
    )
    assert response.redirect_chain == [(reverse("my_alerts"), 302)]
    assert "Your alert settings were saved." in messages_of(response)
    row = AlertPreference.objects.get(user=user)
    assert row.channels == ["sms", "push"]
    assert (row.urgent_sms, row.quiet_start, row.quiet_end) == (False, time(22), time(7))
    assert AlertPreference.objects.get(user=other).channels == ["mail"]
    assert response.context["form"].initial["channels"] == ["sms", "push"]


def test_no_channel_ticked_means_the_inbox_only_and_defaults_can_be_restored(signed_in, user):
    signed_in.post(reverse("my_alerts"), {"action": "save", "urgent_sms": "on"})
    assert AlertPreference.objects.get(user=user).channels == []
    page = signed_in.get(reverse("my_alerts"), **EN).content.decode()
    assert 'data-testid="alerts-defaults"' in page
    response = signed_in.post(reverse("my_alerts"), {"action": "defaults"}, follow=True, **EN)
    assert "Your alerts use the default channels again." in messages_of(response)
    assert AlertPreference.objects.get(user=user).channels is None


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"quiet_start": "22:00", "quiet_end": "22:00"}, "another time than they start"),
        ({"quiet_start": "22:00"}, "or neither"),
        ({"quiet_start": "25:99", "quiet_end": "07:00"}, "Enter a valid time."),
        ({"channels": ["fax"]}, "Select a valid choice"),
        ({"channels": ["wecom"]}, "Select a valid choice"),  # not configured here
    ],
)
def test_an_invalid_post_shows_why_and_changes_nothing(signed_in, user, data, error):
    AlertPreference.objects.create(user=user, channels=["mail"], quiet_start=None)
    response = signed_in.post(reverse("my_alerts"), {"action": "save", **data}, **EN)
    assert response.status_code == 200
    assert "Nothing was changed: please correct the errors below." in messages_of(response)
    assert error in response.content.decode()
    row = AlertPreference.objects.get(user=user)
    assert (row.channels, row.quiet_start, row.quiet_end, row.urgent_sms) == (
        ["mail"],
        None,
        None,
        True,
    )


def test_the_page_warns_when_a_chosen_channel_cannot_reach_the_user(client):
    user = UserFactory(phone="", email="")
    client.force_login(user)
    body = client.get(reverse("my_alerts"), **EN).content.decode()
    assert 'data-testid="unreachable-mail"' in body
    assert 'data-testid="unreachable-sms"' in body
    assert "Urgent alerts are texted to your phone, but your account has no phone number." in body


def test_without_sms_the_texting_box_and_its_words_are_gone(settings, signed_in):
    settings.WHISTLE_NOTIFICATION_CHANNELS = ["inbox", "mail"]
    response = signed_in.get(reverse("my_alerts"), **EN)
    body = response.content.decode()
    assert "urgent_sms" not in response.context["form"].fields
    assert "texted" not in body
    assert 'value="push"' not in body


def test_with_the_inbox_only_the_page_says_so(settings, signed_in):
    settings.WHISTLE_NOTIFICATION_CHANNELS = ["inbox"]
    body = signed_in.get(reverse("my_alerts"), **EN).content.decode()
    assert 'data-testid="no-channels"' in body


def test_the_page_is_linked_from_the_navigation_and_the_home_page(signed_in, user):
    MembershipFactory(user=user)
    body = signed_in.get(reverse("home"), **EN).content.decode()
    nav = body[body.index('class="site-nav"') : body.index("</nav>")]
    assert f'href="{reverse("my_alerts")}"' in nav
    assert f'<a href="{reverse("my_alerts")}" data-testid="my-alerts-link">' in body
    # With no role yet, the home page still links to it.
    user.memberships.all().delete()
    body = signed_in.get(reverse("home"), **EN).content.decode()
    assert 'data-testid="my-alerts-link"' in body


# --- the admin -------------------------------------------------------------------------------


def test_the_admin_edits_the_preference_inline_on_the_user(client, admin_user, user):
    client.force_login(admin_user)
    url = reverse("admin:teams_user_change", args=[user.pk])
    page = client.get(url, **EN)
    assert page.status_code == 200
    assert "alert_preference-TOTAL_FORMS" in page.content.decode()
    data = {
        "username": user.username,
        "email": user.email,
        "phone": user.phone,
        "is_active": "on",
        "date_joined_0": "2026-12-01",
        "date_joined_1": "08:00:00",
    }
    data.update(
        {
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
            "alert_preference-TOTAL_FORMS": "1",
            "alert_preference-INITIAL_FORMS": "0",
            "alert_preference-0-channels": ["sms"],
            "alert_preference-0-urgent_sms": "on",
            "alert_preference-0-quiet_start": "21:30",
            "alert_preference-0-quiet_end": "06:30",
        }
    )
    response = client.post(url, data, **EN)
    assert response.status_code == 302, (
        response.context["adminform"].form.errors,
        [inline.formset.errors for inline in response.context["inline_admin_formsets"]],
    )
    row = AlertPreference.objects.get(user=user)
    assert (row.channels, row.quiet_start, row.quiet_end) == (["sms"], time(21, 30), time(6, 30))


def test_the_admin_form_keeps_the_defaults_as_null(user):
    from teams.admin import AlertPreferenceAdminForm

    row = AlertPreference.objects.create(user=user, channels=["sms"])
    form = AlertPreferenceAdminForm(
        {"use_defaults": "on", "channels": ["mail"], "urgent_sms": "on"}, instance=row
    )
    assert form.is_valid(), form.errors
    assert form.save().channels is None
    form = AlertPreferenceAdminForm(instance=AlertPreference.objects.get(pk=row.pk))
    assert form.initial["use_defaults"] is True
    refused = AlertPreferenceAdminForm(
        {"channels": ["mail"], "quiet_start": "08:00", "quiet_end": "08:00"}, instance=row
    )
    assert not refused.is_valid()
    assert "quiet_end" in refused.errors
