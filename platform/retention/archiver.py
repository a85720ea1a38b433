"""Archiving: due runs become one compressed document each in a pack in object storage, and a tombstone.

A batch is one transaction, and the only order that loses nothing:
1. lock the batch's runs (``FOR UPDATE SKIP LOCKED``: a run someone is changing is skipped this time);
2. read each run's document, write the pack (``archive.written``), read it back and compare every
   document's SHA-256 (``archive.verified``);
3. delete the records and set the tombstones (``archive.deleted``), and commit.
A crash, a refused upload or a checksum that does not match anywhere before the commit rolls everything
back: the runs are still hot, whole, and a later pass takes them again. The pack left behind is only an
object no tombstone points at. After the commit, each run is archived and its document verified. So a run
is never neither, and never both. The transaction spans the upload (seconds for a batch), which holds
locks only on runs old enough to archive; ``idle_in_transaction_session_timeout`` bounds a hung worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from agentledger.platform import audit, failpoints, storage
from agentledger.platform.clock import now
from agentledger.platform.config import get_settings
from agentledger.platform.database import atomic, fetch
from agentledger.platform.errors import Conflict, NotFound
from agentledger.platform.executions import archive_repository as runs
from agentledger.platform.executions import states
from agentledger.platform.retention import confinement, packs, repository
from agentledger.platform.retention import policy as policies
from agentledger.platform.retention.packs import Pack

log = logging.getLogger(__name__)
# runs a batch (one transaction, one pack, one upload and one read-back): 1,000 over 500 took a pass of 100,000
# runs from 13.6-14.4 s to 12.5-13.5 s (bench/archive.py; the store's per-request work halves), 2,000 no further
BATCH = 1000
PUSH_WINDOW = timedelta(minutes=2)  # results.service.IN_FLIGHT: a push older was lost
SERVING_WINDOW = 1.0  # seconds: a web session that ran a statement this recently means people are being served
MEDIA_TYPE = "application/gzip"


class ChecksumMismatch(Exception):
    """What storage gave back is not what was written: nothing may be deleted."""


@dataclass
class Report:
    """What a pass did (or, in a dry run, would do), per workspace slug."""

    due: dict[str, int] = field(default_factory=dict)
    archived: dict[str, int] = field(default_factory=dict)
    bytes: int = 0
    files_removed: dict[str, int] = field(default_factory=dict)
    packs_swept: int = 0  # packs no tombstone pointed at any more
    restores_restarted: int = 0  # approved restores whose job had not finished an hour on
    yielded: int = 0  # batches run one at a time on one CPU because the web tier was serving (``confinement``)
    errors: dict[str, str] = field(default_factory=dict)

    def lines(self, dry_run: bool) -> list[str]:
        """What ``agentledger retention run`` prints: a line per workspace, then the totals."""
        out = []
        for slug, due in sorted(self.due.items()):
            if dry_run:
                out.append(f"{slug}: {due} run{'s' if due != 1 else ''} due for archiving (dry run: nothing done)")
                continue
            line = f"{slug}: archived {self.archived.get(slug, 0)} of {due} due"
            if self.files_removed.get(slug):
                line += f"; removed the files of {self.files_removed[slug]} runs"
            if slug in self.errors:
                line += f"; stopped: {self.errors[slug]}"
            out.append(line)
        if dry_run:
            return out
        out.append(f"{sum(self.archived.values())} runs archived ({self.bytes:,} bytes of archives); "
                   f"{self.packs_swept} packs nothing pointed at deleted")
        if self.yielded:
            out.append(f"{self.yielded} batch{'es' if self.yielded != 1 else ''} ran one at a time on one CPU while "
                       "the web tier was serving")
        return out


def pack_key(workspace_id: UUID, moment: datetime) -> str:
    return storage.workspace_key(workspace_id, "archive", f"{moment:%Y/%m}", f"{uuid.uuid4()}.jsonl.gz")


async def _limit_idle() -> None:
    """A worker that hangs mid-batch (not one that dies: its connection closes) gives its locks back."""
    await fetch("SET LOCAL idle_in_transaction_session_timeout = '120s'")


async def _local_server() -> int | None:
    """The open transaction's server process, when it runs on this machine (see ``confinement``)."""
    row = (await fetch("SELECT pg_backend_pid() AS pid, inet_server_addr() IS NULL AS unix_socket, "
                       "current_user AS user, current_database() AS database"))[0]
    local = confinement.local_server(row["pid"], row["unix_socket"], row["user"], row["database"])
    return row["pid"] if local else None


async def _archive_locked(workspace_id: UUID, ids: list[UUID]) -> tuple[int, int]:
    """Archive runs already locked in the open transaction; answers (runs archived, pack bytes)."""
    documents = await runs.documents(workspace_id, ids)
    pack = Pack()
    try:
        members = await asyncio.get_running_loop().run_in_executor(
            packs.COMPRESSOR, pack.add, [row["document"] for row in documents])
        entries = [{"id": row["id"], "offset": m.offset, "size": m.size, "sha256": m.sha256, "files": row["files"]}
                   for row, m in zip(documents, members, strict=True)]
        key = pack_key(workspace_id, now())
        await storage.put_stream(key, pack.rewind(), MEDIA_TYPE)
        size = pack.size
    finally:
        pack.close()
    failpoints.reach("archive.written")
    read_back = await storage.digests(key, [e["size"] for e in entries])
    if read_back != [e["sha256"] for e in entries]:
        raise ChecksumMismatch(f"the archive {key} read back different from what was written")
    failpoints.reach("archive.verified")
    for entry in entries:
        entry["key"] = key
    archived = await runs.tombstone(workspace_id, entries)
    failpoints.reach("archive.deleted")
    return archived, size


@dataclass
class Walk:
    """Where a pass has got to in a workspace's due runs, (finished_at, id) order: each batch starts after
    the last one taken, by whichever worker took it."""

    finished_at: datetime = datetime(1, 1, 1, tzinfo=UTC)
    id: UUID = UUID(int=0)


@contextlib.asynccontextmanager
async def _held_transaction(one_cpu: bool) -> AsyncIterator[None]:
    """A transaction; with ``one_cpu``, it and this process's threads are held to one CPU (``confinement``)
    from its first statement to after its commit. The commit writes out what a batch deleted, and a hold
    that ended before it left that work free to take the web tier's CPU (bench/archive.py: 5 ms a batch)."""
    with contextlib.ExitStack() as hold:
        async with atomic():
            if one_cpu:
                hold.enter_context(confinement.one_cpu(await _local_server()))
            yield


async def archive_batch(workspace_id: UUID, policy: policies.Policy, moment: datetime, walk: Walk,
                        limit: int | None = None, *, one_cpu: bool = False) -> tuple[int, int]:
    """One batch of a workspace's due runs, in one transaction (see the module's docstring); with
    ``one_cpu``, held to one CPU (``confinement``)."""
    async with _held_transaction(one_cpu):
        await _limit_idle()
        due = await runs.lock_due(workspace_id, *policy.cutoffs(moment), PUSH_WINDOW,
                                  (walk.finished_at, walk.id), limit or BATCH)
        if not due:
            return 0, 0
        walk.finished_at, walk.id = due[-1]["finished_at"], due[-1]["id"]  # the next batch starts here
        return await _archive_locked(workspace_id, [row["id"] for row in due])


async def _failed(workspace_id: UUID, error: Exception, runs_count: int) -> str:
    """Record what stopped archiving, for the workspace's admins, in a transaction of its own (call it
    after the failed one rolled back)."""
    if isinstance(error, ChecksumMismatch):
        kept = "the run stays as it was" if runs_count == 1 else f"the {runs_count} runs stay as they were"
        kind, message = "checksum_mismatch", f"{error}. Nothing was deleted: {kept}, and archiving again writes a new copy."
    else:
        kind, message = "storage_unavailable", (f"Archiving stopped: {getattr(error, 'message', error)}. Nothing was "
                                                "deleted; the next pass tries again.")
    async with atomic():
        await repository.add_alert(workspace_id, kind, message, runs_count)
    log.warning("retention: workspace %s: %s", workspace_id, message)
    return message


async def archive_workspace(workspace_id: UUID, slug: str, policy: policies.Policy, moment: datetime,
                            report: Report, *, dry_run: bool = False, deadline: float | None = None) -> None:
    """Every due run of one workspace, batch after batch, each committed (a pass cut short at ``deadline``,
    a ``time.monotonic()`` value, resumes with the next). While nobody is being served, batches run
    ``RETENTION_CONCURRENCY`` at a time on every CPU; while the web tier is serving, held batches run one
    at a time on one CPU (``confinement``), so requests keep their latency and the pass still goes on (a
    batch started while it was quiet finishes as it began). The first failure
    stops the workspace's pass and is reported once."""
    # counting reads every candidate run of the workspace: while people are served, held like a batch
    async with _held_transaction(await repository.web_serving(SERVING_WINDOW)):
        report.due[slug] = await runs.count_due(workspace_id, *policy.cutoffs(moment), PUSH_WINDOW)
    if dry_run or not report.due[slug]:
        return
    stop, walk, one_at_a_time = asyncio.Event(), Walk(), asyncio.Lock()

    async def batch() -> tuple[int, int]:
        if not await repository.web_serving(SERVING_WINDOW):
            return await archive_batch(workspace_id, policy, moment, walk)
        async with one_at_a_time:
            done = await archive_batch(workspace_id, policy, moment, walk, one_cpu=True)
        report.yielded += int(done[0] > 0)
        return done

    async def worker() -> None:
        while not stop.is_set() and (deadline is None or time.monotonic() < deadline):
            try:
                archived, size = await batch()
            except (storage.StorageUnavailable, ChecksumMismatch, NotFound) as error:
                if not stop.is_set():
                    stop.set()
                    report.errors[slug] = await _failed(workspace_id, error, min(report.due[slug], BATCH))
                return
            if not archived:
                return
            report.archived[slug] = report.archived.get(slug, 0) + archived
            report.bytes += size

    await asyncio.gather(*(worker() for _ in range(get_settings().retention_concurrency)))


async def archive_now(workspace_id: UUID, execution_id: UUID, actor_id: UUID | None) -> dict[str, Any]:
    """An admin's "archive now": one finished run, the same path as a pass (its own pack). 409 for a run
    that is not finished, already archived, or has a change being pushed to a site right now; a 409 and
    a Retention alert when the archive read back different. Call outside a transaction (the alert must
    outlive the rolled-back archive)."""
    try:
        await _archive_one(workspace_id, execution_id, actor_id)
    except ChecksumMismatch as error:
        await _failed(workspace_id, error, 1)
        raise Conflict(f"{error}; nothing was deleted", field="execution") from None
    tomb = await runs.tombstone_of(workspace_id, execution_id)
    assert tomb is not None
    return tomb


async def _archive_one(workspace_id: UUID, execution_id: UUID, actor_id: UUID | None) -> None:
    async with atomic():
        await _limit_idle()
        row = await runs.lock_one(workspace_id, execution_id, PUSH_WINDOW)
        if row is None:
            raise NotFound("execution not found")
        if row["archived_at"] is not None:
            raise Conflict("this run is archived already", field="execution")
        if row["status"] not in states.FINAL:
            raise Conflict(f"only finished runs can be archived; this one is {row['status'].replace('_', ' ')}",
                           field="status")
        if row["pushing"]:
            raise Conflict("a change of this run is being applied to the site right now; try again in a minute",
                           field="execution")
        await _archive_locked(workspace_id, [execution_id])
        await audit.record("execution.archive", workspace_id=workspace_id, actor_id=actor_id, target=str(execution_id))
