"""Restore on request: an archived run comes back exactly as it was.

Whoever may see the run (its starter, someone it was shared with, an admin) asks. An admin's own request,
or any request when the policy auto-approves, starts at once; others wait on the Requests list for an
admin. The job reads the run's document with a ranged GET, checks its SHA-256 against the tombstone, and
puts every row back in one transaction (``archive_repository.restore``), so the run's JSON export after a
restore is the one before archiving, apart from the archive fields. A missing or damaged document fails the
request with words the requester can act on, and the tombstone stays as it was. The requester is emailed
whatever the outcome (back, failed, or declined by an admin), through the notifications outbox."""

from __future__ import annotations

import hashlib
import logging
import zlib
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import msgspec

from agentledger.notifications import service as notifications
from agentledger.platform import audit, storage
from agentledger.platform.broker import enqueue_by_name
from agentledger.platform.database import atomic
from agentledger.platform.errors import Conflict, Forbidden, NotFound
from agentledger.platform.executions import archive_repository as runs
from agentledger.platform.executions import repository as executions
from agentledger.platform.retention import policy as policies
from agentledger.platform.retention import repository
from agentledger.platform.retention.packs import open_member
from agentledger.platform.scoping import Scope

log = logging.getLogger(__name__)
QUEUE = "default"


class Unrestorable(Exception):
    """The document cannot be brought back: missing from storage, or not what was archived."""


def _start(request_id: UUID) -> None:
    enqueue_by_name("restore_run", QUEUE, str(request_id))  # after commit


async def ask(scope: Scope, execution_id: UUID) -> dict[str, Any]:
    """Ask for an archived run back (404 unless the caller may see it, 409 unless it is archived). Asking
    again while a request is open answers that request."""
    run = await executions.get(scope, execution_id)
    if run["archived_at"] is None:
        raise Conflict("this run is not archived", field="execution")
    existing = await repository.open_request(scope.workspace_id, execution_id)
    if existing is not None:
        return existing
    at_once = scope.is_admin or (await policies.of(scope.workspace_id)).auto_approve
    created = await repository.add_request(scope.workspace_id, execution_id, run["agent"], scope.user_id,
                                           "approved" if at_once else "pending", scope.user_id if at_once else None)
    if created is None:  # someone else's request won the race: answer theirs
        found = await repository.open_request(scope.workspace_id, execution_id)
        if found is None:
            raise Conflict("this run's restore just finished; reload the run", field="execution")
        return found
    await audit.record("execution.restore_request", workspace_id=scope.workspace_id, actor_id=scope.user_id,
                       target=str(execution_id), approved=at_once)
    if at_once:
        _start(created["id"])
    else:
        await notifications.emit("restore_requested", scope.workspace_id, request=created, asked_by=scope.user_id)
    return created


async def decide(scope: Scope, request_id: UUID, approve: bool) -> dict[str, Any]:
    """An admin approves (the job starts) or rejects a pending request."""
    if not scope.is_admin:
        raise Forbidden("only admins approve or reject restore requests")
    found = await repository.request(scope.workspace_id, request_id, lock=True)
    if found is None:
        raise NotFound("restore request not found")
    if found["status"] != "pending":
        raise Conflict(f"this request is {found['status']} already", field="status")
    await repository.decide_request(scope.workspace_id, request_id, "approved" if approve else "rejected",
                                    scope.user_id)
    await audit.record("execution.restore_" + ("approve" if approve else "reject"), workspace_id=scope.workspace_id,
                       actor_id=scope.user_id, target=str(found["execution"]))
    if approve:
        _start(request_id)
    else:
        await _tell(found, None, declined_by=scope.user_id)
    answer = await repository.request(scope.workspace_id, request_id)
    assert answer is not None
    return answer


async def listed(scope: Scope) -> list[dict[str, Any]]:
    """Admins: every request of the workspace; members: their own."""
    return await repository.requests(scope.workspace_id, None if scope.is_admin else scope.user_id)


def _document(tomb: dict[str, Any], data: bytes) -> tuple[str, dict[str, set[str]]]:
    """The run's document as text, checked against its tombstone, and the columns each part carries."""
    if hashlib.sha256(data).hexdigest() != tomb["archive_sha256"]:
        raise Unrestorable("the archived copy of this run is damaged (its checksum does not match what was "
                           "written); it was left as it is. Ask an admin to check the storage.")
    try:
        text = open_member(data).decode()
        parsed = msgspec.json.decode(text)
    except (OSError, EOFError, zlib.error, UnicodeDecodeError, msgspec.DecodeError):
        raise Unrestorable("the archived copy of this run cannot be read; it was left as it is") from None
    if not isinstance(parsed, dict) or parsed.get("format") != runs.FORMAT or parsed.get("version") != runs.VERSION:
        raise Unrestorable(f"the archived copy of this run is in a format this version cannot read "
                           f"({parsed.get('format')} {parsed.get('version')})")
    execution = parsed.get("execution") if isinstance(parsed, dict) else None
    if not isinstance(execution, dict) or str(execution.get("id")) != str(tomb["id"]):
        raise Unrestorable("the archived copy found is not this run's; the run was left as it is")
    keys = {"execution": set(execution)}
    for part in runs.PARTS:
        rows = parsed.get(part) or []
        keys[part] = set(rows[0]) if rows else set()
    return text, keys


async def run(request_id: UUID) -> str:
    """The restore job for an approved request; answers what became of it (done, failed, or why nothing)."""
    found = await repository.request_by_id(request_id)
    if found is None or found["status"] != "approved":
        return "nothing to do"
    workspace_id, execution_id = found["workspace"], found["execution"]
    tomb = await runs.tombstone_of(workspace_id, execution_id)
    if tomb is None:  # restored meanwhile (another request, or a retried message)
        async with atomic():
            await repository.finish_request(request_id, "done")
        return "done"
    try:
        data = await storage.get_range(tomb["archive_key"], tomb["archive_offset"], tomb["archive_size"])
        text, keys = _document(tomb, data)
    except NotFound:
        return await _fail(found, "the archived copy of this run is missing from storage; it was left as it is. "
                                  "Ask an admin to check the storage.")
    except Unrestorable as error:
        return await _fail(found, str(error))
    async with atomic():
        locked = await runs.tombstone_of(workspace_id, execution_id, lock=True)
        if locked is not None and locked["archive_sha256"] == tomb["archive_sha256"]:
            await runs.restore(workspace_id, execution_id, text, keys)
        await repository.finish_request(request_id, "done")
        await audit.record("execution.restore", workspace_id=workspace_id, actor_id=found["requested_by"],
                           target=str(execution_id))
        await _tell(found, None)
    return "done"


STUCK = timedelta(hours=1)


async def restart_stuck(moment: datetime) -> int:
    """Approved requests whose job has not finished an hour on (storage was down past the job's retries,
    or its message was lost) get their job again; a retention pass calls this. Answers how many."""
    stuck = await repository.stuck_requests(moment - STUCK)
    for request_id in stuck:
        _start(request_id)
    return len(stuck)


async def _fail(found: dict[str, Any], reason: str) -> str:
    async with atomic():
        await repository.finish_request(found["id"], "failed", reason)
        await repository.add_alert(found["workspace"], "restore_failed", f"Restoring a {found['agent']} run failed: "
                                   f"{reason}", 1)
        await _tell(found, reason)
    log.warning("retention: restore %s failed: %s", found["id"], reason)
    return "failed"


async def _tell(found: dict[str, Any], error: str | None, *, declined_by: UUID | None = None) -> None:
    """The requester hears the outcome: back, failed (``error``) or declined by an admin (``declined_by``);
    queued in this transaction, so a rolled-back restore or decision sends nothing."""
    workspace = await repository.workspace(found["workspace"])
    if found["requested_by"] is None or workspace is None:
        return
    await notifications.emit("run_restored", found["workspace"], request=found, workspace=workspace, error=error,
                             declined_by=declined_by)
