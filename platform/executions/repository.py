"""Every caller-scoped read of runs, and the one visibility rule they all go through.

The rule (``visible_sql``): a run in the caller's workspace (via the scoping helper), not deleted; admins
see every such run, members those they started (``MINE``) and those shared with them (``SHARED_WITH``).
Its forms are all made here from those same pieces: ``visible`` (a Piccolo Where), ``visible_sql`` (raw
SQL), the list's keyset walks (one per arm of the rule, see ``list_sql``) and ``visible_ids`` (which runs of
some live events the caller may see). No read here trusts that "the caller checked": each takes the scope.
Changing a run (``get(..., to_act=True)``, ``may_act``) is a separate rule: who started it and admins.
The run's lifecycle writes and reads by id are in ``lifecycle_repository``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from piccolo.columns.combination import Where, WhereRaw

from agentledger.platform.database import fetch, records
from agentledger.platform.errors import Conflict, Forbidden, NotFound
from agentledger.platform.executions import states
from agentledger.platform.executions.present import COLUMNS
from agentledger.platform.executions.tables import Execution, ExecutionItem, ExecutionLog, ExecutionStep
from agentledger.platform.scoping import Scope, workspace_sql

# The rule's pieces (``{e}``: the runs' alias; ``{{}}``: the member's user id).
ALIVE = "{e}.deleted_at IS NULL"
MINE = "{e}.started_by = {{}}"
SHARES, SHARE_RUN, SHARE_FOR = "execution_shares s", "s.execution", 's."user" = {}'
ARCHIVED = "this run is archived: restore it first (its record is in storage until then)"
SHARED_WITH = f"SELECT {SHARE_RUN} FROM {SHARES} WHERE {SHARE_FOR}"
"""The runs shared with a member (``{}``: their user id)."""


def _everyone(scope: Scope, e: str) -> tuple[list[str], list[Any]]:
    """What every caller's view is cut to: their workspace, no deleted run."""
    return [workspace_sql(e), ALIVE.format(e=e)], [scope.workspace_id]


def visible_sql(scope: Scope, e: str = "e") -> tuple[str, list[Any]]:
    """The rule as one raw-SQL condition on the runs aliased ``e`` (``{}`` placeholders) and its arguments."""
    where, args = _everyone(scope, e)
    if not scope.is_admin:
        where.append(f"({MINE.format(e=e)} OR {e}.id IN ({SHARED_WITH}))")
        args += [scope.user_id, scope.user_id]
    return " AND ".join(where), args


def visible(scope: Scope) -> Where:
    """The rule as a Piccolo Where on ``Execution``."""
    sql, args = visible_sql(scope, "executions")
    return WhereRaw(sql, *args)


_WITH_VERSION = (
    *Execution.all_columns(),
    Execution.agent_version.label.as_alias("version_label"),
    Execution.agent_version.sha256.as_alias("version_sha256"),
    Execution.started_by.name.as_alias("started_by_name"),
)


async def get(scope: Scope, execution_id: UUID, *, to_act: bool = False, whole: bool = False) -> dict[str, Any]:
    """A run the caller may see (404 otherwise); ``to_act``: one they may also change (403 for a run
    that was only shared with them); ``whole``: its record is needed (inputs, steps, items: a re-run or a
    continuation), so an archived run is a 409 that says to restore it."""
    row = await Execution.select(*_WITH_VERSION).where(visible(scope) & (Execution.id == execution_id)).output(
        load_json=True).first()
    if row is None:
        raise NotFound("execution not found")
    if whole and row["archived_at"] is not None:
        raise Conflict(ARCHIVED, field="execution")
    if to_act:
        if not may_act(scope, row):
            raise Forbidden("this run was shared with you to read; only whoever started it or an admin can change it")
        await hold(scope, execution_id)
    return row


async def hold(scope: Scope, execution_id: UUID) -> None:
    """Before a change to a run's record (a decision, an edit, a share, a push): a share lock on the run
    until the transaction ends, so an archiving pass (which locks the runs it takes ``FOR UPDATE``) never
    archives a record half-changed, and a change never lands on a run archived meanwhile: 409."""
    rows = await fetch(f"SELECT archived_at FROM executions WHERE id = {{}} AND {workspace_sql()} FOR KEY SHARE",
                       execution_id, scope.workspace_id)
    if rows and rows[0]["archived_at"] is not None:
        raise Conflict(ARCHIVED, field="execution")


def may_act(scope: Scope, row: dict[str, Any]) -> bool:
    return scope.is_admin or row["started_by"] == scope.user_id


async def visible_ids(scope: Scope, run_ids: list[str]) -> set[str]:
    """Which of these runs the caller may see (for the live events of the list, which carry a run's id)."""
    if not run_ids:
        return set()
    where, args = visible_sql(scope)
    rows = await records(f"SELECT e.id FROM executions e WHERE {where} AND e.id = ANY({{}}::uuid[])", *args,
                         [UUID(r) for r in run_ids])
    return {str(row["id"]) for row in rows}


async def code(scope: Scope, execution_id: UUID) -> dict[str, Any]:
    """The exact source the run was started with."""
    row = await Execution.select(
        Execution.agent, Execution.agent_version.label.as_alias("label"),
        Execution.agent_version.sha256.as_alias("sha256"), Execution.agent_version.source.as_alias("source"),
    ).where(visible(scope) & (Execution.id == execution_id)).first()
    if row is None:
        raise NotFound("execution not found")
    if row["sha256"] is None:
        raise NotFound("this run's version was not tracked")
    return row


def _of_visible_run(scope: Scope, table: str, execution_id: UUID) -> Where:
    """A child table's rows of one run, if the caller may see the run (a primary-key probe in the same
    statement: no extra round trip)."""
    where, args = visible_sql(scope)
    return WhereRaw(f"{table}.execution = {{}} AND EXISTS (SELECT 1 FROM executions e WHERE e.id = {{}} AND {where})",
                    execution_id, execution_id, *args)


async def children(scope: Scope, execution_id: UUID) -> dict[str, list[dict[str, Any]]]:
    """A run's steps, log and items, for a caller who may see the run (404 otherwise: each statement
    carries the rule, and a run with none of them is looked up to tell "none yet" from "not yours")."""
    steps = await ExecutionStep.select().where(_of_visible_run(scope, "execution_steps", execution_id)).order_by(
        ExecutionStep.attempt).order_by(ExecutionStep.position)
    logs = await ExecutionLog.select().where(_of_visible_run(scope, "execution_logs", execution_id)).order_by(
        ExecutionLog.id)
    items = await ExecutionItem.select().where(_of_visible_run(scope, "execution_items", execution_id)).order_by(
        ExecutionItem.at)
    if not (steps or logs or items):
        where, args = visible_sql(scope)
        if not await fetch(f"SELECT 1 FROM executions e WHERE e.id = {{}} AND {where}", execution_id, *args):
            raise NotFound("execution not found")
    return {"steps": steps, "log": logs, "items": items}


async def step_value(scope: Scope, execution_id: UUID, attempt: int, position: int, part: str) -> Any:
    """One step's recorded input or output (``part``), for a run the caller may see."""
    await get(scope, execution_id)
    column = {"input": ExecutionStep.input, "output": ExecutionStep.output}[part]
    row = await ExecutionStep.select(column).where(
        (ExecutionStep.execution == execution_id) & (ExecutionStep.attempt == attempt)
        & (ExecutionStep.position == position)).output(load_json=True).first()
    if row is None:
        raise NotFound("step not found")
    return row[part]


async def get_in_full(scope: Scope, execution_id: UUID) -> dict[str, Any]:
    """A run the caller may see, with the names behind its trigger: what a single read shows."""
    row = await get(scope, execution_id)
    return {**row, **await trigger_names(row)}


async def trigger_names(row: dict[str, Any]) -> dict[str, str | None]:
    """The names behind a run's trigger (the API token, the schedule), by the ids the run itself keeps."""
    if not row.get("trigger_token") and not row.get("schedule"):
        return {"token_name": None, "schedule_name": None}
    found = await fetch("SELECT (SELECT name FROM api_tokens WHERE id = {}) AS token_name, "
                        "(SELECT name FROM schedules WHERE id = {}) AS schedule_name",
                        row.get("trigger_token"), row.get("schedule"))
    return found[0]


# --- The run list (``listing`` checks the filters and pages; the statement is made here) -------------


# The run's own columns are read from ``e``; these are looked up per row: version and starter as
# primary-key probes, not joins (20 probes whatever the planner thinks of the tables' sizes; joined, a
# generic plan may hash a whole table for 20 rows), and a preview of the run's results.
LOOKUPS = {
    "version_label": "(SELECT v.label FROM agent_versions v WHERE v.id = e.agent_version)",
    "version_sha256": "(SELECT v.sha256 FROM agent_versions v WHERE v.id = e.agent_version)",
    "started_by_name": "(SELECT u.name FROM users u WHERE u.id = e.started_by)",
    "preview": "(SELECT jsonb_build_object('counts', (SELECT coalesce(jsonb_object_agg(kind, n), jsonb_build_object()) "
               "FROM (SELECT kind, count(*) AS n FROM execution_results r WHERE r.execution = e.id GROUP BY kind) k), "
               "'score', (SELECT body->'value' FROM execution_results r WHERE r.execution = e.id "
               "AND r.kind = 'score' ORDER BY seq LIMIT 1)))",
}
# In ``present.COLUMNS`` order, so ``present.listed`` unpacks a row by position; then the cursor's column.
SELECTED = ", ".join(f"{LOOKUPS[c]} AS {c}" if c in LOOKUPS else f"e.{c}" for c in COLUMNS) + ", e.created_at"


def filter_sql(*, started_by: UUID | None = None, agent: str | None = None, statuses: list[str] | None = None,
               triggered_by: str | None = None, mode: str | None = None, since: datetime | None = None,
               until: datetime | None = None) -> tuple[list[str], list[Any]]:
    """The list's filters (already checked by ``listing.Filters``) as conditions on ``e``."""
    where: list[str] = []
    args: list[Any] = []

    def add(sql: str, *values: Any) -> None:
        where.append(sql)
        args.extend(values)

    if started_by is not None:
        add(MINE.format(e="e"), started_by)
    if agent:
        add("e.agent = {}", agent)
    if statuses is not None:
        # Written into the statement, not bound: the values come from STATUSES only, and the planner then
        # sees them even in a prepared statement's generic plan, so a rare status (the Running tab) is read
        # from the status index instead of walking the workspace's whole history.
        known = [s for s in states.STATUSES if s in statuses]
        where.append("e.status IN (" + ", ".join(f"'{s}'" for s in known) + ")" if known else "FALSE")
    if triggered_by:
        add("e.triggered_by = {}", triggered_by)
    if mode:
        add("e.mode = {}", mode)
    if since:
        add("e.created_at >= {}", since)
    if until:
        add("e.created_at < {}", until)
    return where, args


def list_sql(scope: Scope, conditions: list[str], condition_args: list[Any], after: tuple[Any, Any] | None,
             *, newer: bool, size: int) -> tuple[str, list[Any]]:
    """The run list's one statement (``{}`` placeholders): ``size`` runs the caller may see meeting
    ``conditions`` (from ``filter_sql``), after the cursor ``after`` (created_at, id), newest first (``newer``:
    oldest first, for the page before the cursor), with version, starter and result preview.

    The rule, walked by keyset: an admin's runs are one walk of the ``(workspace, created_at, id)`` index;
    a member's are the rule's two arms, each its own walk cut at ``size`` and then merged: ``MINE`` on the
    ``started_by`` index, and ``SHARED_WITH`` on their shares in run order (the shares carry their run's
    created_at: ``("user", run_created_at, execution)``), without the runs they started (counted once).
    ``size`` is an int written into the text (one generic plan per page size; see ``listing.sql``)."""
    base, args = _everyone(scope, "e")
    cmp = ">" if newer else "<"
    where = [*base, *conditions, *([f"(e.created_at, e.id) {cmp} ({{}}, {{}})"] if after else [])]
    args += [*condition_args, *(after or ())]
    where_sql = " AND ".join(where)
    order = "ASC" if newer else "DESC"
    keyset = f"ORDER BY e.created_at {order}, e.id {order} LIMIT {int(size)}"
    if scope.is_admin:
        rows, row_args = f"SELECT * FROM executions e WHERE {where_sql} {keyset}", args
    else:
        own = f"SELECT * FROM executions e WHERE {where_sql} AND {MINE.format(e='e')} {keyset}"
        shares_after = f"AND (s.run_created_at, {SHARE_RUN}) {cmp} ({{}}, {{}}) " if after else ""
        shared = (f"SELECT e.* FROM {SHARES} JOIN executions e ON e.id = {SHARE_RUN} WHERE {SHARE_FOR} "
                  f"{shares_after}AND {where_sql} AND e.started_by IS DISTINCT FROM {{}} "
                  f"ORDER BY s.run_created_at {order}, {SHARE_RUN} {order} LIMIT {int(size)}")
        rows = f"SELECT * FROM (({own}) UNION ALL ({shared})) e {keyset}"
        row_args = [*args, scope.user_id, scope.user_id, *(after or ()), *args, scope.user_id]
    return f"SELECT {SELECTED} FROM ({rows}) e ORDER BY e.created_at {order}, e.id {order}", row_args


async def list_page(text: str, args: list[Any]) -> list[Any]:
    """The list's statement (from ``list_sql``) sent: records in ``present.COLUMNS`` order, then created_at."""
    return await records(text, *args)


async def preview_of(scope: Scope, execution_id: UUID) -> str | None:
    """A run's result preview (the list's ``preview`` column) if the caller may see the run."""
    where, args = visible_sql(scope)
    rows = await records(f"SELECT {LOOKUPS['preview']} FROM executions e WHERE {where} AND e.id = {{}}",
                         *args, execution_id)
    return rows[0][0] if rows else None


# --- Runs as other domains' statements name them (one round trip, the run's SQL kept here) -----------

async def run_names(scope: Scope, execution_ids: list[UUID]) -> dict[UUID, dict[str, Any]]:
    """Each run's ``agent``, ``started_by`` and ``started_by_name``, by id, for the workspace's books (the
    ledger names the run behind each movement, deleted runs too: the books keep every movement). One
    primary-key probe per id of a page already cut to size."""
    if not execution_ids:
        return {}
    rows = await fetch("SELECT e.id, e.agent, e.started_by, u.name AS started_by_name FROM executions e "
                       f"LEFT JOIN users u ON u.id = e.started_by WHERE {workspace_sql('e')} AND e.id = ANY({{}})",
                       scope.workspace_id, list(set(execution_ids)))
    return {r["id"]: {"agent": r["agent"], "started_by": r["started_by"], "started_by_name": r["started_by_name"]}
            for r in rows}


def run_alive_sql(run_column: str) -> str:
    """A condition: the run in ``run_column`` is not deleted (a shared link works only while its run is there)."""
    return f"EXISTS (SELECT 1 FROM executions e WHERE e.id = {run_column} AND {ALIVE.format(e='e')})"


def run_not_started_by_sql(run_column: str) -> str:
    """A condition (one ``{}``: a user id): the run in ``run_column`` was not started by that user."""
    return f"EXISTS (SELECT 1 FROM executions e WHERE e.id = {run_column} AND e.started_by IS DISTINCT FROM {{}})"


async def agent_outcomes(scope: Scope, since: Any, until: Any, *, own: bool) -> list[dict[str, Any]]:
    """Per agent, the live runs queued in ``[since, until)`` (``own``: the caller's only, for a member's
    usage): how many, how many failed or timed out, how many someone re-ran, and the recommendations people
    approved and applied. The credit audit sets them against the credits each agent was charged."""
    where, args = f"{workspace_sql('e')} AND e.mode = 'live' AND e.queued_at >= {{}} AND e.queued_at < {{}}", [
        scope.workspace_id, since, until]
    if own:
        where += " AND e.started_by = {}"
        args.append(scope.user_id)
    # the workspace's re-run runs, read once as a set (rerun_of has no index: a per-row probe would scan the
    # table once for every run of the period)
    rerun = f"e.id IN (SELECT r2.rerun_of FROM executions r2 WHERE {workspace_sql('r2')} AND r2.rerun_of IS NOT NULL)"
    return await fetch(
        "SELECT e.agent, count(*) AS runs, count(*) FILTER (WHERE e.status IN ('failed', 'timed_out')) AS failed, "
        f"count(*) FILTER (WHERE {rerun}) AS rerun, "
        "COALESCE(sum(x.approved), 0)::bigint AS approved, COALESCE(sum(x.applied), 0)::bigint AS applied "
        "FROM executions e LEFT JOIN LATERAL (SELECT count(*) FILTER (WHERE r.status IN ('approved', 'applied')) "
        "AS approved, count(*) FILTER (WHERE r.status = 'applied') AS applied FROM execution_results r "
        f"WHERE r.execution = e.id AND r.kind = 'recommendation') x ON TRUE WHERE {where} GROUP BY e.agent",
        scope.workspace_id, *args)


# --- the weekly digest: each person's own runs over their own week, many people per statement ----------
_WINDOWS = "unnest({}::uuid[], {}::timestamptz[], {}::timestamptz[]) AS p(person, since, until)"
_THEIR_RUNS = (f"FROM {_WINDOWS} JOIN executions e ON e.started_by = p.person AND e.queued_at >= p.since "
               "AND e.queued_at < p.until AND e.mode = 'live'")


def _window_args(windows: list[tuple[UUID, Any, Any]]) -> list[list[Any]]:
    return [[w[0] for w in windows], [w[1] for w in windows], [w[2] for w in windows]]


async def digest_activity(windows: list[tuple[UUID, Any, Any]]) -> dict[str, list[dict[str, Any]]]:
    """For each ``(person, since, until)``: the live runs they started in that window (their own, which
    they always see), per workspace: counts and credits by status, the failures to look at (newest five),
    the best scores (top three) and the recommendations applied. Set-based, so a batch of people costs a
    few statements, not a few per person."""
    args = _window_args(windows)
    by_status = await fetch(
        "SELECT p.person, e.workspace, e.status, count(*) AS runs, COALESCE(sum(e.credits_charged), 0)::bigint "
        f"AS credits {_THEIR_RUNS} GROUP BY 1, 2, 3", *args)
    failures = await fetch(
        "SELECT person, workspace, id, agent, status, error_message, queued_at FROM (SELECT p.person, e.workspace, e.id, "
        "e.agent, e.status, e.error_message, e.queued_at, row_number() OVER (PARTITION BY p.person, e.workspace "
        f"ORDER BY e.queued_at DESC) AS n {_THEIR_RUNS} AND e.status IN ('failed', 'timed_out')) f WHERE n <= 5 "
        "ORDER BY queued_at DESC", *args)
    scores = await fetch(
        "SELECT person, workspace, execution, agent, title, value, scale, unit FROM (SELECT p.person, e.workspace, "
        "e.id AS execution, e.agent, r.title, (r.body->>'value')::float AS value, (r.body->>'scale')::float AS scale, "
        "r.body->>'unit' AS unit, row_number() OVER (PARTITION BY p.person, e.workspace ORDER BY "
        f"(r.body->>'value')::float / NULLIF((r.body->>'scale')::float, 0) DESC NULLS LAST) AS n {_THEIR_RUNS} "
        "JOIN execution_results r ON r.execution = e.id AND r.kind = 'score') s WHERE n <= 3", *args)
    applied = await fetch(
        "SELECT p.person, e.workspace, count(*) AS applied "
        f"{_THEIR_RUNS} JOIN execution_results r ON r.execution = e.id AND r.kind = 'recommendation' "
        "AND r.status = 'applied' GROUP BY 1, 2", *args)
    return {"by_status": by_status, "failures": failures, "scores": scores, "applied": applied}
