"""API shapes for agents and executions."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal
from uuid import UUID

import msgspec

from agentledger.platform.schemas import Input

Mode = Literal["live", "test"]


class CostOut(msgspec.Struct):
    base: int
    per_item: int


class AgentOut(msgspec.Struct):
    name: str
    title: str
    description: str
    version: str
    sha256: str
    cost: CostOut
    time_limit_seconds: int
    input_schema: dict[str, Any]


class StartIn(Input):
    agent: str
    inputs: dict[str, Any] = {}
    scope: int | None = None
    mode: Mode = "live"


class RerunIn(Input):
    inputs: dict[str, Any] | None = None
    scope: int | None = None
    mode: Mode | None = None


class EstimateOut(msgspec.Struct):
    agent: str
    scope: int
    estimate: int
    available: int
    affordable: bool
    note: str | None = None  # where the scope came from when the agent worked it out ("7 of the 24 products…")


class ContinuationOut(msgspec.Struct):
    kind: Literal["resume_from_failed_step", "resume_where_stopped", "retry_failed_items"]
    label: str
    scope: int
    estimate: int  # what the new run would hold ("holds up to N credits")
    available: int
    affordable: bool


class StepOut(msgspec.Struct):
    position: int
    attempt: int
    name: str
    status: str
    retries: int
    input: Any
    output: Any
    error: str | None
    started_at: datetime
    finished_at: datetime | None
    duration_ms: int | None


class LogOut(msgspec.Struct):
    at: datetime
    level: str
    message: str


class ItemOut(msgspec.Struct):
    key: str
    status: str
    reason: str | None
    detail: Any
    at: datetime


class VersionOut(msgspec.Struct, gc=False):
    label: str
    sha256: str


class PreviewOut(msgspec.Struct, gc=False):
    """Key results at a glance: "score 72 · 14 recommendations · 3 action items"."""

    text: str
    score: float | None
    counts: dict[str, int]


class ArchiveOut(msgspec.Struct):
    """Where an archived run's record is: one compressed document of ``size`` bytes in a pack at ``key``,
    with that SHA-256 (its restore requests: ``GET …/executions/{id}/restore``)."""

    archived_at: datetime
    key: str
    size: int
    sha256: str
    files: int  # files of the run still in storage when it was archived


class ExecutionOut(msgspec.Struct, gc=False):
    id: UUID
    agent: str
    version: VersionOut | None
    status: str
    mode: Mode
    inputs: dict[str, Any]
    scope: int
    progress_done: int
    progress_total: int
    items_processed: int
    items_failed: int
    estimate: int
    credits_reserved: int
    credits_charged: int
    credits_refunded: int
    queued_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_ms: int | None
    triggered_by: str
    started_by: UUID | None
    rerun_of: UUID | None
    reuses_steps: bool
    cancel_requested: bool
    pause_requested: bool
    error_message: str | None
    error_traceback: str | None
    failed_step: int | None  # the position of the step where a failed run broke
    actions: list[str]  # what may be done now: cancel, pause, resume, rerun, delete, and one way to go on
    status_note: str | None  # "canceling…", "pausing…", "finished before the cancel took effect"
    paused_ms: int  # time spent paused or waiting for a review: not part of duration_ms
    started_by_name: str | None = None
    preview: PreviewOut | None = None
    trigger: str | None = None  # in full, on a single read: "API · token ci-nightly (Alice Admin)"
    archived_at: datetime | None = None  # archived (retention): the list keeps it, its record is in storage
    archive: ArchiveOut | None = None  # on a single read of an archived run
    files_removed_at: datetime | None = None  # its files were deleted under the retention policy
    steps: list[StepOut] | None = None
    log: list[LogOut] | None = None
    items: list[ItemOut] | None = None


    @property
    def active_since(self) -> datetime | None:
        """When the run would have started had it never paused: a running run's duration ticks from here."""
        return self.started_at + timedelta(milliseconds=self.paused_ms) if self.started_at else None


class CodeOut(msgspec.Struct):
    agent: str
    label: str
    sha256: str
    source: str
