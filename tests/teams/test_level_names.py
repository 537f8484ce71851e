"""A deployment names its three levels (teams.levels): every page says its names.

The page test asks every page of the permission matrix that a role opens (200) with the tiers
named district / street / community, in English and in Chinese, and looks for the default
words in what a user reads: the text and the labels, titles and messages of the elements."""

import re
from html.parser import HTMLParser

import pytest
from django.core.cache import cache
from django.db.models import F, Value
from django.db.models.functions import Concat
from django.test import Client
from django.urls import reverse
from django.utils import translation

from checklists.models import Aspect, Item
from consultation.models import Consultation
from teams.levels import (
    committee_choices,
    level_choices,
    level_name,
    level_words,
    on_chain,
    with_levels,
)
from teams.models import Grid, LevelName, Region, User
from tests.security.scenario import ROLES, build_objects, build_org
from tests.security.test_permission_matrix import EXPECTATIONS, TARGETS, url_names

pytestmark = pytest.mark.django_db

LONGGANG = {
    "city": ("district", "districts", "区"),
    "town": ("street", "streets", "街道"),
    "village": ("community", "communities", "社区"),
}


def name_levels(names: dict[str, tuple[str, str, str]] = LONGGANG) -> None:
    for level, (en, plural, zh) in names.items():
        LevelName.objects.update_or_create(
            level=level, defaults={"name_en": en, "plural_en": plural, "name_zh": zh}
        )


def test_the_defaults_until_the_deployment_names_its_levels():
    with translation.override("en"):
        assert [level_name(level) for level in ("city", "town", "village")] == [
            "city",
            "town",
            "village",
        ]
        assert level_words()["Towns"] == "Towns"
        assert level_words()["cities"] == "cities"
    with translation.override("zh-hans"):
        assert level_name("village") == "村(社区)"


def test_named_levels_in_both_languages_and_read_again_after_an_edit():
    message = with_levels("The %(town)s committee of %(Cities)s")
    with translation.override("en"):
        assert str(message) == "The town committee of Cities"
        name_levels()
        assert str(message) == "The street committee of Districts"
        assert level_name("village", plural=True) == "communities"
        assert level_name("village", capital=True) == "Community"
        assert [str(label) for _value, label in level_choices()] == [
            "prefecture",
            "district",
            "street",
            "community",
        ]
        assert [str(label) for _value, label in committee_choices()] == [
            "street committee",
            "district committee",
            "prefecture committee",
        ]
        assert Region(level="town").get_level_display() == "street"
    with translation.override("zh-hans"):
        assert level_name("town") == "街道"
        assert level_words()["Towns"] == "街道"
    LevelName.objects.filter(level="town").update(name_en="subdistrict", plural_en="")
    with translation.override("en"):
        assert level_name("town") == "subdistrict"
        assert level_name("town", plural=True) == "subdistricts"  # an empty plural: name + s


def test_the_admin_names_the_levels_and_never_deletes_one(client):
    admin = User.objects.create_superuser("root-levels", password="x-Secret-2026!")
    client.force_login(admin)
    add = reverse("admin:teams_levelname_add")
    for level, (en, plural, zh) in LONGGANG.items():
        response = client.post(
            add,
            {
                "level": level,
                "name_en": en,
                "plural_en": plural,
                "name_zh": zh,
                "committee": "on",
                "in_use": "on",
            },
        )
        assert response.status_code == 302, response.content
    # The level above the top (four levels) is named the same way; its committee sits on the
    # chain only while the level is in use.
    above = {"level": "prefecture", "name_en": "city", "plural_en": "", "name_zh": "市"}
    refused = client.post(add, {**above, "committee": "on"})
    assert refused.status_code == 200 and not LevelName.objects.filter(level="prefecture")
    assert client.post(add, {**above, "committee": "on", "in_use": "on"}).status_code == 302
    assert on_chain("prefecture")
    assert client.get(add).status_code == 403  # the four tiers are named: nothing to add
    row = LevelName.objects.get(level="town")
    assert client.post(reverse("admin:teams_levelname_delete", args=[row.pk])).status_code == 403
    with translation.override("en"):
        assert level_name("town") == "street"
    changelist = client.get(reverse("admin:teams_levelname_changelist"), HTTP_ACCEPT_LANGUAGE="en")
    assert "middle level (town or street)" in changelist.content.decode()


# --- every page says the deployment's names -------------------------------------------------------

# What a user reads of an element besides its text.
READ_ATTRIBUTES = {"aria-label", "title", "placeholder", "alt", "content"}
BUTTON_INPUTS = {"submit", "button", "reset"}
DEFAULT_WORDS = {
    "en": re.compile(r"\b(towns?|villages?|city|cities)\b", re.IGNORECASE),
    "zh-hans": re.compile(r"[镇村]"),
}


class ReadText(HTMLParser):
    """The text of a page as a user reads it (scripts and styles left out)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "style"}:
            self._skip += 1
        button = tag == "input" and dict(attrs).get("type") in BUTTON_INPUTS
        for name, value in attrs:
            read = name in READ_ATTRIBUTES or name.startswith("data-msg")
            if value and (read or (button and name == "value")):
                self.parts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style"} and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def read_text(html: str) -> list[str]:
    reader = ReadText()
    reader.feed(html)
    return [part.strip() for part in reader.parts if part.strip()]


def pages_opened_by(role_index: int) -> list[str]:
    """The page URLs (not the API's) the matrix expects this role to open, inside its scope."""
    names = []
    for name in sorted(url_names()):
        target = TARGETS[name]
        if name.startswith("api:") or target.method != "GET" or target.query:
            continue
        expected = EXPECTATIONS[name]
        row = expected[0] if isinstance(expected, tuple) else expected
        if row.split()[role_index] == "200":
            names.append(name)
    return names


def data_words() -> list[str]:
    """What users typed or the checklist names ("City appearance", a place "Town hall"): data,
    not labels; longest first, so a name is taken out whole."""
    words = [
        *Aspect.objects.values_list("name_en", flat=True),
        *Aspect.objects.values_list("name_zh", flat=True),
        *Item.objects.values_list("name_en", flat=True),
        *Item.objects.values_list("name_zh", flat=True),
        *Consultation.objects.values_list("place", flat=True),
    ]
    return sorted({word for word in words if word}, key=len, reverse=True)


def without(text: str, data: list[str]) -> str:
    for word in data:
        text = text.replace(word, " ")
    return text


@pytest.fixture
def longgang_world(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    org = build_org(prefix="u", city_code="LG", lng=120.70, shape="longgang")  # no "town" user
    objects = build_objects(org)
    # Place names are the data's, not labels: neutral ones, so the words found are the labels'.
    Region.objects.update(name_en=Concat(Value("Place "), F("code")), name_zh=F("code"))
    Grid.objects.update(name_en=Concat(Value("Patch "), F("code")), name_zh=F("code"))
    name_levels()
    return org, objects


def page_texts(org, objects, language: str, *, leave_out: tuple[str, ...] = ()):
    """(page, role, text) of every page the matrix expects each role to open, as it reads it;
    then the number of pages asked, on the last line (a None page)."""
    asked = 0
    for index, role in enumerate(ROLES):
        if role == "anonymous" or role in leave_out:
            continue
        client = Client(HTTP_ACCEPT_LANGUAGE=language)
        client.force_login(getattr(org, role))
        for name in pages_opened_by(index):
            target = TARGETS[name]
            url = reverse(name, kwargs=target.args(objects) if target.args else {})
            cache.clear()
            response = client.get(url)
            if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
                continue
            asked += 1
            for text in read_text(response.content.decode()):
                yield name, role, text
    yield None, None, str(asked)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_no_page_says_town_village_or_city_where_the_deployment_says_otherwise(
    longgang_world, language
):
    org, objects = longgang_world
    found: dict[str, set[str]] = {}
    for name, role, text in page_texts(org, objects, language):
        if name is None:
            assert int(text) > 40
        elif DEFAULT_WORDS[language].search(text):
            found.setdefault(f"{name} ({role})", set()).add(text[:160])
    data = data_words()
    found = {
        page: {text for text in texts if DEFAULT_WORDS[language].search(without(text, data))}
        for page, texts in found.items()
    }
    found = {page: texts for page, texts in found.items() if texts}
    assert not found, "\n".join(f"{page}: {sorted(texts)}" for page, texts in sorted(found.items()))
