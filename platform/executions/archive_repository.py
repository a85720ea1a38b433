"""Every statement retention sends about a run's record: which runs are due, the archive document of each,
the swap of a run's rows for its tombstone, and putting them back.

The document is made by PostgreSQL (``to_jsonb`` of each row, ``json_build_object`` in a fixed key
order) and restored by PostgreSQL (``jsonb_populate_recordset`` of the same rows), so every value goes
out and comes back in the database's own text form: timestamps to the microsecond, numbers in JSON
columns digit for digit, ids and sequence numbers as they were. Python only carries the text.

The tombstone is the run's own ``executions`` row: its record (steps, log, items, reviews, results and
their revisions) is deleted, its inputs and traceback emptied, and ``archived_at`` and ``archive_*`` say
where the document is. Shares and share links stay (they say who may see the tombstone); the ledger is
never touched."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from agentledger.platform.database import fetch
from agentledger.platform.executions import states
from agentledger.platform.executions.tables import (
    Execution,
    ExecutionItem,
    ExecutionLog,
    ExecutionReview,
    ExecutionStep,
)
from agentledger.platform.results.tables import ExecutionResult, ResultRevision
from agentledger.platform.scoping import workspace_sql

FORMAT, VERSION = "agentledger.execution-archive", 1
SUCCEEDED_SQL = ", ".join(f"'{s}'" for s in states.SUCCEEDED)
ENDED_SQL = ", ".join(f"'{s}'" for s in states.FINAL if s not in states.SUCCEEDED)

# the record's parts: document key -> (table, how its rows are ordered, how they belong to the run)
PARTS: dict[str, tuple[type, str, str]] = {
    "steps": (ExecutionStep, "x.attempt, x.position, x.id", "x.execution = e.id"),
    "log": (ExecutionLog, "x.id", "x.execution = e.id"),
    "items": (ExecutionItem, "x.at, x.id", "x.execution = e.id"),
    "reviews": (ExecutionReview, "x.created_at, x.id", "x.execution = e.id"),
    "results": (ExecutionResult, "x.seq", "x.execution = e.id"),
    "revisions": (ResultRevision, "x.result, x.version",
                  "x.result IN (SELECT r.id FROM execution_results r WHERE r.execution = e.id)"),
}
KEPT = {  # copied into the document for the record, and left in place (see the module's docstring)
    "shares": ("execution_shares", "x.created_at, x.id"),
    "links": ("share_links", "x.created_at, x.id"),
}
# what the tombstone keeps of the archive, and what a restore must not take from the document
ARCHIVE_COLUMNS = ("archived_at", "archive_key", "archive_offset", "archive_size", "archive_sha256", "archive_files",
                   "restored_at", "files_removed_at")


def _agg(table: str, order: str, belongs: str) -> str:
    return f"coalesce((SELECT json_agg(row_to_json(x) ORDER BY {order}) FROM {table} x WHERE {belongs}), '[]'::json)"


# ``row_to_json`` (text, columns in table order) rather than ``to_jsonb`` (binary, keys re-sorted): the same
# values for ``jsonb_populate_record`` to read back, at a third less of the database's time; the document
# leaves as bytes (``convert_to``), so it is never decoded and encoded again on its way to gzip. A batch's
# runs mostly share a version: its row (with the code) is made JSON once per batch, not once per run, and
# a run's files are read once for both their index and their count.
DOCUMENT_SQL = (
    "SELECT e.id, CASE WHEN e.files_removed_at IS NULL THEN f.n ELSE 0 END AS files, "
    f"convert_to(json_build_object('format', '{FORMAT}', 'version', {VERSION}, 'archived_at', now(), "
    "'execution', row_to_json(e), 'agent_version', v.doc, "
    + ", ".join(f"'{key}', {_agg(table._meta.tablename, order, belongs)}" for key, (table, order, belongs) in PARTS.items())
    + ", " + ", ".join(f"'{key}', {_agg(table, order, 'x.execution = e.id')}" for key, (table, order) in KEPT.items())
    + ", 'files', f.list)::text || E'\\n', 'UTF8') AS document "
    "FROM executions e "
    "LEFT JOIN (SELECT v.id, row_to_json(v) AS doc FROM agent_versions v WHERE v.id IN "
    "(SELECT x.agent_version FROM executions x WHERE x.id = ANY({}::uuid[]))) v ON v.id = e.agent_version "
    "CROSS JOIN LATERAL (SELECT count(*) AS n, coalesce(json_agg(json_build_object('result', r.id, 'name', r.title, "
    "'key', r.body->>'key', 'content_type', r.body->>'content_type', 'size', r.body->'size', 'removed_at', "
    "e.files_removed_at) ORDER BY r.seq), '[]'::json) AS list FROM execution_results r WHERE r.execution = e.id "
    "AND r.kind = 'artifact') f "
    f"WHERE e.id = ANY({{}}::uuid[]) AND {workspace_sql('e')}"  # unsorted: no sort of big text
)


def _due_sql(count: bool) -> str:
    head = "SELECT count(*) AS n" if count else "SELECT e.id, e.finished_at"
    # a pass walks the due runs oldest first from where its last batch ended: the runs it archived stay in
    # the index as dead entries until a vacuum, and starting from the front each time would step over all
    # of them again (measured: 100,000 runs took a third longer per run than 10,000)
    tail = "" if count else (" AND (e.finished_at, e.id) > ({}::timestamptz, {}::uuid) ORDER BY e.finished_at, e.id "
                             "LIMIT {} FOR UPDATE OF e SKIP LOCKED")
    return (
        f"{head} FROM executions e WHERE {workspace_sql('e')} AND e.archived_at IS NULL AND e.finished_at IS NOT NULL "
        f"AND ((e.status IN ({SUCCEEDED_SQL}) AND e.finished_at < {{}}) OR (e.status IN ({ENDED_SQL}) "
        "AND e.finished_at < {})) AND (e.restored_at IS NULL OR e.restored_at < {}) "
        "AND NOT EXISTS (SELECT 1 FROM execution_results r WHERE r.execution = e.id AND r.apply_started_at > {})"
        + tail
    )


async def count_due(workspace_id: UUID, completed_before: datetime, ended_before: datetime,
                    restored_before: datetime, push_window: timedelta) -> int:
    """How many runs a pass would archive now under these cut-offs (the policy page's preview)."""
    rows = await fetch(_due_sql(True), workspace_id, completed_before, ended_before, restored_before,
                       datetime.now().astimezone() - push_window)
    return rows[0]["n"]


async def lock_due(workspace_id: UUID, completed_before: datetime, ended_before: datetime,
                   restored_before: datetime, push_window: timedelta, after: tuple[datetime, UUID],
                   limit: int) -> list[dict[str, Any]]:
    """Up to ``limit`` due runs (id, finished_at) after ``after`` in (finished_at, id) order, locked until
    the transaction ends. Skipped: runs another pass holds, runs a person is changing right now (``hold``
    takes a share lock first), and runs with a change being pushed to a site (its outcome must find its
    result); the next pass takes them."""
    return await fetch(_due_sql(False), workspace_id, completed_before, ended_before, restored_before,
                       datetime.now().astimezone() - push_window, *after, limit)


async def lock_one(workspace_id: UUID, execution_id: UUID, push_window: timedelta) -> dict[str, Any] | None:
    """One run, locked for archiving now (an admin's "archive now"), with what decides whether it may be."""
    rows = await fetch(
        "SELECT e.id, e.status, e.archived_at, EXISTS (SELECT 1 FROM execution_results r WHERE r.execution = e.id "
        f"AND r.apply_started_at > {{}}) AS pushing FROM executions e WHERE e.id = {{}} AND {workspace_sql('e')} "
        "FOR UPDATE OF e", datetime.now().astimezone() - push_window, execution_id, workspace_id)
    return rows[0] if rows else None


async def documents(workspace_id: UUID, ids: list[UUID]) -> list[dict[str, Any]]:
    """Each run's archive document (UTF-8 JSON and a newline, as bytes), and how many of its files are still
    in storage."""
    return await fetch(DOCUMENT_SQL, ids, ids, workspace_id)


async def tombstone(workspace_id: UUID, entries: list[dict[str, Any]]) -> int:
    """Swap each run's record for its tombstone (``entries``: id, key, offset, size, sha256, files).
    Answers how many runs became tombstones (a run archived meanwhile is not counted twice)."""
    ids = [entry["id"] for entry in entries]
    # a result's revisions go with it (ON DELETE CASCADE): its foreign key's trigger runs for every deleted
    # result either way, and finding the revisions then costs less than a statement of their own before
    for table in ("execution_results", "execution_reviews"):
        await fetch(f"DELETE FROM {table} WHERE execution = ANY({{}}::uuid[]) AND {workspace_sql()}", ids, workspace_id)
    for table in ("execution_steps", "execution_logs", "execution_items"):  # no workspace column: by the run's id
        await fetch(f"DELETE FROM {table} WHERE execution = ANY({{}}::uuid[])", ids)
    rows = await fetch(
        "UPDATE executions e SET archived_at = now(), archive_key = t.key, archive_offset = t.off, "
        "archive_size = t.size, archive_sha256 = t.sha, archive_files = t.files, restored_at = NULL, "
        "inputs = jsonb_build_object(), error_traceback = NULL FROM unnest({}::uuid[], {}::text[], {}::bigint[], {}::bigint[], "
        f"{{}}::text[], {{}}::int[]) AS t(id, key, off, size, sha, files) WHERE e.id = t.id AND {workspace_sql('e')} "
        "AND e.archived_at IS NULL RETURNING e.id",
        ids, [e["key"] for e in entries], [e["offset"] for e in entries], [e["size"] for e in entries],
        [e["sha256"] for e in entries], [e["files"] for e in entries], workspace_id)
    return len(rows)


async def tombstone_of(workspace_id: UUID, execution_id: UUID, *, lock: bool = False) -> dict[str, Any] | None:
    """An archived run's tombstone (None when the run is not archived, or not in the workspace)."""
    rows = await fetch(
        "SELECT id, agent, status, archived_at, archive_key, archive_offset, archive_size, archive_sha256, "
        f"archive_files, files_removed_at FROM executions WHERE id = {{}} AND {workspace_sql()} "
        "AND archived_at IS NOT NULL" + (" FOR UPDATE" if lock else ""), execution_id, workspace_id)
    return rows[0] if rows else None


def _columns(table: type, present: set[str]) -> list[str]:
    """The table's columns the document has values for (a column added since keeps its default)."""
    return [c._meta.db_column_name for c in table._meta.columns if c._meta.db_column_name in present]


async def restore(workspace_id: UUID, execution_id: UUID, document: str, keys: dict[str, set[str]]) -> bool:
    """Put an archived run's record back from its document (text), exactly as it was; the tombstone becomes
    the run again, keeping what happened while it was archived (its files' removal). ``keys``: the
    columns each part's rows carry. False when the run is no longer archived (restored meanwhile)."""
    run_columns = [c for c in _columns(Execution, keys["execution"]) if c not in ("id", "workspace", *ARCHIVE_COLUMNS)]
    listed = ", ".join(f'"{c}"' for c in run_columns)
    rows = await fetch(
        f"UPDATE executions e SET ({listed}) = (SELECT {listed} FROM jsonb_populate_record(NULL::executions, "
        "{}::jsonb -> 'execution')), archived_at = NULL, archive_key = NULL, archive_offset = NULL, "
        "archive_size = NULL, archive_sha256 = NULL, archive_files = 0, restored_at = now() "
        f"WHERE e.id = {{}} AND {workspace_sql('e')} AND e.archived_at IS NOT NULL RETURNING e.id",
        document, execution_id, workspace_id)
    if not rows:
        return False
    for key, (table, _, _) in PARTS.items():
        columns = _columns(table, keys.get(key, set()))
        if not columns:
            continue  # the run had none
        listed = ", ".join(f'"{c}"' for c in columns)
        name = table._meta.tablename
        await fetch(f"INSERT INTO {name} ({listed}) SELECT {listed} FROM jsonb_populate_recordset(NULL::{name}, "
                    f"{{}}::jsonb -> '{key}')", document)
    return True


async def with_files_due(workspace_id: UUID, before: datetime, limit: int) -> list[dict[str, Any]]:
    """Runs finished before ``before`` whose files are still in storage: hot runs with artifacts, and
    tombstones that kept files. Oldest first."""
    return await fetch(
        f"SELECT e.id, e.archived_at FROM executions e WHERE {workspace_sql('e')} AND e.finished_at < {{}} "
        "AND e.files_removed_at IS NULL AND ((e.archived_at IS NULL AND EXISTS (SELECT 1 FROM execution_results r "
        "WHERE r.execution = e.id AND r.kind = 'artifact')) OR (e.archived_at IS NOT NULL AND e.archive_files > 0)) "
        "ORDER BY e.finished_at, e.id LIMIT {}", workspace_id, before, limit)


async def files_removed(workspace_id: UUID, ids: list[UUID]) -> None:
    await fetch(f"UPDATE executions SET files_removed_at = now() WHERE id = ANY({{}}::uuid[]) AND {workspace_sql()} "
                "AND files_removed_at IS NULL", ids, workspace_id)


async def referenced(workspace_id: UUID, keys: list[str]) -> set[str]:
    """Which of these pack keys some tombstone of the workspace still points at."""
    rows = await fetch(f"SELECT DISTINCT archive_key FROM executions WHERE {workspace_sql()} "
                       "AND archive_key = ANY({}::text[])", workspace_id, keys)
    return {row["archive_key"] for row in rows}
