"""The application's database role (core.db_roles, `manage.py grant_app_role`): connected as
it, the append-only history cannot be rewritten (no ALTER TABLE ... DISABLE TRIGGER, no
TRUNCATE, no UPDATE, no DELETE, no DDL), while the application's own work goes through.

Roles exist on PostgreSQL only; on SQLite the command sets up nothing and prints no URL, so
`make run` keeps the embedded database's DATABASE_URL (checked here on SQLite)."""

import secrets
from io import StringIO

import psycopg2
import psycopg2.errors
import psycopg2.extensions
import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from assessment.models import CaseFact, TownEvaluation
from assessment.services import record_town_evaluation, refresh_case_facts
from cases import partitions
from cases.models import Event
from cases.services import verify_case
from cases.tasks import create_event_partitions
from core.db_roles import (
    APPEND_ONLY_TABLES,
    NO_UPDATE_TABLES,
    PARTITIONED_TABLES,
    WRITTEN_ONCE_TABLES,
)
from spotchecks.models import SpotCheckCase
from spotchecks.services import record_revisit
from tests.cases.conftest import org  # noqa: F401
from tests.cases.engine_steps import T0, resolved_by_team
from tests.spotchecks.steps import draw

PASSWORD_ENV = "WHISTLE_TEST_APP_ROLE_PASSWORD"


@pytest.fixture(autouse=True)
def _clock_and_media(time_machine, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    time_machine.move_to(T0, tick=False)


def role_name() -> str:
    """Roles are shared by the whole cluster: one name per test database."""
    name = connection.settings_dict["NAME"].lower()
    return ("whistle_app_" + "".join(c if c.isalnum() else "_" for c in name))[:63]


def grant(monkeypatch, role: str) -> tuple[str, str]:
    password = secrets.token_urlsafe(16)
    monkeypatch.setenv(PASSWORD_ENV, password)
    out = StringIO()
    call_command("grant_app_role", role=role, password_env=PASSWORD_ENV, print_url=True, stdout=out)
    return password, out.getvalue().strip()


def connect_as(role: str, password: str) -> psycopg2.extensions.connection:
    settings = connection.settings_dict
    return psycopg2.connect(
        host=settings["HOST"] or "127.0.0.1",
        port=settings["PORT"] or 5432,
        dbname=settings["NAME"],
        user=role,
        password=password,
    )


def denied(app: psycopg2.extensions.connection, sql: str, params: tuple = ()) -> bool:
    """True when PostgreSQL refuses the statement for want of privilege or ownership."""
    try:
        with app.cursor() as cursor:
            cursor.execute(sql, params)
    except psycopg2.errors.InsufficientPrivilege:
        return True
    finally:
        app.rollback()
    return False


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_connected_as_the_application_role_the_history_cannot_be_rewritten(
    org,  # noqa: F811
    monkeypatch,
):
    if connection.vendor != "postgresql":
        out, err = StringIO(), StringIO()
        call_command("grant_app_role", print_url=True, stdout=out, stderr=err)
        assert out.getvalue() == ""
        return
    case = resolved_by_team(org)
    events = Event.objects.filter(case=case).count()
    event_id = Event.objects.filter(case=case).order_by("pk").values_list("pk", flat=True)[0]
    role = role_name()
    password, url = grant(monkeypatch, role)
    assert url.startswith(f"postgres://{role}:") and url.endswith(connection.settings_dict["NAME"])
    app = connect_as(role, password)
    try:
        with app.cursor() as cursor:
            cursor.execute(
                "SELECT rolsuper, rolcreaterole, rolcreatedb, rolbypassrls FROM pg_roles "
                "WHERE rolname = current_user"
            )
            assert cursor.fetchone() == (False, False, False, False)
            # It reads and adds events: a copy of one, whatever the columns are.
            cursor.execute(
                "SELECT string_agg(quote_ident(column_name), ', ') FROM information_schema.columns "
                "WHERE table_name = 'cases_event' AND column_name <> 'id'"
            )
            columns = cursor.fetchone()[0]
            cursor.execute(
                f"INSERT INTO cases_event ({columns}) SELECT {columns} FROM cases_event "  # noqa: S608
                "WHERE id = %s RETURNING id",
                [event_id],
            )
            added = cursor.fetchone()[0]
            cursor.execute("SELECT count(*) FROM cases_event WHERE case_id = %s", [case.pk])
            assert cursor.fetchone()[0] == events + 1
        app.commit()

        # The review's attack, step by step: each one is refused.
        assert denied(app, "ALTER TABLE cases_event DISABLE TRIGGER ALL")
        assert denied(app, "ALTER TABLE cases_event DISABLE TRIGGER cases_event_no_update")
        assert denied(app, "TRUNCATE cases_event")
        assert denied(app, "UPDATE cases_event SET case_id = case_id WHERE id = %s", (added,))
        assert denied(app, "DELETE FROM cases_event WHERE id = %s", (added,))
        assert denied(app, "SELECT * FROM cases_event WHERE id = %s FOR UPDATE", (added,))
        assert denied(app, "DROP TABLE cases_event")
        assert denied(app, "CREATE TABLE whistle_intruder (id int)")
        assert denied(app, "CREATE TRIGGER t BEFORE INSERT ON cases_case EXECUTE FUNCTION f()")
        # The same for the other records that must not change once written.
        tables = set(connection.introspection.table_names())
        append_only = [t for t in APPEND_ONLY_TABLES if t in tables]
        written_once = [t for t in WRITTEN_ONCE_TABLES if t in tables]
        no_update = [t for t in NO_UPDATE_TABLES if t in tables]
        assert len(append_only) == len(APPEND_ONLY_TABLES) and written_once
        for table in (*append_only, *written_once, *no_update):
            assert denied(app, f"TRUNCATE {table}"), table
            assert denied(app, f"ALTER TABLE {table} DISABLE TRIGGER ALL"), table
        for table in (*append_only, *no_update):
            assert denied(app, f"UPDATE {table} SET id = id"), table  # noqa: S608
        for table in (*append_only, *written_once):
            assert denied(app, f"DELETE FROM {table}"), table  # noqa: S608
        # A partition of the log is reached through the log alone, and only the owner's
        # function makes one.
        assert denied(app, "SELECT 1 FROM cases_event_default")
        assert denied(app, "DELETE FROM cases_event_default")
        assert denied(app, "ALTER TABLE cases_event DETACH PARTITION cases_event_default")
        assert denied(
            app,
            "CREATE TABLE cases_event_2031_01 PARTITION OF cases_event "
            "FOR VALUES FROM ('2031-01-01') TO ('2031-02-01')",
        )
        # The same for the deadlines' partitions (cases 0027) and the facts' (assessment
        # 0017); the owner's function makes the months of these four tables and of no other.
        # core.db_roles names them itself (it imports no app): the same tables.
        assert set(PARTITIONED_TABLES) == set(partitions.TABLES)
        assert denied(app, "SELECT 1 FROM cases_deadline_default")
        assert denied(app, "UPDATE cases_deadline_default SET postponed = postponed")
        assert denied(app, "ALTER TABLE cases_deadline DETACH PARTITION cases_deadline_default")
        for facts in ("assessment_casefact", "assessment_dispatchfact"):
            assert denied(app, f"SELECT 1 FROM {facts}_default")  # noqa: S608
            assert denied(app, f"DELETE FROM {facts}_default")  # noqa: S608
            assert denied(app, f"ALTER TABLE {facts} DETACH PARTITION {facts}_default")
            assert not denied(app, f"SELECT whistle_default_rows('{facts}')")
        with pytest.raises(psycopg2.errors.RaiseException, match="not partitioned by month"):
            try:
                with app.cursor() as cursor:
                    cursor.execute(
                        "SELECT whistle_partitions('cases_case', '2031-01-01', '2031-01-01', 'UTC')"
                    )
            finally:
                app.rollback()
        assert not denied(app, "SELECT whistle_default_rows('cases_deadline')")
        # Nor may it fake the schema's history, or empty an ordinary table.
        assert denied(app, "DELETE FROM django_migrations")
        assert denied(app, "TRUNCATE cases_case CASCADE")
        # What it may do to ordinary rows it still does.
        assert not denied(app, "UPDATE cases_case SET version = version WHERE id = %s", (case.pk,))
    finally:
        app.close()
        with connection.cursor() as cursor:
            cursor.execute(f'DROP OWNED BY "{role}"')
            cursor.execute(f'DROP ROLE "{role}"')
    assert Event.objects.filter(case=case).count() == events + 1


@pytest.mark.django_db
def test_the_application_works_as_its_role(org, monkeypatch):  # noqa: F811
    """The services run on a connection switched to the role (SET LOCAL ROLE, undone with the
    test's transaction, the role's creation included): filing through closing, a spot check,
    two evaluations; then the same connection cannot rewrite what they wrote."""
    if connection.vendor != "postgresql":
        out = StringIO()
        call_command("grant_app_role", stdout=out, stderr=StringIO())
        assert out.getvalue() == ""
        return
    role = role_name() + "_s"
    grant(monkeypatch, role)
    with connection.cursor() as cursor:
        cursor.execute(f'SET LOCAL ROLE "{role}"')
        cursor.execute("SELECT current_user")
        assert cursor.fetchone()[0] == role
    case = resolved_by_team(org)
    verify_case(user=org.grid_worker, case_id=case.pk, passed=True, reason="Clean now")
    draw(org, size=1, seed=3)
    record_revisit(user=org.supervisor, case_id=case.pk, outcome="confirmed")
    for score in (80, 60):
        record_town_evaluation(
            user=org.town_committee,
            town_id=org.town.pk,
            department_id=org.department.pk,
            month=T0.date(),
            score=score,
        )
    assert Event.objects.filter(case=case, action="spot_check_confirmed").exists()
    assert SpotCheckCase.objects.get(case=case).outcome == "confirmed"
    assert TownEvaluation.current().get().score == 60
    # The beat's task, run as the role, makes the log's months through the owner's function
    # and moves the events the default partition caught into June's. The facts are written as
    # the role too, into the partitioned tables, and move with them.
    assert refresh_case_facts(case_id=case.pk)
    if partitions.state().default_rows:
        assert create_event_partitions() >= 1
        assert partitions.state().default_rows == 0 and T0.date().replace(day=1) in (
            partitions.state().months
        )
        clocks = partitions.state(table=partitions.DEADLINES)
        assert clocks.default_rows == 0 and T0.date().replace(day=1) in clocks.months
        for table in (partitions.CASE_FACTS, partitions.DISPATCH_FACTS):
            facts = partitions.state(table=table)
            assert facts.default_rows == 0 and T0.date().replace(day=1) in facts.months
        assert refresh_case_facts(case_id=case.pk)  # over the same rows, in June's partition
        assert CaseFact.objects.filter(case=case).count() == 1

    def execute(sql: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute(sql, [case.pk])

    for change in (
        # The Event queryset refuses these in Python already: raw SQL goes past it.
        lambda: execute("UPDATE cases_event SET case_id = case_id WHERE case_id = %s"),
        lambda: execute("DELETE FROM cases_event WHERE case_id = %s"),
        lambda: TownEvaluation.objects.update(score=100),
        lambda: SpotCheckCase.objects.filter(case=case).delete(),
    ):
        with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
            change()
