"""Moving the test database along its migrations, for the tests that take today's data back
to an earlier schema and forward again."""

from django.apps.registry import Apps
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def migrate_to(targets: list[tuple[str, str]]) -> Apps:
    """Migrate to these (app, migration) targets; the apps of the state reached."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def latest_of() -> list[tuple[str, str]]:
    """The last migration of every app: a test that went back must come forward to them all, or
    the tests after it in the same process meet an old schema. Going back in one app unapplies
    the migrations of the others that depend on it (assessment 0017 on cases 0029)."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    return list(executor.loader.graph.leaf_nodes())


def layout(table: str, month_column: str) -> str:
    """What the migrations to monthly partitions leave of `table` (cases.partitions):
    "partitioned" on PostgreSQL, else "one table"; on SQLite, where nothing is partitioned,
    "with its month" when the table has the column it is partitioned by elsewhere."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT relkind FROM pg_class WHERE oid = %s::regclass", [table])
            return "partitioned" if cursor.fetchone()[0] == "p" else "one table"
        columns = [c.name for c in connection.introspection.get_table_description(cursor, table)]
    return "with its month" if month_column in columns else "one table"


def partitioned_layout() -> str:
    """What `layout` says of a table partitioned by month, on this database."""
    return "partitioned" if connection.vendor == "postgresql" else "with its month"
