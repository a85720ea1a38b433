"""What an agent reports as results (``ctx.recommend``, ``ctx.report``, ...): checked by the record
constructors, buffered, and written with the run's next write (see ``RunContext._write``)."""

from __future__ import annotations

import re
import uuid
from collections import Counter
from typing import Any
from uuid import UUID

from agentledger.platform import storage
from agentledger.platform.results import records
from agentledger.platform.results.records import NewResult

MAX_ARTIFACT_BYTES = 25 * 1024 * 1024


class Emitting:
    """Mixed into the run context; ``execution_id``, ``workspace_id`` and ``current_step`` come from it."""

    execution_id: UUID
    workspace_id: UUID
    current_step: int | None

    def _init_results(self) -> None:
        self._results: list[NewResult] = []
        self._occurrences: Counter[tuple] = Counter()

    def log(self, level: str, message: str) -> None: ...  # the run context's

    def _emit(self, result: NewResult) -> UUID:
        result.step = self.current_step
        key = (result.step, result.kind, result.key)
        self._occurrences[key] += 1
        result.identify(self.execution_id, self._occurrences[key])
        self._results.append(result)
        return result.id

    def _take_results(self) -> list[NewResult]:
        results, self._results = self._results, []
        return results

    def _restore_results(self, results: list[NewResult]) -> None:
        self._results = results + self._results

    def recommend(self, target: str, field: str, *, before: Any, after: Any, reason: str,
                  priority: str = "medium", check: str | None = None) -> UUID:
        """A concrete change people approve, reject and apply (``after`` replaces ``before``); ``check``
        names the rule that found it (e.g. "missing_title"), for filters and reports."""
        return self._emit(records.recommendation(target, field, before, after, reason, priority, check))

    def report(self, title: str, summary: str, sections: list[dict[str, Any]]) -> UUID:
        """Sections of ``{"title", "text"?, "tables": [{"columns", "rows"}], "charts": [chart spec]}``."""
        return self._emit(records.report(title, summary, sections))

    def score(self, name: str, value: float, *, explanation: str, scale: int = 100, unit: str | None = None) -> UUID:
        """``unit="%"``: a percentage (conversion 1.63%), shown as one rather than as points out of ``scale``."""
        return self._emit(records.score(name, value, scale, explanation, unit))

    def content(self, target: str, field: str, text: str, *, title: str | None = None) -> UUID:
        """Generated text for ``target``; people may edit it (versioned) before it is applied."""
        return self._emit(records.content(target, field, text, title))

    def action_item(self, title: str, *, detail: str = "", priority: str = "medium", check: str | None = None,
                    target: str | None = None) -> UUID:
        """Work for a person (the agent cannot make this change itself)."""
        return self._emit(records.action_item(title, detail, priority, check, target))

    def extract(self, name: str, data: Any) -> UUID:
        return self._emit(records.extracted(name, data))

    async def artifact(self, name: str, data: bytes, *, content_type: str, description: str = "") -> UUID | None:
        """A file (screenshot, CSV export...) stored under the workspace's prefix in object storage. A file
        is a by-product: when storage is not configured or fails, the run logs why and goes on (None)."""
        if len(data) > MAX_ARTIFACT_BYTES:
            raise ValueError(f"artifact {name!r} is {len(data)} bytes; the limit is {MAX_ARTIFACT_BYTES}")
        safe = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-")[:100] or "file"
        key = storage.workspace_key(self.workspace_id, "executions", str(self.execution_id), "artifacts",
                                    f"{uuid.uuid4().hex[:12]}-{safe}")
        try:
            await storage.put(key, data, content_type)
        except storage.StorageUnavailable as error:
            self.log("warning", f"the file {name} was not kept: {error.message}")
            return None
        except Exception as error:  # noqa: BLE001 - an unreachable store costs the file, not the run's results
            self.log("warning", f"the file {name} was not kept: could not store it ({type(error).__name__})")
            return None
        return self._emit(records.artifact(name, key, content_type, len(data), description))
