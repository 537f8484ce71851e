"""The trail is append-only in the database: UPDATE and the DELETE of a record younger than the
legal floor (180 days) are refused to every client, on PostgreSQL and SQLite alike; the
retention purge (a beat task) deletes the records older than WHISTLE_AUDIT_RETENTION_DAYS."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.core.checks import run_checks
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from audit.models import MINIMUM_RETENTION_DAYS, AccessKind, AccessRecord
from audit.services import purge_access_records
from audit.tasks import purge_access_records as purge_task
from teams.models import Role
from whistle.celery import app

pytestmark = pytest.mark.django_db


def aged(days: float) -> AccessRecord:
    return AccessRecord.objects.create(
        at=timezone.now() - timedelta(days=days),
        kind=AccessKind.CASE_VIEWED,
        outcome="success",
        username=f"aged-{days}",
    )


def refused(statement) -> bool:
    try:
        with transaction.atomic():
            statement()
    except DatabaseError as error:
        return "append-only" in str(error)
    return False


def test_a_record_cannot_be_changed_or_deleted():
    record = aged(1)
    table = AccessRecord._meta.db_table

    def raw(sql: str):
        def run():
            with connection.cursor() as cursor:
                cursor.execute(sql, [record.pk])

        return run

    assert refused(lambda: AccessRecord.objects.filter(pk=record.pk).update(username="someone"))
    assert refused(lambda: AccessRecord.objects.filter(pk=record.pk).delete())
    assert refused(raw(f"UPDATE {table} SET kind = 'sign_in' WHERE id = %s"))  # noqa: S608
    assert refused(raw(f"DELETE FROM {table} WHERE id = %s"))  # noqa: S608
    record.refresh_from_db()
    assert record.username == "aged-1" and record.kind == AccessKind.CASE_VIEWED


def test_even_an_old_record_cannot_be_changed():
    record = aged(400)
    assert refused(lambda: AccessRecord.objects.filter(pk=record.pk).update(username="x"))


def test_a_record_younger_than_the_floor_cannot_be_deleted_whatever_the_purge_asks():
    record = aged(MINIMUM_RETENTION_DAYS - 1)
    assert refused(lambda: AccessRecord.objects.filter(pk=record.pk).delete())
    assert AccessRecord.objects.filter(pk=record.pk).exists()


def test_the_purge_deletes_only_records_older_than_the_retention(settings):
    settings.WHISTLE_AUDIT_RETENTION_DAYS = 365
    old, kept_by_setting, recent = aged(400), aged(200), aged(10)

    assert purge_access_records() == 1

    remaining = set(AccessRecord.objects.values_list("pk", flat=True))
    assert old.pk not in remaining
    assert {kept_by_setting.pk, recent.pk} <= remaining

    settings.WHISTLE_AUDIT_RETENTION_DAYS = MINIMUM_RETENTION_DAYS
    assert purge_access_records() == 1
    assert set(AccessRecord.objects.values_list("pk", flat=True)) == {recent.pk}


def test_a_retention_below_the_floor_is_an_error_and_the_purge_keeps_the_floor(settings):
    settings.WHISTLE_AUDIT_RETENTION_DAYS = 30
    assert "audit.E001" in {message.id for message in run_checks()}
    kept = aged(100)

    assert purge_access_records() == 0
    assert AccessRecord.objects.filter(pk=kept.pk).exists()


def test_the_beat_runs_the_purge_daily():
    entry = settings.CELERY_BEAT_SCHEDULE["purge-access-records"]
    assert entry["task"] == "audit.tasks.purge_access_records"
    assert entry["task"] in app.tasks
    assert entry["schedule"] <= 86400
    aged(MINIMUM_RETENTION_DAYS + 5)
    assert purge_task.apply().get() == 1


def test_the_role_names_agree():
    from audit.roles import AUDITOR_ROLE

    assert Role.AUDITOR == AUDITOR_ROLE
