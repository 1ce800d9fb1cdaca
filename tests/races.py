"""Run transactions at the same moment, on PostgreSQL, and make them meet where it matters.

Threads started at once still run one after the other often enough for a missing lock to go
unnoticed. ``race(..., writes_to=Model)`` takes Model's table in EXCLUSIVE mode (reads go on,
writes wait) and lets go only once every racer waits on a lock: racers with no lock of their
own have all read the same state by then, and write at once, as an unlucky moment would have
them do in production.
"""
from __future__ import annotations

import threading
import time

from django.db import close_old_connections, connections, transaction


def _sessions_waiting(cursor) -> int:
    cursor.execute("SELECT pg_stat_clear_snapshot()")  # or pg_stat_activity is read once per transaction
    cursor.execute(
        "SELECT count(DISTINCT l.pid) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE NOT l.granted AND a.datname = current_database()"
    )
    return cursor.fetchone()[0]


def race(*calls, writes_to=None, timeout: float = 20.0) -> list:
    """Run each call on a thread (and database connection) of its own, all at once; returns
    what each returned or raised, in order."""
    outcomes: list = [None] * len(calls)
    barrier = threading.Barrier(len(calls))

    def run(index, call):
        barrier.wait()
        try:
            outcomes[index] = call()
        except Exception as error:  # the test asserts on it
            outcomes[index] = error
        finally:
            close_old_connections()

    threads = [threading.Thread(target=run, args=pair, daemon=True) for pair in enumerate(calls)]
    with transaction.atomic(), connections["default"].cursor() as cursor:
        if writes_to is not None:
            cursor.execute(f'LOCK TABLE "{writes_to._meta.db_table}" IN EXCLUSIVE MODE')
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + timeout
        while writes_to is not None and _sessions_waiting(cursor) < len(calls):
            if time.monotonic() > deadline:
                raise AssertionError(f"the {len(calls)} racers did not all come to wait on a lock within {timeout:.0f} s")
            time.sleep(0.05)
    for thread in threads:
        thread.join(timeout)
    return outcomes
