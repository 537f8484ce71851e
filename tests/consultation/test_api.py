"""Reading consultations through the API: the committee and the invited read them; others do
not see them at all; archiving ends the invited's access."""

import pytest

from consultation import services
from tests.consultation.conftest import MEETING, in_consultation

pytestmark = pytest.mark.usefixtures("clock")

LIST = "/api/consultations/"


def called(org, extra):
    return services.call_consultation(
        user=org.town_committee,
        level="town",
        region_id=org.town.pk,
        scheduled_at=MEETING,
        place="Town hall",
        case_ids=[in_consultation(org).pk],
        department_ids=[extra.bureau.pk],
    )


def get(client, user, url):
    client.force_login(user)
    return client.get(url, HTTP_ACCEPT_LANGUAGE="en")


def test_the_committee_and_the_invited_read_the_consultation(client, org, extra):
    consultation = called(org, extra)
    for user in (org.town_committee, extra.bureau_liaison, org.supervisor):
        response = get(client, user, LIST)
        assert response.status_code == 200
        assert [row["id"] for row in response.json()["results"]] == [consultation.pk]
    detail = get(client, extra.bureau_liaison, f"{LIST}{consultation.pk}/").json()
    assert (detail["level"], detail["status"], detail["place"]) == ("town", "planned", "Town hall")
    assert [item["case_number"] for item in detail["agenda"]] == [
        consultation.agenda_items.get().case.number
    ]
    assert detail["agenda"][0]["decision"] == "pending"
    assert [(i["department_id"], i["late"]) for i in detail["invitations"]] == [
        (extra.bureau.pk, False)
    ]


def test_others_do_not_see_it_and_archiving_ends_the_invited_access(client, org, extra):
    consultation = called(org, extra)
    assert get(client, extra.outsider, LIST).json()["results"] == []
    assert get(client, extra.outsider, f"{LIST}{consultation.pk}/").status_code == 404
    assert get(client, org.other_captain, f"{LIST}{consultation.pk}/").status_code == 404
    services.archive_consultation(user=org.town_committee, consultation_id=consultation.pk)
    assert get(client, extra.bureau_liaison, f"{LIST}{consultation.pk}/").status_code == 404
    archived = get(client, org.town_committee, f"{LIST}?status=archived").json()["results"]
    assert [row["id"] for row in archived] == [consultation.pk]


def test_the_committee_alone_may_post_and_nothing_is_deleted(client, org, extra):
    consultation = called(org, extra)
    client.force_login(org.town_committee)
    response = client.delete(f"{LIST}{consultation.pk}/")
    assert response.status_code == 405
    assert client.post(LIST, {}).status_code == 400  # calling one: see test_api_consultations
    client.force_login(extra.bureau_liaison)
    assert client.post(LIST, {}).status_code == 403
