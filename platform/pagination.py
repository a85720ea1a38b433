"""Keyset pagination for every list: newest first by (created_at, id), opaque cursors, never COUNT(*).

A cursor names the last row of a page; the next page is the rows strictly older than it, so pages stay
correct while rows are added and cost the same at page 1 and page 1,000.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

import msgspec
from piccolo.query import Select
from piccolo.table import Table

from agentledger.platform.errors import Invalid

DEFAULT_LIMIT = 20
MAX_LIMIT = 250
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PageRequest:
    """A page asked for; the size rule lives here, so every list (and every SQL that writes the size into
    its text) meets a checked whole number."""

    cursor: str | None = None
    limit: int = DEFAULT_LIMIT

    def __post_init__(self) -> None:
        if isinstance(self.limit, bool) or not isinstance(self.limit, int) or not 1 <= self.limit <= MAX_LIMIT:
            raise Invalid(f"limit must be between 1 and {MAX_LIMIT}", field="limit")


def cut(rows: list[Any], request: PageRequest) -> tuple[list[Any], str | None]:
    """Rows fetched with ``LIMIT request.limit + 1``, newest first: the page, and the cursor of its last
    row when there is more."""
    if len(rows) <= request.limit:
        return rows, None
    last = rows[request.limit - 1]
    return rows[: request.limit], encode_cursor(last["created_at"], last["id"])


ALL = PageRequest(limit=MAX_LIMIT)  # for pages that show one screenful of a short list


@dataclass(slots=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def encode_cursor(created_at: datetime, row_id: UUID) -> str:
    raw = msgspec.json.encode((created_at.isoformat(), str(row_id)))
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, UUID]:
    try:
        created_at, row_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        at = datetime.fromisoformat(created_at)
        if at.tzinfo is None or not 2000 <= at.astimezone(UTC).year <= 9000:  # ours are; others may overflow
            raise ValueError(created_at)
        return at, UUID(row_id)
    except (ValueError, TypeError, OverflowError) as error:
        raise Invalid("cursor is not valid; pass the next_cursor of the previous page unchanged",
                      field="cursor") from error


async def keyset(query: Select, table: type[Table], request: PageRequest) -> tuple[list[dict[str, Any]], str | None]:
    """Run ``query`` (which must select ``created_at`` and ``id``) for one page; answer rows and next cursor."""
    created: Any = getattr(table, "created_at")
    row_id: Any = getattr(table, "id")
    if request.cursor:
        at, last = decode_cursor(request.cursor)
        query = query.where((created < at) | ((created == at) & (row_id < last)))
    return cut(await query.order_by(created, row_id, ascending=False).limit(request.limit + 1), request)
