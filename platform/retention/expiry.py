"""Files past their own retention: the files agents made (deleted ``files_days`` after the run finished;
the run says so where each file was) and generated downloads (deleted ``downloads_days`` after they were
written; asked for again, they are made again).

A run's files live under its own prefix (``workspaces/<ws>/executions/<run>/artifacts/``), so one listing
finds them whether the run is hot or archived; ``files_removed_at`` on the run is set only after the
delete succeeded (a crash between the two deletes again next pass, which finds nothing left)."""

from __future__ import annotations

from datetime import datetime, timedelta
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
