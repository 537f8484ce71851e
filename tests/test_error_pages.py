"""The 400, 403, 404 and 500 pages: the site's layout where Django gives a request, translated,
never saying whether a case out of scope exists; the 500 page static and in both languages."""

import pytest
from django.core.exceptions import SuspiciousOperation
from django.test import RequestFactory
from django.urls import reverse
from django.utils import translation
from django.views.defaults import bad_request, server_error

from cases.services import file_whistle
from checklists.models import Item
from teams.models import Role
from tests.factories import (
    CityFactory,
    GridFactory,
    MembershipFactory,
    TownFactory,
    UserFactory,
    VillageFactory,
    square_polygon,
)

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
NOT_FOUND_EN = "This page does not exist, or you do not have access to it."
NOT_ALLOWED_EN = "You are not allowed to do this."
NOT_ALLOWED_ZH = "您无权执行此操作。"


class Org:
    """Two villages of one town, a grid worker in each and the city's supervisor."""

    def __init__(self) -> None:
        city = CityFactory(code="HN")
        town = TownFactory(parent=city)
        self.grid = GridFactory(
            village=VillageFactory(parent=town), polygon=square_polygon(120.70, 30.50)
        )
        self.other_grid = GridFactory(
            village=VillageFactory(parent=town), polygon=square_polygon(120.80, 30.50)
        )
        self.item = Item.objects.get(code="SAN-01")
        self.grid_worker = UserFactory(username="gw")
        MembershipFactory(user=self.grid_worker, role=Role.GRID_WORKER, grid=self.grid)
        self.other_grid_worker = UserFactory(username="gw2")
        MembershipFactory(user=self.other_grid_worker, role=Role.GRID_WORKER, grid=self.other_grid)
        self.supervisor = UserFactory(username="sup")
        MembershipFactory(user=self.supervisor, role=Role.SUPERVISOR, region=city)


@pytest.fixture
def org(db) -> Org:
    return Org()


@pytest.fixture
def foreign_case(org):
    """A case in the other village: outside the grid worker's scope."""
    return file_whistle(
        user=org.other_grid_worker,
        item=org.item,
        description="Rubbish by the other village's pond",
        grid=org.other_grid,
        latitude=30.50,
        longitude=120.80,
        address="Pond lane 2",
    ).case


def main_of(response) -> str:
    body = response.content.decode()
    return body[body.index("<main") : body.index("</main>")]


def templates_of(response) -> list[str]:
    return [template.name for template in response.templates]


def test_case_out_of_scope_is_the_layouts_404_in_english(client, org, foreign_case):
    client.force_login(org.grid_worker)
    response = client.get(reverse("cases:detail", args=[foreign_case.pk]), **EN)
    assert response.status_code == 404
    assert "404.html" in templates_of(response)
    assert "base.html" in templates_of(response)
    body = response.content.decode()
    assert '<html lang="en"' in body
    assert NOT_FOUND_EN in body
    assert 'data-testid="error-404"' in body
    # The layout's navigation works for the signed-in user, and a link leads home.
    assert 'class="site-nav"' in body
    assert f'href="{reverse("cases:mine")}"' in body
    assert 'href="/" role="button" data-testid="error-home"' in body
    # Nothing tells the case exists.
    assert foreign_case.number not in body
    assert foreign_case.description not in body


def test_case_out_of_scope_is_the_layouts_404_in_chinese(client, org, foreign_case):
    client.force_login(org.grid_worker)
    response = client.get(reverse("cases:detail", args=[foreign_case.pk]), **ZH)
    assert response.status_code == 404
    assert "404.html" in templates_of(response)
    body = response.content.decode()
    assert '<html lang="zh-hans"' in body
    assert "首页" in body  # the layout's navigation, in Chinese
    assert 'data-testid="error-404"' in body
    assert foreign_case.number not in body


def test_missing_case_and_foreign_case_answer_alike(client, org, foreign_case):
    client.force_login(org.grid_worker)
    foreign_url = reverse("cases:detail", args=[foreign_case.pk])
    missing_url = reverse("cases:detail", args=[foreign_case.pk + 1000])
    foreign = client.get(foreign_url, **EN)
    missing = client.get(missing_url, **EN)
    assert foreign.status_code == missing.status_code == 404
    assert main_of(foreign) == main_of(missing)


@pytest.mark.parametrize("signed_in", [True, False])
def test_unknown_url_is_the_404_page(client, org, signed_in):
    if signed_in:
        client.force_login(org.grid_worker)
    response = client.get("/no/such/page/", **EN)
    assert response.status_code == 404
    assert "404.html" in templates_of(response)
    body = response.content.decode()
    assert NOT_FOUND_EN in body
    assert ('class="site-nav"' in body) is signed_in


@pytest.mark.parametrize(("headers", "text"), [(EN, NOT_ALLOWED_EN), (ZH, NOT_ALLOWED_ZH)])
def test_not_allowed_is_the_layouts_403(client, org, headers, text):
    # A supervisor sees the city's cases but may not blow a whistle.
    client.force_login(org.supervisor)
    response = client.get(reverse("cases:file"), **headers)
    assert response.status_code == 403
    assert "403.html" in templates_of(response)
    assert "base.html" in templates_of(response)
    body = response.content.decode()
    assert text in body
    assert 'data-testid="error-403"' in body
    assert 'class="site-nav"' in body


def test_server_error_page_is_static_and_bilingual(db):
    request = RequestFactory().get("/cases/1/")
    response = server_error(request)
    assert response.status_code == 500
    body = response.content.decode()
    assert 'data-testid="error-500"' in body
    assert "Something went wrong" in body
    assert "服务器出错了" in body
    assert 'href="/"' in body
    assert "Traceback" not in body
    assert "{%" not in body and "{#" not in body


@pytest.mark.parametrize(("language", "word"), [("en", "Bad request"), ("zh-hans", "吹哨报到")])
def test_bad_request_page_renders_without_a_request_context(db, language, word):
    request = RequestFactory().get("/")
    with translation.override(language):
        response = bad_request(request, SuspiciousOperation("secret detail 7f3a"))
    assert response.status_code == 400
    body = response.content.decode()
    assert 'data-testid="error-400"' in body
    assert f'<html lang="{language}"' in body
    assert word in body
    assert "secret detail" not in body
    assert 'href="/" role="button" data-testid="error-home"' in body
