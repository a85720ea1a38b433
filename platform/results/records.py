"""The result kinds and their fields: one constructor per kind checks what an agent emits, so every
record in the table has the shape the API, the pages and the exports expect."""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from typing import Any
from uuid import UUID

KINDS = ("recommendation", "report", "score", "content", "action_item", "extracted", "artifact")
PRIORITIES = ("high", "medium", "low")  # most urgent first: how the pages sort and the PDF lists them
PRIORITY_ORDER_SQL = ("CASE priority " + " ".join(f"WHEN '{p}' THEN {rank}" for rank, p in enumerate(PRIORITIES))
                      + f" ELSE {len(PRIORITIES)} END")
"""The same order in SQL (no priority: last), for statements that read the most urgent first."""
DECIDABLE = ("recommendation", "content")  # people approve, reject and apply these
STATUSES = ("open", "approved", "rejected", "applied", "apply_failed", "done")  # each has its own badge colour
CHART_TYPES = ("line", "bar", "pie")
UNITS = ("%",)  # a score is "value/scale" unless it says it is a percentage


def priority_rank(priority: str | None) -> int:
    """Where a priority sorts (``PRIORITIES`` order; none or unknown: last), as ``PRIORITY_ORDER_SQL`` does."""
    return PRIORITIES.index(priority) if priority in PRIORITIES else len(PRIORITIES)


@dataclass(slots=True)
class NewResult:
    kind: str
    key: str  # what makes it the same result when a retried step emits it again
    body: dict[str, Any]
    title: str | None = None
    target: str | None = None
    field: str | None = None
    priority: str | None = None
    status: str | None = None
    step: int | None = None
    id: UUID = dataclasses.field(default_factory=uuid.uuid4)

    def identify(self, execution_id: UUID, occurrence: int) -> None:
        """A stable id: the same step emitting the same result in a later attempt does not add a copy."""
        self.id = uuid.uuid5(execution_id, f"{self.step}:{self.kind}:{self.key}:{occurrence}")


def _text(value: Any, name: str, limit: int, *, required: bool = True) -> str | None:
    if value is None or value == "":
        if required:
            raise ValueError(f"{name} is required")
        return None if value is None else ""
    return str(value)[:limit]


def _priority(value: str) -> str:
    if value not in PRIORITIES:
        raise ValueError(f"priority must be one of {', '.join(PRIORITIES)}, not {value!r}")
    return value


def recommendation(target: str, field: str, before: Any, after: Any, reason: str, priority: str,
                   check: str | None = None) -> NewResult:
    return NewResult("recommendation", f"{target}|{field}", {"before": before, "after": after, "check": check,
                     "reason": _text(reason, "reason", 2000)}, target=_text(target, "target", 2000),
                     field=_text(field, "field", 64), priority=_priority(priority), status="open")


def _table(table: dict[str, Any]) -> dict[str, Any]:
    columns = [str(c) for c in table.get("columns", [])]
    rows = [list(r) for r in table.get("rows", [])]
    if not columns or any(len(r) != len(columns) for r in rows):
        raise ValueError("a report table needs columns, and every row as many cells as there are columns")
    return {"title": table.get("title"), "columns": columns, "rows": rows}


def _chart(chart: dict[str, Any]) -> dict[str, Any]:
    if chart.get("type") not in CHART_TYPES:
        raise ValueError(f"a chart's type must be one of {', '.join(CHART_TYPES)}")
    return dict(chart)


def report(title: str, summary: str, sections: list[dict[str, Any]]) -> NewResult:
    clean = []
    for section in sections:
        clean.append({"title": _text(section.get("title"), "section title", 200), "text": section.get("text"),
                      "tables": [_table(t) for t in section.get("tables", [])],
                      "charts": [_chart(c) for c in section.get("charts", [])]})
    return NewResult("report", title, {"summary": _text(summary, "summary", 20_000, required=False),
                     "sections": clean}, title=_text(title, "title", 200))


def score(name: str, value: float, scale: int, explanation: str, unit: str | None = None) -> NewResult:
    """``unit="%"``: the value is a percentage (shown "1.63%"), not points out of ``scale``."""
    if not 0 <= value <= scale:
        raise ValueError(f"score {name!r} must be between 0 and {scale}, not {value}")
    if unit is not None and unit not in UNITS:
        raise ValueError(f"a score's unit must be one of {', '.join(UNITS)} (or none), not {unit!r}")
    body = {"value": value, "scale": scale, "explanation": _text(explanation, "explanation", 5000)}
    if unit is not None:
        body["unit"] = unit
    return NewResult("score", name, body, title=_text(name, "name", 200))


def content(target: str, field: str, text: str, title: str | None) -> NewResult:
    return NewResult("content", f"{target}|{field}", {"text": _text(text, "text", 50_000), "version": 1},
                     title=title, target=_text(target, "target", 2000), field=_text(field, "field", 64),
                     status="open")


def action_item(title: str, detail: str, priority: str, check: str | None = None,
                target: str | None = None) -> NewResult:
    return NewResult("action_item", title, {"detail": _text(detail, "detail", 5000, required=False),
                     "check": check}, target=target,
                     title=_text(title, "title", 300), priority=_priority(priority), status="open")


def extracted(name: str, data: Any) -> NewResult:
    return NewResult("extracted", name, {"data": data}, title=_text(name, "name", 200))


def artifact(name: str, key: str, content_type: str, size: int, description: str) -> NewResult:
    return NewResult("artifact", name, {"key": key, "content_type": content_type, "size": size,
                     "description": _text(description, "description", 2000, required=False)},
                     title=_text(name, "name", 200))
