"""Empty every table (and the caches derived from them) between tests."""

from __future__ import annotations

from piccolo.conf.apps import Finder

from agentledger.platform.database import fetch

truncations = 0  # how many times the tables were emptied: a kept world (support/snapshot.py) checks it


async def truncate_all() -> None:
    from agentledger.agents import launch

    global truncations
    tables = [t._meta.tablename for t in Finder().get_table_classes()]
    await fetch(f"TRUNCATE {', '.join(tables)} CASCADE")
    truncations += 1
    launch._version_ids.clear()  # ids of rows that no longer exist
