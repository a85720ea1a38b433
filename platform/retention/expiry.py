"""Files past their own retention: the files agents made (deleted ``files_days`` after the run finished;
the run says so where each file was) and generated downloads (deleted ``downloads_days`` after they were
written; asked for again, they are made again). And packs no tombstone points at any more: left by a
pass that crashed or read back different (its transaction rolled back), or emptied by restores.

A run's files live under its own prefix (``workspaces/<ws>/executions/<run>/artifacts/``), so one listing
finds them whether the run is hot or archived; ``files_removed_at`` on the run is set only after the
delete succeeded (a crash between the two deletes again next pass, which finds nothing left)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from agentledger.platform import storage
from agentledger.platform.database import atomic
from agentledger.platform.executions import archive_repository as runs
from agentledger.platform.retention.policy import Policy

BATCH = 200


async def expire_files(workspace_id: UUID, policy: Policy, moment: datetime) -> int:
    """Delete the files of runs that finished more than ``files_days`` ago; answers how many runs'."""
    before = moment - timedelta(days=policy.files_days)
    done = 0
    while True:
        due = await runs.with_files_due(workspace_id, before, BATCH)
        if not due:
            return done
        for row in due:
            await storage.delete_prefix(storage.workspace_key(workspace_id, "executions", str(row["id"]), "artifacts") + "/")
        async with atomic():
            await runs.files_removed(workspace_id, [row["id"] for row in due])
        done += len(due)
        if len(due) < BATCH:
            return done


async def expire_downloads(workspace_id: UUID, policy: Policy, moment: datetime) -> int:
    """Delete generated downloads written more than ``downloads_days`` ago; answers how many."""
    return await storage.delete_older(storage.workspace_key(workspace_id, "exports") + "/",
                                      moment - timedelta(days=policy.downloads_days))


PACK_GRACE = timedelta(days=1)  # far longer than a batch's transaction: a pack being written is never swept


async def sweep_packs(workspace_id: UUID, moment: datetime) -> int:
    """Delete the workspace's packs older than a day that no tombstone points at; answers how many."""
    before = moment - PACK_GRACE

    async def unreferenced(items: list[dict[str, Any]]) -> list[str]:
        old = [item["Key"] for item in items if item["LastModified"] < before]
        kept = await runs.referenced(workspace_id, old) if old else set()
        return [key for key in old if key not in kept]

    return await storage.delete_where(storage.workspace_key(workspace_id, "archive") + "/", unreferenced)
