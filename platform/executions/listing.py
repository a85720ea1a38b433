"""The run list: filters, keyset pages and a preview of each run's results, in one SQL statement.

Written by hand because it is the page people live in and a benchmark holds it to raw-SQL speed: the
row comparison ``(created_at, id) < (…)`` walks the ``(workspace, created_at, id)`` index from the
cursor, so page 1,000 costs what page 1 costs; there is never a COUNT(*).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from agentledger.platform.database import records
from agentledger.platform.errors import Invalid
from agentledger.platform.executions import states
from agentledger.platform.executions.present import COLUMNS, preview
from agentledger.platform.pagination import MAX_LIMIT, PageRequest, decode_cursor, encode_cursor
from agentledger.platform.scoping import Scope, workspace_sql

OUTCOMES = {"success": (states.COMPLETED, states.PARTIAL), "failure": (states.FAILED, states.TIMED_OUT)}
TRIGGERS = ("user", "schedule", "api", "rerun")
STATUSES = (states.QUEUED, states.RUNNING, states.PAUSED, states.AWAITING_REVIEW, *states.FINAL)


@dataclass(frozen=True, slots=True)
class Filters:
    agent: str | None = None
    statuses: tuple[str, ...] = ()
    outcome: str | None = None  # success: completed or partial; failure: failed or timed out
    since: datetime | None = None
    until: datetime | None = None
    triggered_by: str | None = None
    mode: str | None = None
    started_by: UUID | None = None

    def check(self) -> None:
        for status in self.statuses:
            if status not in STATUSES:
                raise Invalid(f"status must be one of {', '.join(STATUSES)}; not '{status}'", field="status")
        if self.outcome is not None and self.outcome not in OUTCOMES:
            raise Invalid("outcome must be 'success' or 'failure'", field="outcome")
        if self.triggered_by is not None and self.triggered_by not in TRIGGERS:
            raise Invalid(f"triggered_by must be one of {', '.join(TRIGGERS)}", field="triggered_by")
        if self.mode is not None and self.mode not in ("live", "test"):
            raise Invalid("mode must be 'live' or 'test'", field="mode")
        for name, value in (("since", self.since), ("until", self.until)):
            if value is not None and value.tzinfo is None:
                raise Invalid(f"{name} needs a time zone, e.g. 2026-11-01T00:00:00Z", field=name)
        if self.since and self.until and self.since >= self.until:
            raise Invalid("since must be before until", field="since")


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


def _where(scope: Scope, filters: Filters, after: tuple[Any, Any] | None,
           newer: bool) -> tuple[list[str], list[Any]]:
    where, args = [workspace_sql("e"), "e.deleted_at IS NULL"], [scope.workspace_id]

    def add(sql: str, *values: Any) -> None:
        where.append(sql)
        args.extend(values)

    if filters.started_by is not None:
        add("e.started_by = {}", filters.started_by)
    if filters.agent:
        add("e.agent = {}", filters.agent)
    statuses = list(filters.statuses) or None
    if filters.outcome:
        wanted = OUTCOMES[filters.outcome]
        statuses = [s for s in statuses if s in wanted] if statuses else list(wanted)
    if statuses is not None:
        # Written into the statement, not bound: the values come from STATUSES only, and the planner then
        # sees them even in a prepared statement's generic plan, so a rare status (the Running tab) is read
        # from the status index instead of walking the workspace's whole history.
        known = [s for s in STATUSES if s in statuses]
        where.append("e.status IN (" + ", ".join(f"'{s}'" for s in known) + ")" if known else "FALSE")
    if filters.triggered_by:
        add("e.triggered_by = {}", filters.triggered_by)
    if filters.mode:
        add("e.mode = {}", filters.mode)
    if filters.since:
        add("e.created_at >= {}", filters.since)
    if filters.until:
        add("e.created_at < {}", filters.until)
    if after:
        add(f"(e.created_at, e.id) {'>' if newer else '<'} ({{}}, {{}})", *after)
    return where, args


def sql(scope: Scope, filters: Filters, request: PageRequest, *, newer: bool = False) -> tuple[str, list[Any]]:
    """The one statement ``page`` sends (``{}`` placeholders, as ``fetch`` takes them) and its arguments,
    after checking the filters and the limit; it reads ``request.limit + 1`` rows to know whether there
    is a next page. ``bench/history.py`` sends the very same text raw through asyncpg.

    A member sees their own runs and the runs shared with them: two keyset walks (their own on the
    ``started_by`` index, the shared ones on their shares in run order), each cut at the page size, merged."""
    if not 1 <= request.limit <= MAX_LIMIT:
        raise Invalid(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
    filters.check()
    after = decode_cursor(request.cursor) if request.cursor else None  # (created_at, id) of the last row seen
    where, args = _where(scope, filters, after, newer)
    order = "ASC" if newer else "DESC"
    # The limit is written into the statement (an int checked above), not bound: with it bound, the
    # planner cannot cost a prepared statement's generic plan and plans every call afresh (0.3-0.5 ms,
    # more than the query itself); written in, one plan serves every page of the same size.
    size = int(request.limit) + 1
    keyset = f"ORDER BY e.created_at {order}, e.id {order} LIMIT {size}"
    if scope.is_admin:
        rows, row_args = f"SELECT * FROM executions e WHERE {' AND '.join(where)} {keyset}", list(args)
    else:
        own = f"SELECT * FROM executions e WHERE {' AND '.join(where)} AND e.started_by = {{}} {keyset}"
        # the shares carry their run's created_at: walked newest first on ("user", run_created_at, execution)
        shares_after = f"AND (s.run_created_at, s.execution) {'>' if newer else '<'} ({{}}, {{}}) " if after else ""
        shared = (f'SELECT e.* FROM execution_shares s JOIN executions e ON e.id = s.execution WHERE s."user" = {{}} '
                  f"{shares_after}AND {' AND '.join(where)} AND e.started_by IS DISTINCT FROM {{}} "
                  f"ORDER BY s.run_created_at {order}, s.execution {order} LIMIT {size}")
        rows = f"SELECT * FROM (({own}) UNION ALL ({shared})) e {keyset}"
        row_args = [*args, scope.user_id, scope.user_id, *(after or ()), *args, scope.user_id]
    text = f"SELECT {SELECTED} FROM ({rows}) e ORDER BY e.created_at {order}, e.id {order}"
    return text, row_args


async def page(scope: Scope, filters: Filters, request: PageRequest, *,
               newer: bool = False) -> tuple[list[Any], str | None]:
    """One page of the runs the caller may see, newest first, with version, starter and result preview:
    records in ``present.COLUMNS`` order (for ``present.listed``), then ``created_at``.
    ``newer`` reads the page before the cursor instead (the pages' "Newer" link); its cursor then points
    at the newest row of that page, for the next "Newer"."""
    text, args = sql(scope, filters, request, newer=newer)
    rows = await records(text, *args)
    more = len(rows) > request.limit
    rows = rows[: request.limit]
    edge = rows[-1] if rows else None
    if newer:
        rows.reverse()
    return rows, encode_cursor(edge["created_at"], edge["id"]) if more and edge else None


async def preview_text(scope: Scope, execution_id: UUID) -> str:
    """A run's one-line result preview as its list row shows it, for a row that has just finished."""
    rows = await records(f"SELECT {LOOKUPS['preview']} FROM executions e WHERE {workspace_sql('e')} AND e.id = {{}}",
                         scope.workspace_id, execution_id)
    found = preview(rows[0][0]) if rows else None
    return found.text if found else ""
