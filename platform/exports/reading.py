"""What every export reads: the run as the API presents it, and its results in bounded batches.

Results are read in keyset batches by ``seq`` (the ``(execution, seq)`` index) rather than through one
server-side cursor: a cursor pins a pooled connection and an open transaction for as long as the client
takes to download, so a few slow downloads could starve the web tier. Batches hold a connection for one
short query each and keep at most ``BATCH`` rows in memory.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from agentledger.platform.database import fetch
from agentledger.platform.executions import repository as executions
from agentledger.platform.executions import reviews as review_steps
from agentledger.platform.executions.present import present
from agentledger.platform.executions.schemas import ExecutionOut
from agentledger.platform.results.records import PRIORITY_ORDER_SQL
from agentledger.platform.scoping import Scope, workspace_sql

BATCH = 250


@dataclass(frozen=True, slots=True)
class Run:
    """A run the caller may see, as the API presents it: made by ``read``, which reads it through the
    visibility rule with the caller's scope (404 otherwise), so what follows reads only its results."""

    scope: Scope
    record: ExecutionOut  # with steps, log and items
    agent_title: str

    @property
    def short_id(self) -> str:
        return self.record.id.hex[:8]

    def filename(self, extension: str) -> str:
        return f"{self.record.agent}-{self.short_id}.{extension}"


async def read(scope: Scope, execution_id: UUID, agent_title: Callable[[str], str]) -> Run:
    """The run to export, for a caller who may see it (404 otherwise), with its steps, log and items;
    ``agent_title`` names its agent (the registry is the caller's: exports know no agents)."""
    row = await executions.get_in_full(scope, execution_id)
    return Run(scope, present(row, await executions.children(scope, execution_id)), agent_title(row["agent"]))


@dataclass(frozen=True, slots=True)
class Tally:
    """How many results of each kind, how many report tables, and when a result last changed."""

    kinds: dict[str, int]
    report_tables: int
    last_change: datetime | None

    @property
    def total(self) -> int:
        return sum(self.kinds.values())


def _decoded(row: dict[str, Any]) -> dict[str, Any]:
    body = row["body"]
    row["body"] = msgspec.json.decode(body) if isinstance(body, str | bytes) else (body or {})
    return row


async def batches(run: Run, kind: str | None = None, size: int = BATCH) -> AsyncIterator[list[dict[str, Any]]]:
    """The run's results (of one kind, or all) in emission order, ``size`` rows at a time."""
    after = -1
    kind_sql = "AND kind = {} " if kind else ""
    sql = (f"SELECT * FROM execution_results WHERE execution = {{}} AND {workspace_sql()} AND seq > {{}} "
           f"{kind_sql}ORDER BY seq LIMIT {{}}")
    while True:
        args: list[Any] = [run.record.id, run.scope.workspace_id, after, *([kind] if kind else []), size]
        rows = await fetch(sql, *args)
        if not rows:
            return
        yield [_decoded(row) for row in rows]
        if len(rows) < size:
            return
        after = rows[-1]["seq"]


async def rows(run: Run, kind: str | None = None) -> AsyncIterator[dict[str, Any]]:
    async for batch in batches(run, kind):
        for row in batch:
            yield row


async def top(run: Run, kind: str, limit: int) -> list[dict[str, Any]]:
    """At most ``limit`` results of a kind, most urgent first (for the PDF, which is read, not processed)."""
    found = await fetch(
        f"SELECT * FROM execution_results WHERE execution = {{}} AND {workspace_sql()} AND kind = {{}} "
        f"ORDER BY {PRIORITY_ORDER_SQL}, seq LIMIT {{}}", run.record.id, run.scope.workspace_id, kind, limit)
    return [_decoded(row) for row in found]


async def tally(run: Run) -> Tally:
    found = await fetch(
        "SELECT kind, count(*) AS n, max(updated_at) AS changed, coalesce(sum(CASE WHEN kind = 'report' THEN "
        "jsonb_array_length(jsonb_path_query_array(body, '$.sections[*].tables[*]')) END), 0) AS tables "
        f"FROM execution_results WHERE execution = {{}} AND {workspace_sql()} GROUP BY kind",
        run.record.id, run.scope.workspace_id)
    changes = [row["changed"] for row in found if row["changed"] is not None]
    return Tally({row["kind"]: row["n"] for row in found}, sum(int(row["tables"]) for row in found),
                 max(changes, default=None))


async def reviews(run: Run) -> list[dict[str, Any]]:
    """The run's review steps with their decisions (few: one row per review step)."""
    return await review_steps.decisions(run.scope, run.record.id)
