"""A label never breaks a page: without a database (an error page while it is down, system
checks before migrate) the level names are the defaults, and nothing of that is kept."""

from django.utils import translation

from teams.levels import level_name, level_words, on_chain, whistle_level


def test_without_a_database_the_defaults_answer():
    # No django_db mark: pytest-django refuses every query, as a database that is down would.
    with translation.override("en"):
        assert level_name("town") == "town"
        assert level_words()["Villages"] == "Villages"
    with translation.override("zh-hans"):
        assert level_name("village") == "村(社区)"
    assert whistle_level() == "village" and on_chain("city")


def test_the_forbidden_page_renders_without_a_database(rf):
    from django.core.exceptions import PermissionDenied
    from django.core.handlers.exception import response_for_exception

    with translation.override("en"):
        response = response_for_exception(rf.get("/cases/1/"), PermissionDenied())
    assert response.status_code == 403
