"""The base layout, login/logout, the home page and the language switcher, in both languages."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from teams.models import Membership, Region, Role
from tests.factories import (
    CityFactory,
    DepartmentFactory,
    GridFactory,
    MembershipFactory,
    TeamFactory,
    UserFactory,
    VillageFactory,
)

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
PASSWORD = "correct-horse-battery"


def html_lang(content: bytes) -> str:
    match = re.search(rb'<html lang="([^"]+)"', content)
    assert match, "no lang attribute on <html>"
    return match.group(1).decode()


def test_login_page_renders_in_english(client):
    response = client.get(reverse("login"), **EN)
    assert response.status_code == 200
    assert html_lang(response.content) == "en"
    body = response.content.decode()
    assert "Sign in" in body
    assert "Whistle" in body
    assert 'for="id_username"' in body
    assert 'for="id_password"' in body
    assert 'href="#main"' in body


def test_login_page_renders_in_chinese(client):
    response = client.get(reverse("login"), **ZH)
    assert response.status_code == 200
    assert html_lang(response.content) == "zh-hans"
    body = response.content.decode()
    assert "登录" in body
    assert "吹哨报到" in body
    assert "跳到主要内容" in body
    assert "Sign in" not in body


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (EN, "Please enter a correct username and password"),
        (ZH, "请输入一个正确的用户名和密码"),
    ],
)
def test_wrong_password_shows_translated_error_and_no_session(client, headers, expected):
    UserFactory(username="ada")
    response = client.post(reverse("login"), {"username": "ada", "password": "wrong"}, **headers)
    assert response.status_code == 200
    assert expected in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_missing_fields_show_errors_next_to_the_fields(client):
    response = client.post(reverse("login"), {"username": "", "password": ""}, **ZH)
    body = response.content.decode()
    assert 'id="id_username_error"' in body
    assert 'id="id_password_error"' in body
    assert 'aria-invalid="true"' in body
    # "This field is required." in Chinese (Django's and DRF's catalogues word it differently).
    assert body.count("必填项") == 2
    assert "This field is required" not in body


def test_login_then_logout(client):
    user = UserFactory(username="grace")
    response = client.post(reverse("login"), {"username": "grace", "password": PASSWORD}, **EN)
    assert response.status_code == 302
    assert response.url == reverse("home")
    assert client.session["_auth_user_id"] == str(user.pk)

    home = client.get(reverse("home"), **EN)
    assert home.status_code == 200
    assert f'action="{reverse("logout")}"' in home.content.decode()

    response = client.post(reverse("logout"), **EN)
    assert response.status_code == 302
    assert response.url == reverse("login")
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("home"), **EN).status_code == 302


def test_anonymous_home_redirects_to_login(client):
    response = client.get("/", **EN)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert "next=/" in response.url


def _home(client, user, headers):
    client.force_login(user)
    response = client.get(reverse("home"), **headers)
    assert response.status_code == 200
    return response.content.decode()


def test_home_shows_roles_and_places_in_english_and_chinese(client):
    grid = GridFactory(code="HN-XS-01-1", name_zh="新市一号网格", name_en="Xinshi grid 1")
    team = TeamFactory(
        region=grid.village.parent, name_zh="新市综合行政执法中队", name_en="Xinshi brigade"
    )
    user = UserFactory(username="multi")
    MembershipFactory(user=user, role=Role.GRID_WORKER, grid=grid)
    MembershipFactory(user=user, role=Role.TEAM_CAPTAIN, team=team, grid=None)

    body = _home(client, user, EN)
    assert "Grid worker" in body  # capitalised by the template
    assert "Xinshi grid 1" in body
    assert "HN-XS-01-1" in body
    assert "Team captain" in body
    assert "Xinshi brigade" in body
    assert "no role yet" not in body

    body = _home(client, user, ZH)
    assert "网格员" in body
    assert "新市一号网格" in body
    assert "中队长" in body
    assert "新市综合行政执法中队" in body
    # Roles come in the order of the Role list: grid worker before team captain.
    assert body.index("网格员") < body.index("中队长")


def test_home_shows_region_and_department_roles(client):
    village = VillageFactory(name_zh="桥头村", name_en="Qiaotou Village")
    department = DepartmentFactory(
        region=village.parent.parent, name_zh="市场监管局", name_en="Market Bureau"
    )
    officer = UserFactory(username="officer")
    liaison = UserFactory(username="liaison")
    MembershipFactory(user=officer, role=Role.VILLAGE_OFFICER, region=village, grid=None)
    MembershipFactory(user=liaison, role=Role.DEPARTMENT_LIAISON, department=department, grid=None)

    body = _home(client, officer, ZH)
    assert "村(社区)干部" in body
    assert "桥头村" in body
    body = _home(client, liaison, EN)
    assert "Department liaison" in body
    assert "Market Bureau" in body


def test_admin_role_sees_admin_link_and_grid_worker_does_not(client):
    admin_url = reverse("admin:index")
    admin = UserFactory(username="boss")
    MembershipFactory(user=admin, role=Role.ADMIN, region=CityFactory(), grid=None)
    worker = MembershipFactory(role=Role.GRID_WORKER).user

    body = _home(client, admin, ZH)
    assert "管理员" in body
    assert f'href="{admin_url}"' in body
    assert "系统管理" in body

    body = _home(client, worker, ZH)
    assert "网格员" in body
    assert f'href="{admin_url}"' not in body
    assert "系统管理" not in body


def test_staff_without_membership_sees_admin_link_and_the_no_role_note(client):
    staff = UserFactory(username="staff", is_staff=True)
    body = _home(client, staff, EN)
    assert f'href="{reverse("admin:index")}"' in body
    assert "Your account has no role yet" in body


def test_user_without_membership_sees_translated_note_and_no_links(client):
    user = UserFactory(username="newcomer")
    assert not Membership.objects.filter(user=user).exists()
    body = _home(client, user, ZH)
    assert "您的账号尚未分配角色，请联系管理员分配。" in body
    assert reverse("admin:index") not in body
    body = _home(client, user, EN)
    assert "Your account has no role yet. Ask an administrator to give you one." in body


def test_language_switcher_switches_the_page_language(client):
    user = UserFactory(username="switcher")
    MembershipFactory(
        user=user, role=Role.TOWN_COMMITTEE, region=VillageFactory().parent, grid=None
    )
    client.force_login(user)
    assert html_lang(client.get(reverse("home"), **EN).content) == "en"

    response = client.post(
        reverse("set_language"), {"language": "zh-hans", "next": reverse("home")}, **EN
    )
    assert response.status_code == 302
    assert response.url == reverse("home")

    page = client.get(reverse("home"), **EN)
    assert html_lang(page.content) == "zh-hans"
    assert "镇(街道)综合行政执法委员会" in page.content.decode()

    client.post(reverse("set_language"), {"language": "en", "next": reverse("home")}, **ZH)
    page = client.get(reverse("home"), **ZH)
    assert html_lang(page.content) == "en"
    assert "Town committee staff" in page.content.decode()


def test_language_switcher_names_each_language_in_itself(client):
    for headers in (EN, ZH):
        body = client.get(reverse("login"), **headers).content.decode()
        assert re.search(r'lang="en"[^>]*>\s*English\s*<', body)
        assert re.search(r'lang="zh-hans"[^>]*>\s*简体中文\s*<', body)
        assert f'action="{reverse("set_language")}"' in body


def test_base_layout_references_vendored_static_files_that_exist(client):
    body = client.get(reverse("login"), **EN).content.decode()
    referenced = re.findall(r'(?:src|href)="/static/([^"]+)"', body)
    assert "vendor/htmx/htmx.min.js" in referenced
    assert "vendor/pico/pico.min.css" in referenced
    assert "css/whistle.css" in referenced
    static_dir = Path(settings.BASE_DIR) / "static"
    for path in referenced:
        assert (static_dir / path).is_file(), path
    # No inline scripts: a Content-Security-Policy will forbid them.
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", body)


def test_region_place_kind_uses_the_level_name(client):
    town = VillageFactory().parent
    assert town.level == Region.Level.TOWN
    user = UserFactory(username="towny")
    MembershipFactory(user=user, role=Role.TOWN_COMMITTEE, region=town, grid=None)
    body = _home(client, user, ZH)
    assert town.name_zh in body
    assert "镇(街道)" in body
