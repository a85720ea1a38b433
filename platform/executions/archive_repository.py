"""Every statement retention sends about a run's record: which runs are due, the archive document of each,
the swap of a run's rows for its tombstone, and putting them back.

Every value of the document is made by PostgreSQL (``row_to_json`` of each row; Python only splices
those texts in a fixed key order) and restored by PostgreSQL (``jsonb_populate_recordset`` of the same
rows), so every value goes out and comes back in the database's own text form: timestamps to the
microsecond, numbers in JSON columns digit for digit, ids and sequence numbers as they were.

The tombstone is the run's own ``executions`` row: its record (steps, log, items, reviews, results and
their revisions) is deleted, its inputs and traceback emptied, and ``archived_at`` and ``archive_*`` say
where the document is. Shares and share links stay (they say who may see the tombstone); the ledger is
never touched."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from agentledger.platform.database import fetch, records
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

# the record's parts: document key -> (table, how its rows are ordered); each row belongs to its run by its
# ``execution`` column
PARTS: dict[str, tuple[type, str]] = {
    "steps": (ExecutionStep, "x.attempt, x.position, x.id"),
    "log": (ExecutionLog, "x.id"),
    "items": (ExecutionItem, "x.at, x.id"),
    "reviews": (ExecutionReview, "x.created_at, x.id"),
    "results": (ExecutionResult, "x.seq"),
    "revisions": (ResultRevision, "x.result, x.version"),
}
KEPT = {  # copied into the document for the record, and left in place (see the module's docstring)
    "shares": ("execution_shares", "x.created_at, x.id"),
    "links": ("share_links", "x.created_at, x.id"),
}
# what the tombstone keeps of the archive, and what a restore must not take from the document
ARCHIVE_COLUMNS = ("archived_at", "archive_key", "archive_offset", "archive_size", "archive_sha256", "archive_files",
                   "restored_at", "files_removed_at")


def _part(key: str, table: str, order: str) -> str:
    """One part of every document of the batch: its rows per run, as one JSON array each."""
    return (f"SELECT '{key}' AS part, x.execution AS id, NULL::uuid AS ref, 0 AS n, convert_to(json_agg("
            f"row_to_json(x) ORDER BY {order})::text, 'UTF8') AS json FROM {table} x "
            "WHERE x.execution = ANY(ARRAY(SELECT id FROM runs)) GROUP BY x.execution")


# One statement answers every part of every run of the batch (a row per run and part), and Python splices
# the documents from PostgreSQL's JSON text. Each value is still ``row_to_json``'s (text, columns in table
# order: the same values for ``jsonb_populate_record`` to read back), and its bytes (``convert_to``) are
# never decoded and encoded again on their way to gzip. Per part rather than per run: a subquery per run
# and part cost an index descent and an executor start each (about 4 µs even when empty, ten a run), and
# one scan per part for the whole batch halved the database's time per document (about 140 to 70 µs). A
# batch's runs mostly share a version: its row (with the code) is made JSON once. The runs' children are
# found through ``runs``, the batch's runs of this workspace, never by the ids given alone. Each row is
# (part, id, ref, n, json): ``ref`` is a run's version; ``n`` is 1 for a run whose files are still kept, and
# for ``files`` how many there are.
_BRANCHES = [
    "SELECT 'execution' AS part, e.id, e.agent_version, (e.files_removed_at IS NULL)::int, "
    "convert_to(row_to_json(e)::text, 'UTF8') FROM runs e",
    "SELECT 'agent_version', v.id, NULL, 0, convert_to(row_to_json(v)::text, 'UTF8') FROM agent_versions v "
    "WHERE v.id IN (SELECT agent_version FROM runs)",
    "SELECT 'archived_at', NULL, NULL, 0, convert_to(to_json(now())::text, 'UTF8')",
    *(_part(key, table._meta.tablename, order) for key, (table, order) in PARTS.items()),
    *(_part(key, table, order) for key, (table, order) in KEPT.items()),
    "SELECT 'files', r.execution, NULL, count(*)::int, convert_to(json_agg(json_build_object('result', r.id, "
    "'name', r.title, 'key', r.body->>'key', 'content_type', r.body->>'content_type', 'size', r.body->'size', "
    "'removed_at', e.files_removed_at) ORDER BY r.seq)::text, 'UTF8') FROM execution_results r "
    "JOIN runs e ON e.id = r.execution WHERE r.execution = ANY(ARRAY(SELECT id FROM runs)) AND r.kind = 'artifact' "
    "GROUP BY r.execution, e.files_removed_at",
]
# ``batch`` finds the runs by primary key alone and ``runs`` keeps the workspace's: written as one condition,
# PostgreSQL's generic plan (a prepared statement run hundreds of times) also read the workspace's whole
# index, every one of its runs, for each batch of 500.
DOCUMENT_SQL = ("WITH batch AS MATERIALIZED (SELECT e.* FROM executions e WHERE e.id = ANY({}::uuid[])), "
                f"runs AS MATERIALIZED (SELECT * FROM batch e WHERE {workspace_sql('e')}) "
                + " UNION ALL ".join(f"({branch})" for branch in _BRANCHES))


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
    """Each run's archive document (UTF-8 JSON and a newline, as bytes: the format, the run, its version,
    every part, its files' index), and how many of its files are still in storage. Runs not in the
    workspace get none."""
    runs, versions, parts, stamp = [], {}, {key: {} for key in (*PARTS, *KEPT, "files")}, b"null"
    for part, run_id, ref, count, text in await records(DOCUMENT_SQL, ids, workspace_id):
        if part == "execution":
            runs.append((run_id, ref, count, text))
        elif part == "agent_version":
            versions[run_id] = text
        elif part == "archived_at":
            stamp = text
        else:
            parts[part][run_id] = (count, text)
    head = f'{{"format":"{FORMAT}","version":{VERSION},"archived_at":'.encode() + stamp + b',"execution":'
    named = [(f',"{key}":'.encode(), parts[key]) for key in (*PARTS, *KEPT)]
    empty = (0, b"[]")
    found = []
    for run_id, version, files_kept, text in runs:
        pieces = [head, text, b',"agent_version":', versions.get(version, b"null")]
        for name, rows in named:
            pieces += (name, rows.get(run_id, empty)[1])
        files = parts["files"].get(run_id, empty)
        pieces += (b',"files":', files[1], b"}\n")
        found.append({"id": run_id, "files": files[0] * files_kept, "document": b"".join(pieces)})
    return found


# The swap in one statement: the batch's entries travel once, as one JSON parameter, and every delete finds
# its runs through them (``t``). Sent as six statements with the ids as ``uuid[]`` parameters (eleven arrays
# of the batch's ids), encoding the arrays cost the pass's main thread more than the statements' answers,
# and a batch waited six round trips; as one, the database's time per pass fell by about 4%
# (bench/archive.py). The deletes are data-modifying CTEs: each runs once, whether or not it is read. The
# revisions are deleted by their run like the rest: no foreign key cascades from a result to them (its trigger
# ran once per deleted result; see the migration that gave revisions their run).
_DELETES = ", ".join(f"{table}_gone AS (DELETE FROM {table} WHERE execution = ANY(ARRAY(SELECT id FROM t)){scope})"
                     for table, scope in (("execution_results", f" AND {workspace_sql()}"),
                                          ("execution_reviews", f" AND {workspace_sql()}"),
                                          ("result_revisions", ""), ("execution_steps", ""), ("execution_logs", ""),
                                          ("execution_items", "")))
TOMBSTONE_SQL = (
    "WITH t AS MATERIALIZED (SELECT * FROM json_to_recordset({}::json) AS t(id uuid, key text, off bigint, "
    f"size bigint, sha text, files int)), {_DELETES} "
    "UPDATE executions e SET archived_at = now(), archive_key = t.key, archive_offset = t.off, "
    "archive_size = t.size, archive_sha256 = t.sha, archive_files = t.files, restored_at = NULL, "
    f"inputs = jsonb_build_object(), error_traceback = NULL FROM t WHERE e.id = t.id AND {workspace_sql('e')} "
    "AND e.archived_at IS NULL RETURNING e.id"
)


async def tombstone(workspace_id: UUID, entries: list[dict[str, Any]]) -> int:
    """Swap each run's record for its tombstone (``entries``: id, key, offset, size, sha256, files).
    Answers how many runs became tombstones (a run archived meanwhile is not counted twice)."""
    batch = json.dumps([{"id": str(e["id"]), "key": e["key"], "off": e["offset"], "size": e["size"],
                        "sha": e["sha256"], "files": e["files"]} for e in entries])
    # the workspace once for each of the statement's three conditions on it
    return len(await records(TOMBSTONE_SQL, batch, workspace_id, workspace_id, workspace_id))


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
    for key, (table, _) in PARTS.items():
        # every part's rows belong to this run: its id is set, not read (documents made before revisions
        # had a column of their run's have none there)
        columns = [c for c in _columns(table, keys.get(key, set())) if c != "execution"]
        if not columns:
            continue  # the run had none
        listed = ", ".join(f'"{c}"' for c in columns)
        name = table._meta.tablename
        await fetch(f"INSERT INTO {name} ({listed}, execution) SELECT {listed}, {{}}::uuid FROM "
                    f"jsonb_populate_recordset(NULL::{name}, {{}}::jsonb -> '{key}')", execution_id, document)
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
