"""A run row as the API's ``ExecutionOut`` (with its steps, log and items when given), for every layer
that shows runs: the API, the pages and the exports."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import msgspec

from agentledger.platform.executions import states
from agentledger.platform.executions.schemas import (
    ArchiveOut,
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


@lru_cache(maxsize=4096)
def _preview_of(raw: str) -> PreviewOut | None:
    value = msgspec.json.decode(raw)
    if not value:
        return None
    counts = {k: int(n) for k, n in (value.get("counts") or {}).items()}
    score = value.get("score")
    parts = [f"score {score:g}"] if isinstance(score, int | float) else []
    parts += [f"{counts[k]} {noun}{'s' if counts[k] != 1 else ''}" for k, noun in NOUNS.items() if counts.get(k)]
    return PreviewOut(" · ".join(parts), score, counts)


def preview(raw: str | None) -> PreviewOut | None:
    """The preview column (JSON text) as text, score and counts. Runs share previews (most have none,
    many the same counts), so each distinct one is worked out once; a ``PreviewOut`` is never changed."""
    return _preview_of(raw) if raw else None


# What a run's ``ExecutionOut`` is made of, in its field order: ``repository.list_sql`` selects exactly these (then
# ``created_at`` for the cursor), so a listed row is unpacked by position, not looked up name by name.
COLUMNS = ("id", "agent", "version_label", "version_sha256", "status", "mode", "inputs", "scope", "progress_done",
           "progress_total", "items_processed", "items_failed", "estimate", "credits_reserved", "credits_charged",
           "credits_refunded", "queued_at", "started_at", "finished_at", "heartbeat_at", "triggered_by",
           "started_by", "rerun_of", "reuse_steps", "cancel_requested", "pause_requested", "error_message",
           "error_traceback", "paused_at", "paused_ms", "attempts", "failed_step", "archived_at", "started_by_name", "preview")
JOINED = frozenset({"version_label", "version_sha256", "started_by_name", "preview", "archived_at"})  # not every query has them


def listed(values: Sequence[Any]) -> ExecutionOut:
    """A run from its ``COLUMNS`` values in that order (an asyncpg record of the run list, or a tuple)."""
    (id_, agent, label, sha256, status, mode, inputs, scope, done, total, processed, failed, estimate, reserved,
     charged, refunded, queued, started, finished, heartbeat, triggered_by, started_by, rerun_of, reuses_steps,
     cancel, pause, error, traceback, paused_at, paused_ms, attempts, failed_step, archived, starter, results, *_) = values
    duration = None
    if started:  # time a worker spent on it: paused time and review waits do not count; a running run's
        # goes on until now (its last heartbeat may be seconds old: a reload must not jump back in time)
        end = finished or paused_at or (datetime.now(UTC) if status == states.RUNNING else heartbeat) or started
        duration = round((end - started).total_seconds() * 1000 - (paused_ms or 0))
        duration = max(duration, 0)
    state = {"status": status, "cancel_requested": cancel, "pause_requested": pause, "attempts": attempts,
             "failed_step": failed_step, "items_failed": failed, "archived_at": archived}
    return ExecutionOut(id_, agent, VersionOut(label, sha256) if sha256 else None, status, mode, _decoded(inputs),
                        scope, done, total, processed, failed, estimate, reserved, charged, refunded, queued, started,
                        finished, duration, triggered_by, started_by, rerun_of, reuses_steps, cancel, pause, error,
                        traceback, failed_step, list(states.actions(state)), states.status_note(state), paused_ms or 0, starter,
                        preview(results), archived_at=archived)


def trigger(triggered_by: str, starter: str | None, token: str | None = None, schedule: str | None = None) -> str:
    """Who or what started a run, in full: "API · token ci-nightly (Alice Admin)", "Schedule · Nightly
    audit (Alice Admin)", "Re-run (Alice Admin)", or the person's name."""
    who = starter or "a former member"
    if triggered_by == "api":
        return f"API · token {token} ({who})" if token else f"API ({who})"
    if triggered_by == "schedule":
        return f"Schedule · {schedule} ({who})" if schedule else f"Schedule ({who})"
    if triggered_by == "rerun":
        return f"Re-run ({who})"
    return who


def present(row: Mapping[str, Any], children: dict[str, list[dict[str, Any]]] | None = None) -> ExecutionOut:
    """A run row as read anywhere (a dict with the table's columns; version, starter's name and preview when
    the query joined them), with its steps, log and items when given."""
    out = listed([row.get(name) if name in JOINED else row[name] for name in COLUMNS])
    out.files_removed_at = row.get("files_removed_at")
    if row.get("archived_at") and row.get("archive_key"):
        out.archive = ArchiveOut(row["archived_at"], row["archive_key"], row["archive_size"], row["archive_sha256"],
                                 row["archive_files"])
    if "token_name" in row:  # a single read names its trigger in full (the list keeps it short)
        out.trigger = trigger(row["triggered_by"], row.get("started_by_name"), row["token_name"], row["schedule_name"])
    if children is not None:
        out.steps = [StepOut(s["position"], s["attempt"], s["name"], s["status"], s["retries"], _decoded(s["input"]),
                             _decoded(s["output"]), s["error"], s["started_at"], s["finished_at"], s["duration_ms"])
                     for s in children["steps"]]
        out.log = [LogOut(entry["at"], entry["level"], entry["message"]) for entry in children["log"]]
        out.items = [ItemOut(i["key"], i["status"], i["reason"], _decoded(i["detail"]), i["at"])
                     for i in children["items"]]
    return out
