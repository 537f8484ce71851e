"""What the console shows (whistle/settings.py LOGGING): an ordinary 403 or 404 is one line, a
server error keeps its traceback."""

import logging

from django.core.exceptions import PermissionDenied
from django.core.handlers.exception import response_for_exception
from django.test import RequestFactory


def _request_records(caplog, exc: Exception) -> list[logging.LogRecord]:
    request = RequestFactory().get("/cases/1/")
    with caplog.at_level(logging.INFO):
        caplog.clear()
        response_for_exception(request, exc)
    return [r for r in caplog.records if r.name == "django.request"]


def test_a_permission_denied_is_logged_as_one_line_without_a_traceback(caplog):
    (record,) = _request_records(caplog, PermissionDenied())
    assert record.getMessage() == "Forbidden (Permission denied): /cases/1/"
    assert record.exc_info is None
    assert caplog.text.strip().count("\n") == 0
    assert "Traceback" not in caplog.text


def test_a_page_not_found_is_logged_as_one_line(caplog, client, db):
    with caplog.at_level(logging.INFO):
        client.get("/no-such-page/")
    records = [r for r in caplog.records if r.name == "django.request"]
    assert [r.getMessage() for r in records] == ["Not Found: /no-such-page/"]
    assert "Traceback" not in caplog.text


def test_a_server_error_keeps_its_traceback(caplog, settings):
    settings.DEBUG_PROPAGATE_EXCEPTIONS = False
    try:
        raise RuntimeError("boom")
    except RuntimeError as exc:
        records = _request_records(caplog, exc)
    assert any(r.exc_info for r in records)
    assert "Traceback" in caplog.text
