"""The run list: its filters checked, its cursor, its pages; the one SQL statement (filters, keyset walks
and a preview of each run's results) is made by ``repository.list_sql``, with the visibility rule.

Written by hand because it is the page people live in and a benchmark holds it to raw-SQL speed: the
row comparison ``(created_at, id) < (…)`` walks the ``(workspace, created_at, id)`` index from the
cursor, so page 1,000 costs what page 1 costs; there is never a COUNT(*).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from agentledger.platform.errors import Invalid
from agentledger.platform.executions import repository
from agentledger.platform.executions.present import preview
from agentledger.platform.executions.states import OUTCOMES, STATUSES
from agentledger.platform.pagination import PageRequest, decode_cursor, encode_cursor
from agentledger.platform.scoping import Scope

TRIGGERS = ("user", "schedule", "api", "rerun")


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


def _conditions(filters: Filters) -> tuple[list[str], list[Any]]:
    statuses = list(filters.statuses) or None
    if filters.outcome:
        wanted = OUTCOMES[filters.outcome]
        statuses = [s for s in statuses if s in wanted] if statuses else list(wanted)
    return repository.filter_sql(started_by=filters.started_by, agent=filters.agent, statuses=statuses,
                                 triggered_by=filters.triggered_by, mode=filters.mode, since=filters.since,
                                 until=filters.until)


def sql(scope: Scope, filters: Filters, request: PageRequest, *, newer: bool = False) -> tuple[str, list[Any]]:
    """The one statement ``page`` sends (``{}`` placeholders, as ``fetch`` takes them) and its arguments,
    after checking the filters and the limit; it reads ``request.limit + 1`` rows to know whether there
    is a next page. ``bench/history.py`` sends the very same text raw through asyncpg. The statement,
    and which runs the caller sees, are the executions repository's (``repository.list_sql``)."""
    filters.check()
    after = decode_cursor(request.cursor) if request.cursor else None  # (created_at, id) of the last row seen
    conditions, args = _conditions(filters)
    # The limit is written into the statement (an int PageRequest checked), not bound: with it bound, the
    # planner cannot cost a prepared statement's generic plan and plans every call afresh (0.3-0.5 ms,
    # more than the query itself); written in, one plan serves every page of the same size.
    return repository.list_sql(scope, conditions, args, after, newer=newer, size=int(request.limit) + 1)


async def page(scope: Scope, filters: Filters, request: PageRequest, *,
               newer: bool = False) -> tuple[list[Any], str | None]:
    """One page of the runs the caller may see, newest first, with version, starter and result preview:
    records in ``present.COLUMNS`` order (for ``present.listed``), then ``created_at``.
    ``newer`` reads the page before the cursor instead (the pages' "Newer" link); its cursor then points
    at the newest row of that page, for the next "Newer"."""
    text, args = sql(scope, filters, request, newer=newer)
    rows = await repository.list_page(text, args)
    more = len(rows) > request.limit
    rows = rows[: request.limit]
    edge = rows[-1] if rows else None
    if newer:
        rows.reverse()
    return rows, encode_cursor(edge["created_at"], edge["id"]) if more and edge else None


async def preview_text(scope: Scope, execution_id: UUID) -> str:
    """A run's one-line result preview as its list row shows it, for a row that has just finished."""
    found = preview(await repository.preview_of(scope, execution_id))
    return found.text if found else ""
