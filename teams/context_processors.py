"""What every template gets: the deployment's names of its levels (teams.levels)."""

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from teams.levels import level_words, on_chain


def levels(request: HttpRequest) -> dict:
    """`{{ levels.town }}`, `{{ levels.Towns }}`…: read only by a template that names a level;
    `top_committee`: whether the top level's committee sits on the escalation chain;
    `prefecture_committee`: whether the one above it does too (four levels)."""
    return {
        "levels": SimpleLazyObject(level_words),
        "top_committee": SimpleLazyObject(lambda: on_chain("city")),
        "prefecture_committee": SimpleLazyObject(lambda: on_chain("prefecture")),
    }
