"""Empty every table (and the caches derived from them) between tests.

DELETE, not TRUNCATE: on tables this small TRUNCATE costs a new file per table and its fsync (0.2-0.3 s
a test, most of a fast test's time), DELETE about a millisecond. The ACCESS EXCLUSIVE lock first makes
it wait, as TRUNCATE would, for a transaction still writing (a worker from the test before), so no row
committed after the sweep survives it. Foreign keys and the ledger's append-only trigger are off for
that transaction only: every table is emptied, so nothing is left pointing anywhere.
"""

from __future__ import annotations

from piccolo.conf.apps import Finder

from agentledger.platform.database import db

truncations = 0  # how many times the tables were emptied: a kept world (support/snapshot.py) checks it


def tables() -> list[str]:
    return sorted(t._meta.tablename for t in Finder().get_table_classes())


def emptying(names: list[str]) -> list[str]:
    """The statements that empty ``names`` in one transaction (see the module docstring)."""
    return ["SET LOCAL session_replication_role = replica",
            f"LOCK TABLE {', '.join(names)} IN ACCESS EXCLUSIVE MODE",
            *(f"DELETE FROM {name}" for name in names)]


async def truncate_all() -> None:
    from agentledger.agents import launch

    global truncations
    async with db().pool.acquire() as connection, connection.transaction():
        await connection.execute(";\n".join(emptying(tables())))
    truncations += 1
    launch._version_ids.clear()  # ids of rows that no longer exist
