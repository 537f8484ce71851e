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


def latest_of(apps: list[str] | None = None) -> list[tuple[str, str]]:
    """The last migration of each of these apps (of every app if None): a test that went back
    must come forward to them, or the tests after it in the same process meet an old schema."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    return [key for key in executor.loader.graph.leaf_nodes() if apps is None or key[0] in apps]
