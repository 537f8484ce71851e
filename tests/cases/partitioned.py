"""What the tests of the monthly partitions share (cases.partitions): a start from the months an
empty `migrate` makes, and which partitions hold a case's rows."""

import pytest
from django.db import connection

from cases import partitions
from cases.models import Case
from tests.cases.engine_steps import T0

POSTGRES = connection.vendor == "postgresql"


@pytest.fixture(autouse=True)
def _months_of_an_empty_migrate():
    """Each test starts from the months `migrate` makes on an empty database (this month and
    the next ones): a migration test that migrated June 2025's cases leaves June's partitions
    behind, and they are dropped here, inside the test's transaction, so they come back
    after."""
    if POSTGRES:
        with connection.cursor() as cursor:
            for table in partitions.TABLES:
                for month in partitions.state(table=table).months:
                    if month.year == T0.year:
                        cursor.execute(f"DROP TABLE {partitions.partition_name(month, table)}")


def partitions_holding(table: str, case: Case) -> set[str]:
    """The partitions of `table` that hold the case's rows."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT tableoid::regclass::text FROM {table} WHERE case_id = %s",  # noqa: S608
            [case.pk],
        )
        return {name for (name,) in cursor.fetchall()}
