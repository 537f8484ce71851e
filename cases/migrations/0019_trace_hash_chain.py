# Written by hand (several engineers changed models at once).
"""The events' hash chain (cases.trace): a `chain_hash` column, filled for the events already
written, case by case in id order.

The column is added by plain SQL with a kept database default (''): Django's AddField would
rebuild the table on SQLite, losing the append-only triggers (migration 0002), and drop the
default that lets a benchmark's SQL insert leave the column out. The fill updates the events,
which the append-only triggers refuse: on PostgreSQL the migration (run by the tables' owner)
disables the table's user triggers for its own transaction's updates and enables them again;
on SQLite it drops the update trigger and creates it again."""

from django.db import migrations, models
from django.db.models import Q

ADD = """ALTER TABLE "cases_event" ADD COLUMN "chain_hash" varchar(64) DEFAULT '' NOT NULL"""
REMOVE = """ALTER TABLE "cases_event" DROP COLUMN "chain_hash\""""

SQLITE_UPDATE_TRIGGER = """CREATE TRIGGER cases_event_no_update BEFORE UPDATE ON cases_event
    BEGIN SELECT RAISE(ABORT, 'cases_event is append-only: UPDATE refused'); END"""

BATCH = 2000


def fill_chains(apps, schema_editor):
    from cases import trace

    Event = apps.get_model("cases", "Event")
    connection = schema_editor.connection
    if not Event.objects.exists():
        return
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # ALTER TABLE refuses a table with deferred foreign key checks still pending.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE cases_event DISABLE TRIGGER USER")
        elif connection.vendor == "sqlite":
            cursor.execute("DROP TRIGGER IF EXISTS cases_event_no_update")
    # Pages by (case, id), each read whole before it is written (SQLite would see its own
    # writes in an open cursor).
    current, previous = None, ""
    after = Q()
    while True:
        page = list(Event.objects.filter(after).order_by("case_id", "id")[:BATCH])
        if not page:
            break
        for event in page:
            if event.case_id != current:
                current, previous = event.case_id, ""
            event.chain_hash = previous = trace.link(trace.event_values(event), previous)
        Event.objects.bulk_update(page, ["chain_hash"])
        last = page[-1]
        after = Q(case_id__gt=last.case_id) | Q(case_id=last.case_id, id__gt=last.pk)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE cases_event ENABLE TRIGGER USER")
        elif connection.vendor == "sqlite":
            cursor.execute(SQLITE_UPDATE_TRIGGER)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0018_upload_budget"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunSQL(ADD, REMOVE)],
            state_operations=[
                migrations.AddField(
                    model_name="event",
                    name="chain_hash",
                    field=models.CharField(
                        blank=True,
                        db_default="",
                        default="",
                        editable=False,
                        max_length=64,
                        verbose_name="chain hash",
                    ),
                ),
            ],
        ),
        migrations.RunPython(fill_chains, migrations.RunPython.noop),
    ]
