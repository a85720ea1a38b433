"""Query parameters every paged list takes: ``cursor`` and ``limit``."""

from typing import Annotated

from litestar.params import QueryParameter

from agentledger.platform.pagination import MAX_LIMIT

Cursor = Annotated[str | None, QueryParameter(description="next_cursor of the previous page")]
Limit = Annotated[int, QueryParameter(description=f"items per page, 1 to {MAX_LIMIT}")]
