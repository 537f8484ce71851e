"""A named lease (core.leases): one holder at a time, renewed by its holder, taken by another
only once it ran out, by the database's clock. The suite runs on SQLite and PostgreSQL."""

import os
import threading
import time

import pytest
from django.db import connection

from core.leases import hold_lease, new_holder, release_lease
from core.models import Lease

pytestmark = pytest.mark.django_db


def test_the_first_holder_takes_the_lease_and_a_second_does_not():
    assert hold_lease(name="beat", holder="a", seconds=30) is True
    assert hold_lease(name="beat", holder="b", seconds=30) is False
    assert Lease.objects.get(name="beat").holder == "a"


def test_the_holder_renews_its_lease_for_the_full_time_again():
    assert hold_lease(name="beat", holder="a", seconds=1)
    first = Lease.objects.get(name="beat").expires_at
    time.sleep(0.05)
    assert hold_lease(name="beat", holder="a", seconds=30) is True
    renewed = Lease.objects.get(name="beat")
    assert renewed.holder == "a"
    assert renewed.expires_at > first
    assert hold_lease(name="beat", holder="b", seconds=30) is False


def test_another_holder_takes_the_lease_once_it_ran_out():
    assert hold_lease(name="beat", holder="a", seconds=0.3)
    assert hold_lease(name="beat", holder="b", seconds=30) is False
    time.sleep(0.4)
    assert hold_lease(name="beat", holder="b", seconds=30) is True
    assert Lease.objects.get(name="beat").holder == "b"


def test_a_holder_whose_lease_was_taken_cannot_renew_it():
    hold_lease(name="beat", holder="a", seconds=0.3)
    time.sleep(0.4)
    assert hold_lease(name="beat", holder="b", seconds=30)
    assert hold_lease(name="beat", holder="a", seconds=30) is False
    assert Lease.objects.get(name="beat").holder == "b"


def test_leases_of_other_names_are_held_apart():
    assert hold_lease(name="beat", holder="a", seconds=30)
    assert hold_lease(name="other", holder="b", seconds=30)
    assert hold_lease(name="other", holder="a", seconds=30) is False


def test_a_released_lease_is_taken_at_once_and_only_its_holder_releases_it():
    hold_lease(name="beat", holder="a", seconds=30)
    assert release_lease(name="beat", holder="b") is False
    assert hold_lease(name="beat", holder="b", seconds=30) is False
    assert release_lease(name="beat", holder="a") is True
    assert hold_lease(name="beat", holder="b", seconds=30) is True


def test_holder_names_differ_per_call_and_name_the_process():
    first, second = new_holder(), new_holder()
    assert first != second
    assert f":{os.getpid()}:" in first


def _race(*, name: str, takers: int) -> list[str]:
    """`takers` threads, each on its own connection, ask for the lease at the same moment;
    returns the holders that got it."""
    start = threading.Barrier(takers)
    won: list[str] = []

    def take(holder: str) -> None:
        try:
            start.wait()
            if hold_lease(name=name, holder=holder, seconds=30):
                won.append(holder)
        finally:
            connection.close()

    threads = [threading.Thread(target=take, args=(f"t{n}",)) for n in range(takers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return won


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_of_many_racing_takers_on_their_own_connections_exactly_one_holds():
    """Eight threads ask at once for a lease never taken (the first insert races too), then
    for one that ran out (the race is on the UPDATE alone): each time exactly one holds it."""
    won = _race(name="new", takers=8)
    assert len(won) == 1, won
    assert Lease.objects.get(name="new").holder == won[0]

    hold_lease(name="lapsed", holder="gone", seconds=0.01)
    time.sleep(0.05)
    won = _race(name="lapsed", takers=8)
    assert len(won) == 1, won
    assert Lease.objects.get(name="lapsed").holder == won[0]
