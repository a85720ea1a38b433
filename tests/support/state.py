"""Empty every table (and the caches derived from them) between tests."""

from __future__ import annotations

from piccolo.conf.apps import Finder

from agentledger.platform.database import fetch


async def truncate_all() -> None:
    from agentledger.agents import launch

    tables = [t._meta.tablename for t in Finder().get_table_classes()]
    await fetch(f"TRUNCATE {', '.join(tables)} CASCADE")
    launch._version_ids.clear()  # ids of rows that no longer exist
