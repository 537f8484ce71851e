"""The readable case numbers of a city and year (HN-2026-000123): taken last in a filing's
transaction, since the city's counter stays locked until it commits."""

from django.db import IntegrityError, connection, transaction

from cases.models import Case, CaseSequence


def next_case_number(*, city_id: int, city_code: str, year: int) -> str:
    """The next readable number of the city and year, e.g. HN-2026-000123.

    One statement takes the number and locks the city's counter until the transaction ends, so
    numbers have no gaps and every filing of the city waits here for the one before to commit:
    call it as late in the transaction as possible."""
    table = CaseSequence._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET last = last + 1 WHERE city_id = %s AND year = %s "  # noqa: S608
            "RETURNING last",
            [city_id, year],
        )
        row = cursor.fetchone()
    if row is None:
        _start_counter(city_id=city_id, year=year)
        return next_case_number(city_id=city_id, city_code=city_code, year=year)
    return f"{city_code}-{year}-{row[0]:06d}"


def _start_counter(*, city_id: int, year: int) -> None:
    """The city's counter for its first case of the year (or one a concurrent filing created
    meanwhile): the caller then takes its number again."""
    try:
        with transaction.atomic():
            CaseSequence.objects.create(city_id=city_id, year=year, last=0)
    except IntegrityError:
        pass  # created by a concurrent filing


def number_case(*, case_id: int, city_id: int, city_code: str, year: int) -> str:
    """Take the next number of the city and year (next_case_number) and write it on the case.

    On PostgreSQL one statement does both, so the city's counter stays locked one round trip
    less; elsewhere the number is taken, then written."""
    if connection.vendor != "postgresql":
        number = next_case_number(city_id=city_id, city_code=city_code, year=year)
        Case.objects.filter(pk=case_id).update(number=number)
        return number
    with connection.cursor() as cursor:
        cursor.execute(
            # A data-modifying WITH runs once, whatever the outer statement reads of it.
            f"WITH taken AS (UPDATE {CaseSequence._meta.db_table} SET last = last + 1 "  # noqa: S608
            "WHERE city_id = %s AND year = %s RETURNING last) "
            f"UPDATE {Case._meta.db_table} SET number = %s || CASE WHEN taken.last < 1000000 "
            "THEN lpad(taken.last::text, 6, '0') ELSE taken.last::text END "
            f"FROM taken WHERE {Case._meta.db_table}.id = %s RETURNING taken.last",
            [city_id, year, f"{city_code}-{year}-", case_id],
        )
        row = cursor.fetchone()
    if row is None:
        _start_counter(city_id=city_id, year=year)
        return number_case(case_id=case_id, city_id=city_id, city_code=city_code, year=year)
    return f"{city_code}-{year}-{row[0]:06d}"
