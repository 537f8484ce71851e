"""The events' hash chain (cases.trace) and `manage.py verify_trace`: a clean history verifies;
an event edited, removed or forged behind the application's back, even by a database superuser
with the append-only triggers out of the way, is named."""

import hashlib
import importlib
import io
import threading
import types
from contextlib import contextmanager

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test import override_settings
from django.utils import translation

from cases import trace
from cases.models import Case, Event
from cases.services import report_in, support_case_for_caller
from tests.cases.engine_steps import file_case, resolved_by_team, team_dispatch, whistled

pytestmark = pytest.mark.django_db
APPEND_ONLY = importlib.import_module("cases.migrations.0002_event_append_only_trigger")
CHAIN = importlib.import_module("cases.migrations.0019_trace_hash_chain")


@contextmanager
def triggers_off():
    """What a superuser can do: write to cases_event past its append-only triggers."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        else:
            for statement in APPEND_ONLY.SQLITE_DROP:
                cursor.execute(statement)
        try:
            yield cursor
        finally:
            if connection.vendor == "postgresql":
                cursor.execute("SET session_replication_role = DEFAULT")
            else:
                for statement in APPEND_ONLY.SQLITE_CREATE:
                    cursor.execute(statement)


def verify(*args: str) -> tuple[str, str]:
    """Run verify_trace; (stdout, stderr) when every chain verifies. In English, whatever
    language the tests before left active: the assertions read its words."""
    out, err = io.StringIO(), io.StringIO()
    with translation.override("en"):
        call_command("verify_trace", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def broken(*args: str) -> str:
    """Run verify_trace on a broken trace: its report of the broken links (in English)."""
    err = io.StringIO()
    with pytest.raises(CommandError), translation.override("en"):
        call_command("verify_trace", *args, stdout=io.StringIO(), stderr=err)
    return err.getvalue()


def events(case: Case) -> list[Event]:
    return list(Event.objects.filter(case=case).order_by("id"))


def test_a_clean_history_verifies_and_each_event_links_to_the_one_before(org):
    first = resolved_by_team(org)
    second = whistled(org, description="Broken street light")
    trail = events(first)
    assert len(trail) >= 5
    previous = ""
    for event in trail:
        assert event.chain_hash == trace.link(trace.event_values(event), previous)
        previous = event.chain_hash
    assert len({event.chain_hash for event in trail}) == len(trail)

    out, err = verify()
    assert err == ""
    total = Event.objects.filter(case__in=[first, second]).count()
    assert "2 " in out and f"{total} " in out


def test_an_edited_payload_is_named_with_case_event_and_both_hashes(org):
    case = resolved_by_team(org)
    other = whistled(org, description="Broken street light")
    victim = events(case)[2]
    with triggers_off() as cursor:
        cursor.execute(
            "UPDATE cases_event SET data = %s WHERE id = %s",
            ['{"note": "nothing to see"}', victim.pk],
        )
    edited = Event.objects.get(pk=victim.pk)
    expected = trace.link(trace.event_values(edited), events(case)[1].chain_hash)

    report = broken()
    assert case.number in report and f" {victim.pk} " in report
    assert expected in report and victim.chain_hash in report
    assert other.number not in report  # the other case's chain is whole
    verify("--case", other.number)


def test_a_removed_event_breaks_the_link_of_the_next(org):
    case = resolved_by_team(org)
    trail = events(case)
    with triggers_off() as cursor:
        cursor.execute("DELETE FROM cases_event WHERE id = %s", [trail[2].pk])

    report = broken("--case", case.number)
    assert case.number in report and f" {trail[3].pk} " in report


def test_an_event_moved_to_another_case_breaks_both(org):
    case = resolved_by_team(org)
    other = whistled(org, description="Broken street light")
    moved = events(case)[-1]
    with triggers_off() as cursor:
        cursor.execute("UPDATE cases_event SET case_id = %s WHERE id = %s", [other.pk, moved.pk])

    report = broken()
    assert other.number in report and f" {moved.pk} " in report


def _forge(case: Case, *, chain_hash: str, action: str = "verify_pass") -> int:
    """Insert an event as a superuser would, by SQL; its id."""
    last = events(case)[-1]
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO cases_event (case_id, actor_label, action, from_status, to_status, "
            "from_level, to_level, data, public, created_at, chain_hash, case_filed_at) "
            "VALUES (%s, 'city', %s, %s, 'closed', %s, %s, '{}', %s, %s, %s, %s)",
            [
                case.pk,
                action,
                last.to_status,
                last.to_level,
                last.to_level,
                False,
                last.created_at,
                chain_hash,
                case.filed_at,
            ],
        )
    return Event.objects.filter(case=case).latest("id").pk


def test_a_forged_event_with_a_copied_hash_is_named(org):
    case = resolved_by_team(org)
    forged = _forge(case, chain_hash=events(case)[-1].chain_hash)

    report = broken()
    assert case.number in report and f" {forged} " in report


@override_settings(WHISTLE_TRACE_KEY="kept-outside-the-database")
def test_with_a_key_a_forger_who_knows_the_algorithm_is_caught(org):
    """Without the key, the forger computes the link as plain SHA-256 of the canonical form."""
    case = resolved_by_team(org)
    verify()
    last = events(case)[-1]
    forged = _forge(case, chain_hash="0" * 64)
    values = trace.event_values(Event.objects.get(pk=forged))
    recomputed = hashlib.sha256(trace.canonical(values, last.chain_hash)).hexdigest()
    with triggers_off() as cursor:
        cursor.execute("UPDATE cases_event SET chain_hash = %s WHERE id = %s", [recomputed, forged])

    report = broken()
    assert case.number in report and f" {forged} " in report and recomputed in report


@override_settings(WHISTLE_TRACE_KEY="kept-outside-the-database")
def test_with_another_key_nothing_verifies(org):
    case = file_case(org)
    verify()
    with override_settings(WHISTLE_TRACE_KEY="a guess"):
        assert case.number in broken()


def test_an_unknown_case_number_is_refused(org):
    with pytest.raises(CommandError):
        call_command("verify_trace", "--case", "NO-SUCH")


def test_the_migration_fills_the_chains_of_existing_events_as_the_services_do(org):
    case = whistled(org)
    report_in(user=org.captain, dispatch_id=team_dispatch(case).pk)
    written = {event.pk: event.chain_hash for event in Event.objects.all()}
    with triggers_off() as cursor:
        cursor.execute("UPDATE cases_event SET chain_hash = ''")
    assert broken()

    apps = (
        MigrationExecutor(connection).loader.project_state(("cases", "0019_trace_hash_chain")).apps
    )
    CHAIN.fill_chains(apps, types.SimpleNamespace(connection=connection))

    assert dict(Event.objects.values_list("pk", "chain_hash")) == written
    verify()
    # The append-only triggers are back.
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE cases_event SET action = 'x'")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_writers_at_once_on_one_case_keep_one_chain(org):
    """Real threads with their own connections add events to one case together: the case's
    row lock (PostgreSQL) or the write lock (SQLite) orders them, so each links to the last."""
    case = file_case(org)
    barrier = threading.Barrier(4)
    failures: list[Exception] = []

    def call(thread: int) -> None:
        try:
            barrier.wait(timeout=10)
            for n in range(3):
                support_case_for_caller(case_id=case.pk, caller_reference=f"caller-{thread}-{n}")
        except Exception as error:  # the test inspects what was raised
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=call, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)

    assert failures == []
    assert Event.objects.filter(case=case, action="support").count() == 12
    verify("--case", case.number)


def _save_heads(tmp_path) -> str:
    path = tmp_path / "heads.json"
    verify("--save-heads", str(path))
    return str(path)


def test_a_chain_cut_back_after_its_heads_were_saved_is_named(org, tmp_path):
    case = whistled(org)  # its last event has no attachment pointing at it
    heads = _save_heads(tmp_path)
    last = events(case)[-1]
    with triggers_off() as cursor:
        cursor.execute("DELETE FROM cases_event WHERE id = %s", [last.pk])

    verify()  # what is left is a whole chain: only the anchor shows the cut
    report = broken("--heads", heads)
    assert case.number in report and f" {last.pk}" in report and last.chain_hash in report


def test_a_chain_rewritten_whole_is_caught_by_the_heads_saved_before(org, tmp_path):
    """Without WHISTLE_TRACE_KEY a superuser who knows the algorithm can rebuild a chain after
    an edit; the heads kept outside the database (a backup's heads.json) still show it."""
    case = resolved_by_team(org)
    other = whistled(org, description="Broken street light")
    heads = _save_heads(tmp_path)
    trail = events(case)
    with triggers_off() as cursor:
        cursor.execute("UPDATE cases_event SET actor_label = 'nobody' WHERE id = %s", [trail[1].pk])
        previous = ""
        for event in events(case):
            previous = trace.link(trace.event_values(event), previous)
            cursor.execute(
                "UPDATE cases_event SET chain_hash = %s WHERE id = %s", [previous, event.pk]
            )

    verify()
    report = broken("--heads", heads)
    assert case.number in report and f" {trail[-1].pk}" in report
    assert other.number not in report
