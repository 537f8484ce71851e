"""GET/PUT/PATCH /api/me/alerts/: the caller's own alert preference for the phone app; nobody
else's can be reached; bad input is a 400 in the one error shape and changes nothing."""

from datetime import time

import pytest
from rest_framework.test import APIClient

from teams.models import AlertPreference
from tests.api.conftest import client_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/me/alerts/"


@pytest.fixture(autouse=True)
def _channels(settings):
    settings.WHISTLE_NOTIFICATION_CHANNELS = ["inbox", "mail", "sms", "push", "dingtalk"]
    settings.WHISTLE_URGENT_ESCALATION_MINUTES = 15


@pytest.fixture
def user():
    return UserFactory(phone="")


def test_signed_out_is_refused():
    response = APIClient().get(URL)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_get_shows_the_defaults_while_nothing_is_stored(user):
    body = client_for(user).get(URL).json()
    assert body == {
        "channels": None,
        "urgent_sms": True,
        "quiet_start": None,
        "quiet_end": None,
        "effective_channels": ["mail", "push"],
        "offered_channels": ["mail", "sms", "push", "dingtalk"],
        "unreachable": [
            {
                "channel": "sms",
                "message": "Urgent alerts are texted to your phone, but your account has no "
                "phone number. Ask an administrator to add it.",
            }
        ],
        "escalation_minutes": 15,
        "updated_at": None,
    }
    assert not AlertPreference.objects.exists()


def test_put_sets_the_callers_own_preference_only(user):
    other = UserFactory()
    AlertPreference.objects.create(user=other, channels=["mail"], quiet_start=None)
    response = client_for(user).put(
        URL,
        {
            "channels": ["dingtalk", "push"],
            "urgent_sms": False,
            "quiet_start": "22:00",
            "quiet_end": "07:00",
            "user": other.pk,  # not a field: ignored
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["channels"] == ["dingtalk", "push"]
    assert body["effective_channels"] == ["push", "dingtalk"]
    assert (body["quiet_start"], body["quiet_end"], body["urgent_sms"]) == (
        "22:00",
        "07:00",
        False,
    )
    mine = AlertPreference.objects.get(user=user)
    assert (mine.channels, mine.quiet_start, mine.quiet_end) == (
        ["dingtalk", "push"],
        time(22),
        time(7),
    )
    theirs = AlertPreference.objects.get(user=other)
    assert (theirs.channels, theirs.quiet_start) == (["mail"], None)
    # The other user reads their own, untouched.
    assert client_for(other).get(URL).json()["channels"] == ["mail"]


def test_patch_changes_only_the_fields_given(user):
    AlertPreference.objects.create(
        user=user, channels=["sms"], urgent_sms=False, quiet_start=time(22), quiet_end=time(7)
    )
    response = client_for(user).patch(URL, {"quiet_start": None, "quiet_end": None}, format="json")
    assert response.status_code == 200, response.json()
    row = AlertPreference.objects.get(user=user)
    assert (row.channels, row.urgent_sms, row.quiet_start, row.quiet_end) == (
        ["sms"],
        False,
        None,
        None,
    )
    response = client_for(user).patch(URL, {"channels": None}, format="json")
    assert response.json()["effective_channels"] == ["mail", "push"]
    assert AlertPreference.objects.get(user=user).channels is None


def test_patching_quiet_hours_keeps_a_channel_no_longer_offered(settings, user):
    AlertPreference.objects.create(user=user, channels=["wecom", "mail"])
    response = client_for(user).patch(
        URL, {"quiet_start": "23:00", "quiet_end": "06:00"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["channels"] == ["wecom", "mail"]
    assert response.json()["effective_channels"] == ["mail"]


@pytest.mark.parametrize(
    ("body", "field", "text"),
    [
        ({"channels": ["fax"]}, "channels.0", "not a valid choice"),
        ({"channels": ["wecom"]}, "channels", "Not available here: wecom"),
        ({"channels": "mail"}, "channels", "list"),
        ({"quiet_start": "22:00", "quiet_end": "22:00"}, "quiet_end", "another time"),
        ({"quiet_start": "22:00", "quiet_end": None}, "quiet_end", "or neither"),
        ({"quiet_start": "late"}, "quiet_start", "Time has wrong format"),
        ({"quiet_start": "22:00:00+08:00", "quiet_end": "07:00"}, "quiet_start", "hh:mm"),
        ({"urgent_sms": "perhaps"}, "urgent_sms", "valid boolean"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(user, body, field, text):
    AlertPreference.objects.create(user=user, channels=["mail"])
    response = client_for(user).patch(URL, body, format="json")
    assert response.status_code == 400
    error = response.json()
    assert error["code"] == "invalid"
    assert text in " ".join(error["fields"][field]), error
    row = AlertPreference.objects.get(user=user)
    assert (row.channels, row.quiet_start, row.quiet_end, row.urgent_sms) == (
        ["mail"],
        None,
        None,
        True,
    )


def test_put_needs_every_field(user):
    response = client_for(user).put(URL, {"channels": ["mail"]}, format="json")
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"urgent_sms", "quiet_start", "quiet_end"}
    assert not AlertPreference.objects.exists()


def test_the_web_apps_session_works_too_and_needs_its_csrf_token(user):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.get(URL).status_code == 200
    body = {"channels": [], "urgent_sms": True, "quiet_start": None, "quiet_end": None}
    refused = client.put(URL, body, content_type="application/json")
    assert refused.status_code == 403
    assert not AlertPreference.objects.exists()
