"""A run row as the API's ``ExecutionOut`` (with its steps, log and items when given), for every layer
that shows runs: the API, the pages and the exports."""

from __future__ import annotations

from typing import Any

import msgspec

from agentledger.platform.executions.schemas import (
    ExecutionOut,
    ItemOut,
    LogOut,
    PreviewOut,
    StepOut,
    VersionOut,
)


def _decoded(value: Any) -> Any:
    return msgspec.json.decode(value) if isinstance(value, str) else value


NOUNS = {"recommendation": "recommendation", "content": "text", "action_item": "action item", "report": "report",
         "artifact": "file"}  # in the order a preview names them


def preview(raw: Any) -> PreviewOut | None:
    value = _decoded(raw)
    if not value:
        return None
    counts = {k: int(n) for k, n in (value.get("counts") or {}).items()}
    score = value.get("score")
    parts = [f"score {score:g}"] if isinstance(score, int | float) else []
    parts += [f"{counts[k]} {noun}{'s' if counts[k] != 1 else ''}" for k, noun in NOUNS.items() if counts.get(k)]
    return PreviewOut(" · ".join(parts), score, counts)


def present(row: dict[str, Any], children: dict[str, list[dict[str, Any]]] | None = None) -> ExecutionOut:
    duration = None
    if row["started_at"]:
        end = row["finished_at"] or row["heartbeat_at"] or row["started_at"]
        duration = round((end - row["started_at"]).total_seconds() * 1000)
    version = VersionOut(row["version_label"], row["version_sha256"]) if row.get("version_sha256") else None
    out = ExecutionOut(
        id=row["id"], agent=row["agent"], version=version, status=row["status"], mode=row["mode"],
        inputs=_decoded(row["inputs"]), scope=row["scope"], progress_done=row["progress_done"],
        progress_total=row["progress_total"], items_processed=row["items_processed"],
        items_failed=row["items_failed"], estimate=row["estimate"], credits_reserved=row["credits_reserved"],
        credits_charged=row["credits_charged"], credits_refunded=row["credits_refunded"],
        queued_at=row["queued_at"], started_at=row["started_at"], finished_at=row["finished_at"],
        duration_ms=duration, triggered_by=row["triggered_by"], started_by=row["started_by"],
        rerun_of=row["rerun_of"], reuses_steps=row["reuse_steps"], cancel_requested=row["cancel_requested"],
        pause_requested=row["pause_requested"], error_message=row["error_message"],
        error_traceback=row["error_traceback"], started_by_name=row.get("started_by_name"),
        preview=preview(row.get("preview")),
    )
    if children is not None:
        out.steps = [StepOut(s["position"], s["attempt"], s["name"], s["status"], s["retries"], _decoded(s["input"]),
                             _decoded(s["output"]), s["error"], s["started_at"], s["finished_at"], s["duration_ms"])
                     for s in children["steps"]]
        out.log = [LogOut(entry["at"], entry["level"], entry["message"]) for entry in children["log"]]
        out.items = [ItemOut(i["key"], i["status"], i["reason"], _decoded(i["detail"]), i["at"])
                     for i in children["items"]]
    return out
