"""A world built once per test module, kept as a snapshot and put back before any test that changes it.

Building a world through the services (people, tokens, runs carried out by the runner, sign-ins) costs
far more than copying it back. ``World`` copies every table into the ``world_snapshot`` schema and every
Redis key (sessions, queued messages, event streams) with DUMP; ``restore`` truncates and copies back the
same rows, so ids, tokens and session cookies taken when the world was built stay valid.

A test that only reads calls ``unchanged`` after its request: the database must hash exactly as the
snapshot does, so a read that writes fails its test instead of quietly changing the next ones' world.
Tests of such a module carry ``pytest.mark.own_state`` so the conftest's ``clean`` leaves them alone.
"""

from __future__ import annotations

import os

import redis as sync_redis

from agentledger.platform.database import db, fetch
from tests.support import state

SCHEMA = "world_snapshot"


def _redis() -> sync_redis.Redis:
    return sync_redis.Redis.from_url(os.environ["REDIS_URL"])


# what a read writes by design: a token's last use (at most once a minute, platform/tokens.py)
READ_BOOKKEEPING = {"api_tokens": ("last_used_at",)}


async def _fingerprint(tables: list[str]) -> dict[str, str]:
    """One md5 per table over its rows in a fixed order, without the columns reads keep up to date."""

    def row(t: str) -> str:
        return "".join(f" - '{column}'" for column in READ_BOOKKEEPING.get(t, ())).join(("(to_jsonb(x)", ")::text"))

    parts = " UNION ALL ".join(
        f"SELECT '{t}' AS t, md5(coalesce(string_agg({row(t)}, '|' ORDER BY {row(t)}), '')) AS h FROM {t} x"
        for t in tables)
    return {r["t"]: r["h"] for r in await fetch(parts)}


class World:
    """What a module's tests share: the names of its rows (``ids``, anything else the builder keeps) and
    the snapshot it was taken as."""

    def __init__(self) -> None:
        self.tables = state.tables()
        self.keys: dict[bytes, tuple[bytes, int]] = {}
        self.hashes: dict[str, str] = {}
        self.generation = -1  # state.truncations when the database last equalled the snapshot
        self.dirty = True

    async def take(self) -> None:
        """Keep what the database and Redis hold now."""
        statements = [f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE", f"CREATE SCHEMA {SCHEMA}"]
        statements += [f"CREATE TABLE {SCHEMA}.{t} AS TABLE public.{t}" for t in self.tables]
        async with db().pool.acquire() as connection:
            await connection.execute(";\n".join(statements))
        client = _redis()
        try:
            self.keys = {key: (client.dump(key), max(0, client.pttl(key))) for key in client.scan_iter()}
        finally:
            client.close()
        self.hashes = await _fingerprint(self.tables)
        self.generation, self.dirty = state.truncations, False

    async def restore(self) -> None:
        """Put the snapshot back (only if something may have changed it since)."""
        if not self.dirty and self.generation == state.truncations:
            return
        inserts = [f"INSERT INTO public.{t} SELECT * FROM {SCHEMA}.{t}" for t in self.tables]
        async with db().pool.acquire() as connection, connection.transaction():
            # rows come back in any order: foreign keys and the ledger's append-only trigger stay off
            # for this transaction only (support/state.py), and the rows are ones they accepted before
            await connection.execute(";\n".join([*state.emptying(self.tables), *inserts]))
        client = _redis()
        try:
            client.flushdb()
            for key, (dumped, ttl) in self.keys.items():
                client.restore(key, ttl, dumped, replace=True)
            from agentledger.platform.grant_cache import CHANNEL

            client.publish(CHANNEL, "changed")  # a live server forgets grants it read in between
        finally:
            client.close()
        self.generation, self.dirty = state.truncations, False

    async def unchanged(self) -> None:
        """Assert the database is still the snapshot (a read-only test's promise)."""
        now = await _fingerprint(self.tables)
        changed = sorted(t for t in self.tables if now[t] != self.hashes[t])
        if changed:
            self.dirty = True
        assert changed == [], f"a read changed these tables: {changed}"

    async def drop(self) -> None:
        await fetch(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
