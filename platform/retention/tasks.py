"""Retention's actors: the periodic pass (the scheduler runs it) and a restore (a worker runs it)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from agentledger.platform.broker import task
from agentledger.platform.retention import passes, restore


@task(queue_name="default", max_retries=0)
async def retention_pass() -> dict[str, Any]:
    """Archive what is due and expire files, for at most ``passes.BUDGET_SECONDS``; the next pass goes on."""
    report = await passes.run_pass()
    return {"archived": sum(report.archived.values()), "files": sum(report.files_removed.values()),
            "errors": len(report.errors)}


@task(queue_name="default", max_retries=5, min_backoff=30_000, max_backoff=600_000)
async def restore_run(request_id: str) -> str:
    """Storage that cannot be reached raises (Dramatiq retries with backoff); a missing or damaged archive
    fails the request instead, for good."""
    return await restore.run(UUID(request_id))
