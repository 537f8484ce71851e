# Written by hand: PostgreSQL's declarative partitioning has no Django operation.
"""The assessment facts partitioned by month on PostgreSQL, as the event log and the deadlines
are (cases.partitions, docs/architecture.md "Partitioned history").

A case's facts are partitioned by its filing time (`filed_at`) and a dispatch's by when it was
sent (`dispatched_at`): the times a period's counts select them by, so a period's counts read
its months. Each table is rebuilt in one transaction: renamed, the partitioned one created
like it with the months that hold rows and the next ones, every row copied, the old table
dropped, and its indexes and foreign keys made again under their old names. The primary keys
become (case, filed_at) and (dispatch, dispatched_at); the dispatch facts' link to their
case's facts loses its database constraint (a foreign key can only point at a partitioned
table through a key that holds the partition column); a dispatch's facts go only with its
case's.

The owner's functions of migration cases 0027 (`whistle_partitions`, `whistle_default_rows`)
learn the two tables and their partition columns. On SQLite the pairs get the unique index
the refresh's upsert names. Backwards, everything is as it was, every row kept."""

import datetime
import importlib
import zoneinfo

from django.conf import settings
from django.db import migrations, models

MONTHS_AHEAD = 3

# Each table, the column of its key and the column of its month.
TABLES = (
    ("assessment_casefact", "case_id", "filed_at"),
    ("assessment_dispatchfact", "dispatch_id", "dispatched_at"),
)

MAINTAIN = """
CREATE OR REPLACE FUNCTION whistle_partitions(
    parent text, first_month date, last_month date, zone text
) RETURNS integer LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    months date[];
    m date;
    part text;
    grantee oid;
    caught text := parent || '_default';
    moving boolean := false;
    month_column text;
BEGIN
    month_column := CASE parent
        WHEN 'cases_event' THEN 'case_filed_at'
        WHEN 'cases_deadline' THEN 'case_filed_at'
        WHEN 'assessment_casefact' THEN 'filed_at'
        WHEN 'assessment_dispatchfact' THEN 'dispatched_at'
    END;
    IF month_column IS NULL THEN
        RAISE EXCEPTION '% is not partitioned by month', parent;
    END IF;
    EXECUTE format(
        'SELECT array_agg(wanted.m ORDER BY wanted.m) FROM ('
        '  SELECT generate_series(%L::date, %L::date, interval ''1 month'')::date AS m'
        '  UNION'
        '  SELECT date_trunc(''month'', %I AT TIME ZONE %L)::date FROM %I'
        ') AS wanted '
        'WHERE to_regclass(format(''%%s_%%s'', %L, to_char(wanted.m, ''YYYY_MM''))) IS NULL',
        first_month, last_month, month_column, zone, caught, parent
    ) INTO months;
    IF months IS NULL THEN
        RETURN 0;
    END IF;
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I)', caught) INTO moving;
    IF moving THEN
        EXECUTE format('LOCK TABLE %I IN ACCESS EXCLUSIVE MODE', parent);
        EXECUTE format('ALTER TABLE %I DETACH PARTITION %I', parent, caught);
        EXECUTE format('ALTER TABLE %I RENAME TO %I', caught, caught || '_moving');
    END IF;
    FOREACH m IN ARRAY months LOOP
        part := format('%s_%s', parent, to_char(m, 'YYYY_MM'));
        EXECUTE format(
            'CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
            part,
            parent,
            m::timestamp AT TIME ZONE zone,
            (m + interval '1 month')::timestamp AT TIME ZONE zone
        );
        FOR grantee IN
            SELECT DISTINCT acl.grantee FROM pg_class c, aclexplode(c.relacl) acl
            WHERE c.oid = part::regclass AND acl.grantee NOT IN (c.relowner, 0)
        LOOP
            EXECUTE format('REVOKE ALL ON TABLE %I FROM %I', part, pg_get_userbyid(grantee));
        END LOOP;
    END LOOP;
    IF moving THEN
        EXECUTE format('CREATE TABLE %I PARTITION OF %I DEFAULT', caught, parent);
        EXECUTE format('INSERT INTO %I SELECT * FROM %I', parent, caught || '_moving');
        EXECUTE format('DROP TABLE %I', caught || '_moving');
    END IF;
    RETURN array_length(months, 1);
END
$$;

CREATE OR REPLACE FUNCTION whistle_default_rows(parent text) RETURNS bigint
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    caught bigint;
BEGIN
    IF parent NOT IN (
        'cases_event', 'cases_deadline', 'assessment_casefact', 'assessment_dispatchfact'
    ) THEN
        RAISE EXCEPTION '% is not partitioned by month', parent;
    END IF;
    EXECUTE format('SELECT COUNT(*) FROM %I', parent || '_default') INTO caught;
    RETURN caught;
END
$$;
"""


def _months(cursor, table: str, month_column: str) -> tuple[datetime.date, datetime.date]:
    """From the first month of the table's rows (or this month) to MONTHS_AHEAD ahead."""
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    cursor.execute(f"SELECT MIN({month_column}) FROM {table}")  # noqa: S608
    now = datetime.datetime.now(tz=zone)
    first = cursor.fetchone()[0] or now
    first = first.astimezone(zone).date().replace(day=1)
    last = now.date().replace(day=1)
    for _ in range(MONTHS_AHEAD):
        last = (last + datetime.timedelta(days=32)).replace(day=1)
    return first, last


def _rebuild(cursor, table: str, key: str, month_column: str, *, partitioned: bool) -> None:
    """Make `table` again, partitioned by month or as one table, with every row, and its
    indexes and foreign keys under their names (read from the catalogue, as Django made them)."""
    cursor.execute(
        "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() "
        "AND tablename = %s AND indexname <> %s",
        [table, f"{table}_pkey"],
    )
    indexes = [row[0].replace(" ON ONLY ", " ON ") for row in cursor.fetchall()]
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype = 'f'",
        [table],
    )
    foreign_keys = cursor.fetchall()
    before = f"{table}_before"
    cursor.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
    cursor.execute(f"ALTER TABLE {table} RENAME TO {before}")
    cursor.execute(f"ALTER TABLE {before} RENAME CONSTRAINT {table}_pkey TO {before}_pkey")
    like = f"LIKE {before} INCLUDING DEFAULTS INCLUDING CONSTRAINTS"
    if partitioned:
        first, last = _months(cursor, before, month_column)
        cursor.execute(
            f"CREATE TABLE {table} ({like}, CONSTRAINT {table}_pkey "
            f"PRIMARY KEY ({key}, {month_column})) PARTITION BY RANGE ({month_column})"
        )
        cursor.execute(f"CREATE TABLE {table}_default PARTITION OF {table} DEFAULT")
        cursor.execute(
            "SELECT whistle_partitions(%s, %s, %s, %s)", [table, first, last, settings.TIME_ZONE]
        )
    else:
        cursor.execute(f"CREATE TABLE {table} ({like}, CONSTRAINT {table}_pkey PRIMARY KEY ({key}))")
    cursor.execute(f"INSERT INTO {table} SELECT * FROM {before}")  # noqa: S608
    cursor.execute(f"DROP TABLE {before}")
    for index in indexes:
        cursor.execute(index)
    for name, definition in foreign_keys:
        cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")


# SQLite's unique indexes for the refresh's upsert (on PostgreSQL the primary key is the pair).
UNIQUE_PAIRS = (
    ("casefact_case_month", "assessment_casefact", "case_id, filed_at"),
    ("dispfact_dispatch_month", "assessment_dispatchfact", "dispatch_id, dispatched_at"),
)


def partition(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(MAINTAIN)
            for table, key, month_column in TABLES:
                _rebuild(cursor, table, key, month_column, partitioned=True)
    elif connection.vendor == "sqlite":
        for name, table, columns in UNIQUE_PAIRS:
            schema_editor.execute(f"CREATE UNIQUE INDEX {name} ON {table} ({columns})")


def unpartition(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for table, key, month_column in TABLES:
                _rebuild(cursor, table, key, month_column, partitioned=False)
            deadlines = importlib.import_module("cases.migrations.0027_deadline_partitions")
            cursor.execute(
                deadlines.MAINTAIN.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION")
            )
    elif connection.vendor == "sqlite":
        for name, _table, _columns in UNIQUE_PAIRS:
            schema_editor.execute(f"DROP INDEX {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("assessment", "0016_level_names_solved_by"),
        ("cases", "0029_dispatch_clock_deadline"),
    ]

    operations = [
        migrations.AlterField(
            model_name="dispatchfact",
            name="case_fact",
            field=models.ForeignKey(
                db_column="case_id",
                db_constraint=False,
                on_delete=models.deletion.CASCADE,
                related_name="dispatch_facts",
                to="assessment.casefact",
                verbose_name="case",
            ),
        ),
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(partition, unpartition)],
            state_operations=[
                migrations.AddConstraint(
                    model_name="casefact",
                    constraint=models.UniqueConstraint(
                        fields=["case", "filed_at"], name="casefact_case_month"
                    ),
                ),
                migrations.AddConstraint(
                    model_name="dispatchfact",
                    constraint=models.UniqueConstraint(
                        fields=["dispatch", "dispatched_at"], name="dispfact_dispatch_month"
                    ),
                ),
            ],
        ),
    ]
