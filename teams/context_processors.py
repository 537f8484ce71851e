"""What every template gets: the deployment's names of its levels (teams.levels)."""

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from teams.levels import level_words


def levels(request: HttpRequest) -> dict:
    """`{{ levels.town }}`, `{{ levels.Towns }}`…: read only by a template that names a level."""
    return {"levels": SimpleLazyObject(level_words)}
