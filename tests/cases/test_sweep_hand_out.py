"""The beat's sweep hands due deadlines to the workers in claimed batches (cases.sweep.hand_out)
and a batch of firings shares its reads and queues its side effects once (cases.batching)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from kombu.exceptions import OperationalError

from cases import batching, sweep
from cases.models import Deadline, Delivery, Event, Notification
from tests.cases.test_sweep_workers import due_cases

pytestmark = pytest.mark.django_db


def keep_batches(batches: list[list[int]]):
    """A `send` for hand_out that keeps each batch's ids (and checks it names their months)."""

    def send(ids: list[int], filed: list) -> None:
        months = Deadline.objects.filter(pk__in=ids).values_list("case_filed_at", flat=True)
        assert sorted(set(months)) == filed
        batches.append(ids)

    return send


def test_a_burst_is_handed_out_in_claimed_batches_once(org):
    due_cases(org=org, count=250)
    sent: list[list[int]] = []

    handed = sweep.hand_out(send=keep_batches(sent))

    assert handed == 250
    assert [len(batch) for batch in sent] == [100, 100, 50]
    ids = [pk for batch in sent for pk in batch]
    assert len(set(ids)) == 250
    # Claimed, not fired: the workers fire them.
    assert Deadline.objects.filter(pk__in=ids, claimed_until__isnull=False).count() == 250
    assert not Deadline.objects.filter(fired_at__isnull=False).exists()
    # An overlapping sweep finds nothing to hand out while the claims hold.
    again: list[list[int]] = []
    assert sweep.hand_out(send=keep_batches(again)) == 0
    assert again == []


def test_a_claim_left_by_a_dead_worker_lapses_and_is_handed_out_again(org):
    due_cases(org=org, count=150)
    first: list[list[int]] = []
    sweep.hand_out(send=keep_batches(first))

    later = timezone.now() + timedelta(seconds=sweep.CLAIM_SECONDS + 1)
    second: list[list[int]] = []
    sweep.hand_out(send=keep_batches(second), now=later)

    assert sorted(pk for batch in second for pk in batch) == sorted(
        pk for batch in first for pk in batch
    )


def test_a_batch_whose_worker_died_mid_way_is_handed_out_again_within_seconds(org):
    """A worker that begins a batch cuts its claim (sweep.begin_batch); killed before firing
    it all, the rest is handed out FIRING_CLAIM_SECONDS later. A batch not begun (still in the
    queue) keeps the whole claim."""
    due_cases(org=org, count=250)
    now = timezone.now()
    sent: list[list[int]] = []
    sweep.hand_out(send=keep_batches(sent), now=now)
    begun, waiting = sent[0], sent[1] + sent[2]
    sweep.begin_batch(deadline_ids=begun, now=now + timedelta(seconds=1))  # then killed

    def taken_at(seconds: float) -> list[int]:
        """What a sweep at `seconds` hands out, or fires itself (a hundred or fewer)."""
        fired_before = set(Deadline.objects.filter(fired_at__isnull=False).values_list("pk"))
        again: list[list[int]] = []
        sweep.hand_out(send=keep_batches(again), now=now + timedelta(seconds=seconds))
        fired = set(Deadline.objects.filter(fired_at__isnull=False).values_list("pk"))
        return sorted(
            {pk for batch in again for pk in batch} | {pk for (pk,) in fired - fired_before}
        )

    assert taken_at(sweep.FIRING_CLAIM_SECONDS) == []
    assert taken_at(sweep.FIRING_CLAIM_SECONDS + 2) == sorted(begun)
    assert taken_at(sweep.CLAIM_SECONDS - 1) == []
    assert taken_at(sweep.CLAIM_SECONDS + 1) == sorted(waiting)
    # The workers' task begins and fires: each deadline once, the claims cleared.
    assert sweep.fire_handed_out(deadline_ids=waiting) == 150
    assert Event.objects.filter(action="overdue").count() == 250
    assert not Deadline.objects.filter(claimed_until__isnull=False).exists()


def test_a_handed_out_batch_fires_each_deadline_once_even_when_delivered_twice(org):
    due_cases(org=org, count=120)
    sent: list[list[int]] = []
    sweep.hand_out(send=keep_batches(sent))

    fired = sum(sweep.fire_deadlines(deadline_ids=batch) for batch in sent)
    redelivered = sum(sweep.fire_deadlines(deadline_ids=batch) for batch in sent)

    assert (fired, redelivered) == (120, 0)
    assert Event.objects.filter(action="overdue").count() == 120
    assert not Deadline.objects.filter(claimed_until__isnull=False).exists()


def test_when_the_broker_refuses_a_batch_the_sweep_fires_it_itself(org):
    due_cases(org=org, count=150)

    def broker_down(ids: list[int], filed: list) -> None:
        raise OperationalError("connection refused")

    assert sweep.hand_out(send=broker_down) == 150
    assert Deadline.objects.filter(fired_at__isnull=False).count() == 150
    assert Event.objects.filter(action="overdue").count() == 150


def test_a_few_due_deadlines_are_fired_at_once_without_the_broker(org):
    due_cases(org=org, count=3)
    sent: list[list[int]] = []

    assert sweep.hand_out(send=keep_batches(sent)) == 3

    assert sent == []
    assert Deadline.objects.filter(fired_at__isnull=False).count() == 3


def test_a_batch_reads_reference_rows_once_and_queues_one_task_per_kind(
    org, django_capture_on_commit_callbacks
):
    deadlines = due_cases(org=org, count=40)

    with CaptureQueriesContext(connection) as queries, batching.batch_scope() as scope:
        with django_capture_on_commit_callbacks(execute=True):
            fired = sweep.fire_deadlines(deadline_ids=[d.pk for d in deadlines])
        # The after-commit sends of 40 firings wait in the scope: one list per kind.
        pending = {kind: list(ids) for kind, (_sender, ids) in scope.pending.items()}

    assert fired == 40
    notices = Notification.objects.filter(kind="overdue").values_list("pk", flat=True)
    assert len(notices) == 40
    # Their mail deliveries: one task for the batch's channel.
    mail = Delivery.objects.filter(notification__in=list(notices), channel="mail")
    assert sorted(pending["deliver:mail"]) == sorted(mail.values_list("pk", flat=True))
    assert mail.count() == 40
    assert sorted(pending["refresh_case_facts"]) == sorted(d.case_id for d in deadlines)
    assert scope.pending == {}  # sent when the scope ended
    # The village officers are read once for the batch, not once per firing.
    holder_reads = [q for q in queries.captured_queries if '"teams_membership"' in q["sql"]]
    assert len(holder_reads) == 1
    # The 40 notices and their deliveries are stored together: one insert each, and one read
    # of the recipients' alert preferences.
    sql = [q["sql"] for q in queries.captured_queries]
    assert len([q for q in sql if q.startswith('INSERT INTO "cases_notification"')]) == 1
    assert len([q for q in sql if q.startswith('INSERT INTO "cases_delivery"')]) == 1
    assert len([q for q in sql if 'FROM "teams_alertpreference"' in q]) == 1


def test_outside_a_batch_nothing_is_remembered():
    calls = []

    def compute():
        calls.append(1)
        return len(calls)

    assert batching.remember(("k",), compute) == 1
    assert batching.remember(("k",), compute) == 2
    with batching.batch_scope():
        assert batching.remember(("k",), compute) == 3
        assert batching.remember(("k",), compute) == 3


def test_a_firing_that_fails_holds_up_only_its_own_case(org):
    """The batch fires in one transaction; when one firing fails (here the database refuses
    that case's event), the batch is fired again one deadline at a time."""
    deadlines = due_cases(org=org, count=5)
    broken = deadlines[2].case_id
    create, drop = _refusing_trigger(case_id=broken)
    with connection.cursor() as cursor:
        cursor.execute(create)
    try:
        fired = sweep.fire_deadlines(deadline_ids=[d.pk for d in deadlines])
    finally:
        with connection.cursor() as cursor:
            cursor.execute(drop)

    assert fired == 4
    assert set(Event.objects.values_list("case_id", flat=True)) == {
        d.case_id for d in deadlines
    } - {broken}
    assert Deadline.objects.get(case_id=broken).fired_at is None
    # Once the database takes it, the next sweep fires it.
    assert sweep.sweep() == 1
    assert Event.objects.filter(case_id=broken).count() == 1


def _refusing_trigger(*, case_id: int) -> tuple[str, str]:
    if connection.vendor == "postgresql":
        return (
            f"""
            CREATE FUNCTION test_refuse_event() RETURNS trigger AS $$
            BEGIN
                IF NEW.case_id = {case_id} THEN RAISE EXCEPTION 'refused for the test'; END IF;
                RETURN NEW;
            END $$ LANGUAGE plpgsql;
            CREATE TRIGGER test_refuse_event BEFORE INSERT ON cases_event
            FOR EACH ROW EXECUTE FUNCTION test_refuse_event();
            """,
            "DROP TRIGGER test_refuse_event ON cases_event; DROP FUNCTION test_refuse_event();",
        )
    return (
        f"""
        CREATE TRIGGER test_refuse_event BEFORE INSERT ON cases_event
        WHEN NEW.case_id = {case_id}
        BEGIN SELECT RAISE(ABORT, 'refused for the test'); END;
        """,
        "DROP TRIGGER test_refuse_event;",
    )


def test_a_batch_handed_out_with_its_months_reads_every_deadline_in_them(org):
    """The sweep hands out each batch with its cases' filing times, so the worker's statements
    name those months' partitions; a batch queued by an older sweep, without them, reads them
    first."""
    due_cases(org=org, count=150)
    batches: list[tuple[list[int], list]] = []
    sweep.hand_out(send=lambda ids, filed: batches.append((ids, filed)))
    (ids, filed), (older, _months) = batches

    with CaptureQueriesContext(connection) as queries:
        assert sweep.fire_handed_out(deadline_ids=ids, filed=filed) == 100
    on_deadlines = [q["sql"] for q in queries if '"cases_deadline"' in q["sql"]]
    assert on_deadlines and all("case_filed_at" in sql for sql in on_deadlines)
    assert not [sql for sql in on_deadlines if "DISTINCT" in sql]

    with CaptureQueriesContext(connection) as queries:
        assert sweep.fire_handed_out(deadline_ids=older) == 50
    assert len([q for q in queries if "DISTINCT" in q["sql"]]) == 1
