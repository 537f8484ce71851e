"""The application's own database role on PostgreSQL (docs/security.md, data integrity).

Migrations run as the role that owns the tables. The web, worker and beat processes connect
as a second role that may read and write rows and nothing else: it owns nothing (so it cannot
ALTER a table or DISABLE its triggers), creates nothing, never TRUNCATEs, and on the records
that must not change once written it lacks UPDATE and DELETE as well, on top of the triggers
that refuse those changes to every client (the owner included).

The tables are named here, by their database names, so this lowest app imports none of the
apps that own them; tests/security/test_app_role.py checks each one has its trigger.
"""

import re
import secrets
from dataclasses import dataclass
from urllib.parse import quote

from django.db import connection, transaction

# Rows are only ever added: the case trace, the towns' evaluations (a correction is a new row
# pointing at the one it replaces), the spot checks' draws (their seed and population) and the
# supervisors' corrections of when a closed case counts as closed.
APPEND_ONLY_TABLES = (
    "cases_event",
    "assessment_townevaluation",
    "spotchecks_spotcheck",
    "assessment_closurecorrection",
)

# Rows created pending and given their outcome once (a committee's decision on an agenda item,
# a spot check's revisit): the one UPDATE from pending is allowed, a trigger refuses any later
# change, and nothing is ever deleted.
WRITTEN_ONCE_TABLES = ("consultation_agendaitem", "spotchecks_spotcheckcase")

# Rows never changed, deleted only by the retention purge its trigger allows (the access audit
# trail: audit.services, records older than the legal minimum).
NO_UPDATE_TABLES = ("audit_accessrecord",)

# The event log, the deadlines and the assessment facts are partitioned by month
# (cases.partitions): their partitions, and the owner's functions that create them and count
# the rows waiting in the default ones.
PARTITIONED_TABLES = (
    "cases_event",
    "cases_deadline",
    "assessment_casefact",
    "assessment_dispatchfact",
)
PARTITION_FUNCTIONS = ("whistle_partitions(text, date, date, text)", "whistle_default_rows(text)")

# Read by the application, written only by `migrate` as the owner.
READ_ONLY_TABLES = ("django_migrations",)

ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class RoleError(Exception):
    """The role cannot be set up as asked (a bad name, the owner itself, a superuser)."""


@dataclass(frozen=True)
class AppRole:
    name: str
    created: bool
    password: str | None


def grant_app_role(*, role: str, password: str | None = None) -> AppRole:
    """Create or update the application role and set its privileges on every table of the
    current schema, from scratch, so running it again after each `migrate` converges.

    Run as the owner of the tables (the role `migrate` ran as). A password, when given,
    replaces the role's; without one the role keeps what it had (or none: peer/trust login)."""
    if connection.vendor != "postgresql":
        raise RoleError("database roles exist on PostgreSQL only")
    if not ROLE_NAME.match(role):
        raise RoleError(f"{role!r} is not a plain lower-case role name")
    quote_name = connection.ops.quote_name
    name = quote_name(role)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT current_user, current_database(), current_schema()")
        owner, database, schema = cursor.fetchone()
        if role == owner:
            raise RoleError(f"{role!r} is the role running this: the owner of the tables")
        cursor.execute(
            "SELECT rolsuper OR rolcreaterole OR rolcreatedb OR rolreplication OR rolbypassrls, "
            "pg_has_role(rolname, current_user, 'MEMBER') FROM pg_roles WHERE rolname = %s",
            [role],
        )
        row = cursor.fetchone()
        created = row is None
        if created:
            # The defaults: no superuser, CREATEDB, CREATEROLE, REPLICATION or BYPASSRLS.
            cursor.execute(f"CREATE ROLE {name} LOGIN")
        elif row[0]:
            raise RoleError(f"{role!r} may do more than read and write rows: choose another name")
        elif row[1]:
            raise RoleError(f"{role!r} is a member of the owner {owner!r}: revoke that first")
        else:
            cursor.execute(f"ALTER ROLE {name} LOGIN")
        if password is not None:
            cursor.execute(f"ALTER ROLE {name} PASSWORD %s", [password])
        _grant_tables(cursor, name=name, database=quote_name(database), schema=quote_name(schema))
        cursor.execute("SELECT has_schema_privilege(%s, %s, 'CREATE')", [role, schema])
        if cursor.fetchone()[0]:
            raise RoleError(
                f"{role!r} may still create tables in {schema!r}: "
                f"REVOKE CREATE ON SCHEMA {schema} FROM PUBLIC as the schema's owner"
            )
    return AppRole(name=role, created=created, password=password)


def _grant_tables(cursor, *, name: str, database: str, schema: str) -> None:
    """Rows only: SELECT and INSERT everywhere, UPDATE and DELETE but where a record must not
    change, the sequences the inserts draw from; never TRUNCATE, REFERENCES or TRIGGER."""
    quote_name = connection.ops.quote_name
    tables = set(connection.introspection.table_names(cursor))
    statements = [
        f"GRANT CONNECT ON DATABASE {database} TO {name}",
        f"GRANT USAGE ON SCHEMA {schema} TO {name}",
        f"REVOKE CREATE ON SCHEMA {schema} FROM {name}",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {name}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {name}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {name}",
        # Tables a later migration adds get the ordinary rights until this runs again.
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {name}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT USAGE, SELECT ON SEQUENCES TO {name}",
    ]
    for table in READ_ONLY_TABLES:
        if table in tables:
            statements.append(f"REVOKE INSERT, UPDATE, DELETE ON {quote_name(table)} FROM {name}")
    for table in APPEND_ONLY_TABLES:
        if table in tables:
            statements.append(f"REVOKE UPDATE, DELETE ON {quote_name(table)} FROM {name}")
    for table in NO_UPDATE_TABLES:
        if table in tables:
            statements.append(f"REVOKE UPDATE ON {quote_name(table)} FROM {name}")
    for table in WRITTEN_ONCE_TABLES:
        if table in tables:
            statements.append(f"REVOKE DELETE ON {quote_name(table)} FROM {name}")
    # The event log's monthly partitions are reached through their table alone, whose
    # privileges are the ones above; the role makes the months ahead through the owner's
    # function (migration cases 0025) and may not create a table itself.
    cursor.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = ANY(ARRAY(SELECT to_regclass(t) FROM unnest(%s::text[]) t))",
        [list(PARTITIONED_TABLES)],
    )
    for (partition,) in cursor.fetchall():
        statements.append(f"REVOKE ALL ON {quote_name(partition)} FROM {name}")
    for function in PARTITION_FUNCTIONS:
        cursor.execute("SELECT to_regprocedure(%s) IS NOT NULL", [function])
        if cursor.fetchone()[0]:
            statements.append(f"GRANT EXECUTE ON FUNCTION {function} TO {name}")
    for statement in statements:
        cursor.execute(statement)
    # Before PostgreSQL 15 every role may create tables in `public`; take that away when this
    # role owns the schema (the check in grant_app_role reports it otherwise).
    cursor.execute(
        "SELECT pg_get_userbyid(nspowner) = current_user FROM pg_namespace "
        "WHERE nspname = current_schema()"
    )
    if cursor.fetchone()[0]:
        cursor.execute(f"REVOKE CREATE ON SCHEMA {schema} FROM PUBLIC")


def new_password() -> str:
    return secrets.token_urlsafe(24)


def app_database_url(*, role: str, password: str | None) -> str:
    """The DATABASE_URL the application uses: the owner's database, host and port, this role."""
    settings = connection.settings_dict
    auth = quote(role, safe="")
    if password:
        auth += ":" + quote(password, safe="")
    host = settings.get("HOST") or ""
    port = f":{settings['PORT']}" if settings.get("PORT") else ""
    return f"postgres://{auth}@{host}{port}/{quote(settings['NAME'], safe='')}"
