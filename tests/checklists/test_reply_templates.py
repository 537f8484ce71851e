"""Reply templates (话术模板): edited in the admin in both languages, offered in the forms of the
actions that take a reason or a note (for the case's item and for every item, active only), in
the user's language; a template chosen with the text box left empty fills it, and a rejection's
template its "where to go instead"."""

from datetime import timedelta

import pytest
from django.urls import reverse

from cases.models import Event, Status
from checklists.demo import DEMO_REPLIES, build_demo_replies
from checklists.models import Item, ReplyTemplate
from tests.cases.conftest import org
from tests.cases.engine_steps import T0, file_case, team_dispatch, whistled

__all__ = ["org"]

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clock_and_media(time_machine, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    time_machine.move_to(T0, tick=False)


def template(action: str, **values) -> ReplyTemplate:
    defaults = {
        "code": f"{action}-{ReplyTemplate.objects.count()}",
        "action": action,
        "text_en": "A civil dispute: not for whistling.",
        "text_zh": "属于民事纠纷，不予受理。",
    }
    return ReplyTemplate.objects.create(**{**defaults, **values})


def reject_url(case) -> str:
    return reverse("cases:act", args=[case.pk, "reject"])


def test_an_administrator_adds_and_edits_a_template(admin_client, org):
    for language in ("en", "zh-hans"):
        listing = admin_client.get(
            reverse("admin:checklists_replytemplate_changelist"), HTTP_ACCEPT_LANGUAGE=language
        )
        assert listing.status_code == 200
    response = admin_client.post(
        reverse("admin:checklists_replytemplate_add"),
        {
            "code": "reject-dispute",
            "action": "reject",
            "item": org.item.pk,
            "order": 1,
            "active": "on",
            "text_zh": "属于民事纠纷。",
            "text_en": "A civil dispute.",
            "redirect_zh": "请找人民调解委员会。",
            "redirect_en": "Ask the mediation committee.",
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    saved = ReplyTemplate.objects.get(code="reject-dispute")
    assert (saved.item, saved.text_en, saved.redirect_zh) == (
        org.item,
        "A civil dispute.",
        "请找人民调解委员会。",
    )
    change = reverse("admin:checklists_replytemplate_change", args=[saved.pk])
    assert admin_client.get(change, HTTP_ACCEPT_LANGUAGE="en").status_code == 200


@pytest.mark.parametrize(
    ("language", "shown", "hidden"),
    [
        ("en", "A civil dispute: not for whistling.", "属于民事纠纷，不予受理。"),
        ("zh-hans", "属于民事纠纷，不予受理。", "A civil dispute: not for whistling."),
    ],
)
def test_the_reject_form_offers_the_templates_in_the_users_language(
    client, org, language, shown, hidden
):
    offered = template("reject")
    other_item = Item.objects.exclude(pk=org.item.pk).first()
    template("reject", item=other_item, text_en="Other item", text_zh="别的事项")
    template("reject", active=False, text_en="Switched off", text_zh="已停用")
    template("urge", text_en="Report in now", text_zh="请立即报到")
    case = file_case(org)
    client.force_login(org.village_officer)
    html = client.get(reject_url(case), HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert 'name="reply_template"' in html
    assert 'data-fill-target="id_reason"' in html
    assert f'<option value="{offered.pk}">{shown}</option>' in html
    assert hidden not in html
    for text in ("Other item", "别的事项", "Switched off", "已停用", "Report in now"):
        assert text not in html
    # The templates stand in for the fixed list of common reasons.
    assert 'name="common_reason"' not in html


def test_without_templates_the_form_is_as_before(client, org):
    case = file_case(org)
    client.force_login(org.village_officer)
    html = client.get(reject_url(case), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'name="reply_template"' not in html
    assert 'name="common_reason"' in html


@pytest.mark.parametrize(
    ("language", "reason", "redirect"),
    [
        ("en", "A civil dispute: not for whistling.", "Ask the mediation committee."),
        ("zh-hans", "属于民事纠纷，不予受理。", "请找人民调解委员会。"),
    ],
)
def test_the_chosen_template_fills_the_reason_and_where_to_go(
    client, org, language, reason, redirect
):
    chosen = template(
        "reject",
        item=org.item,
        redirect_en="Ask the mediation committee.",
        redirect_zh="请找人民调解委员会。",
    )
    case = file_case(org)
    client.force_login(org.village_officer)
    response = client.post(
        reject_url(case),
        {
            "version": case.version,
            "reply_template": chosen.pk,
            "reason": "",
            "redirect": org.item.redirect,  # the item's default, left as it was
        },
        HTTP_ACCEPT_LANGUAGE=language,
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == Status.REJECTED
    assert (case.rejection_reason, case.redirect) == (reason, redirect)


def test_what_the_user_typed_wins_over_the_template(client, org):
    chosen = template("reject", redirect_en="Ask the mediation committee.")
    case = file_case(org)
    client.force_login(org.village_officer)
    client.post(
        reject_url(case),
        {
            "version": case.version,
            "reply_template": chosen.pk,
            "reason": "Own words",
            "redirect": "The court",
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    case.refresh_from_db()
    assert (case.rejection_reason, case.redirect) == ("Own words", "The court")


def test_a_template_of_another_action_is_refused(client, org):
    urge = template("urge", text_en="Report in now")
    template("reject")
    case = file_case(org)
    client.force_login(org.village_officer)
    response = client.post(
        reject_url(case),
        {"version": case.version, "reply_template": urge.pk, "reason": ""},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    case.refresh_from_db()
    assert case.status == Status.FILED


def test_the_urge_and_return_forms_fill_their_note(client, org, time_machine):
    urge = template("urge", text_en="Report in now", text_zh="请立即报到")
    back = template("return_dispatch", text_en="Not our duty", text_zh="不属于本单位职责")
    case = whistled(org)
    dispatch = team_dispatch(case)
    client.force_login(org.captain)
    url = reverse("cases:dispatch_act", args=[dispatch.pk, "return_dispatch"])
    html = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert f'<option value="{back.pk}">不属于本单位职责</option>' in html
    assert 'data-fill-target="id_note"' in html

    time_machine.move_to(dispatch.clock_due_at + timedelta(minutes=1), tick=False)
    client.force_login(org.town_committee)
    url = reverse("cases:dispatch_act", args=[dispatch.pk, "urge"])
    response = client.post(
        url,
        {"version": case.version, "reply_template": urge.pk, "note": ""},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 302
    assert Event.objects.get(action="urge").data["note"] == "Report in now"


def test_the_demo_seeds_templates_in_both_languages(org):
    build_demo_replies()
    build_demo_replies()  # idempotent
    seeded = ReplyTemplate.objects.filter(code__in=[r["code"] for r in DEMO_REPLIES])
    assert seeded.count() == len(DEMO_REPLIES)
    assert all(t.text_zh and t.text_en for t in seeded)
    assert {t.action for t in seeded} >= {"reject", "return_dispatch", "verify", "urge"}
