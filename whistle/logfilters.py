"""Logging filters for the console (settings.LOGGING)."""

import logging


class ClientErrorWithoutTraceback(logging.Filter):
    """An ordinary 4xx (a 403 for the wrong role, a 404 outside one's scope) is the system
    working as meant: log it as one line, so tracebacks in the console mean real faults."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if status is not None and status < 500:
            record.exc_info = None
            record.exc_text = None
        return True
