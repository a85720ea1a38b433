"""One retention pass over every workspace (or one): archive the due runs, then delete files and
downloads past their own retention and packs nothing points at. Batched and resumable: each batch commits, and a pass that runs out
of its time budget stops between batches; the next one goes on where it stopped."""

from __future__ import annotations

import time
from datetime import datetime
from uuid import UUID

from agentledger.platform import storage
from agentledger.platform.clock import now
from agentledger.platform.retention import archiver, expiry, repository, restore
from agentledger.platform.retention import policy as policies
from agentledger.platform.retention.archiver import Report

BUDGET_SECONDS = 240.0  # inside the scheduler's 300 s job limit
WORKSPACE_PAGE = 100


async def run_pass(workspace_id: UUID | None = None, *, dry_run: bool = False, moment: datetime | None = None,
                   budget_seconds: float | None = BUDGET_SECONDS) -> Report:
    moment = moment or now()
    report = Report()
    if not dry_run and workspace_id is None:
        report.restores_restarted = await restore.restart_stuck(moment)
    deadline = time.monotonic() + budget_seconds if budget_seconds else None
    after = UUID(int=0)
    while True:
        page = [await repository.workspace(workspace_id)] if workspace_id else \
            await repository.workspaces_after(after, WORKSPACE_PAGE)
        for row in page:
            if row is None:
                return report
            if deadline and time.monotonic() > deadline:
                return report
            ws, slug = row["id"], row["slug"]
            policy = await policies.of(ws)
            await archiver.archive_workspace(ws, slug, policy, moment, report, dry_run=dry_run, deadline=deadline)
            if dry_run:
                continue
            try:
                report.files_removed[slug] = await expiry.expire_files(ws, policy, moment)
                await expiry.expire_downloads(ws, policy, moment)
                report.packs_swept += await expiry.sweep_packs(ws, moment)
            except storage.StorageUnavailable as error:
                report.errors.setdefault(slug, error.message)
        if workspace_id or len(page) < WORKSPACE_PAGE:
            return report
        after = page[-1]["id"]
