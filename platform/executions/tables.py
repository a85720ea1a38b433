"""Execution tables. Steps, log lines and items are append-only children of an execution."""

from piccolo.columns import JSONB, UUID, BigInt, Boolean, ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from agentledger.platform.tables import User, Workspace


class AgentVersion(Table, tablename="agent_versions"):
    """One row per distinct source of an agent: the code an execution ran, kept forever."""

    id = UUID(primary_key=True)
    agent = Varchar(length=64)
    label = Varchar(length=32)
    sha256 = Varchar(length=64)
    source = Text()
    created_at = Timestamptz(default=TimestamptzNow())


class Execution(Table, tablename="executions"):
    id = UUID(primary_key=True)
    workspace = ForeignKey(Workspace, null=False)
    started_by = ForeignKey(User, null=True, default=None)
    triggered_by = Varchar(length=16)  # user | schedule | api | rerun
    agent = Varchar(length=64)
    agent_version = ForeignKey(AgentVersion, null=True, default=None)
    inputs = JSONB(default={})
    mode = Varchar(length=8, default="live")  # live | test
    status = Varchar(length=20, default="queued")
    scope = Integer(default=1)
    progress_done = Integer(default=0)
    progress_total = Integer(default=0)
    items_processed = Integer(default=0)
    items_failed = Integer(default=0)
    base_cost = BigInt(default=0)  # the price the run was started at: charge = base + per_item * processed
    per_item_cost = BigInt(default=0)
    estimate = BigInt(default=0)
    credits_reserved = BigInt(default=0)
    credits_charged = BigInt(default=0)
    credits_refunded = BigInt(default=0)
    error_message = Text(null=True, default=None)
    error_traceback = Text(null=True, default=None)
    rerun_of = UUID(null=True, default=None)
    schedule = UUID(null=True, default=None)  # the schedule that started it (triggered_by = schedule)
    trigger_token = UUID(null=True, default=None)  # the API token that started it (triggered_by = api)
    awaited_review = Boolean(default=False)  # it waited for a person: resumed attempts reuse finished steps
    reuse_steps = Boolean(default=False)  # resume-from-failed-step: succeeded steps of rerun_of are reused
    skip_processed = Boolean(default=False)  # the items rerun_of processed are skipped (retry, resume)
    failed_step = Integer(null=True, default=None)  # the position of the step where a failed run broke
    cancel_requested = Boolean(default=False)
    pause_requested = Boolean(default=False)
    attempts = Integer(default=0)  # claims by workers (fences a replaced worker)
    lost_workers = Integer(default=0)  # workers that went silent on it (a review's resume is not a loss)
    time_limit_seconds = Integer(default=600)
    queued_at = Timestamptz(default=TimestamptzNow())
    started_at = Timestamptz(null=True, default=None)
    finished_at = Timestamptz(null=True, default=None)
    heartbeat_at = Timestamptz(null=True, default=None)
    paused_at = Timestamptz(null=True, default=None)  # since when it holds no worker (paused, or waiting a review)
    paused_ms = BigInt(default=0)  # time spent paused so far: neither duration nor the time limit counts it
    deleted_at = Timestamptz(null=True, default=None)  # deleted by a person: hidden, its credits stay on the ledger
    # archived (platform/retention): the row stays as the run's tombstone, its record is one document
    # in the pack at archive_key, archive_size bytes from archive_offset, with that SHA-256
    archived_at = Timestamptz(null=True, default=None)
    archive_key = Varchar(length=300, null=True, default=None)
    archive_offset = BigInt(null=True, default=None)
    archive_size = BigInt(null=True, default=None)
    archive_sha256 = Varchar(length=64, null=True, default=None)
    archive_files = Integer(default=0)  # files of the run still in storage when it was archived
    restored_at = Timestamptz(null=True, default=None)  # brought back: not archived again for the grace period
    files_removed_at = Timestamptz(null=True, default=None)  # its files were deleted under the retention policy
    created_at = Timestamptz(default=TimestamptzNow())


class ExecutionStep(Table, tablename="execution_steps"):
    id = UUID(primary_key=True)
    execution = UUID()
    position = Integer()
    attempt = Integer(default=1)  # which run attempt (the reaper may re-queue a run)
    name = Varchar(length=120)
    status = Varchar(length=16)  # running | succeeded | failed | skipped | reused | retrying
    retries = Integer(default=0)
    input = JSONB(null=True, default=None)
    output = JSONB(null=True, default=None)
    error = Text(null=True, default=None)
    started_at = Timestamptz(default=TimestamptzNow())
    finished_at = Timestamptz(null=True, default=None)
    duration_ms = Integer(null=True, default=None)


class ExecutionLog(Table, tablename="execution_logs"):
    id = Serial(primary_key=True)
    execution = UUID(index=True)
    at = Timestamptz(default=TimestamptzNow())
    level = Varchar(length=8)
    message = Text()


class ExecutionItem(Table, tablename="execution_items"):
    id = UUID(primary_key=True)
    execution = UUID()
    key = Varchar(length=500)
    status = Varchar(length=8)  # done | failed
    reason = Text(null=True, default=None)
    detail = JSONB(null=True, default=None)
    at = Timestamptz(default=TimestamptzNow())


class ExecutionReview(Table, tablename="execution_reviews"):
    """A review step: the run waits (``awaiting_review``, no worker held) until a person decides."""

    id = UUID(primary_key=True)
    workspace = ForeignKey(Workspace, null=False)
    execution = UUID()
    step = Integer()  # the position of the review step in the run
    title = Varchar(length=200)
    summary = Text(null=True, default=None)
    status = Varchar(length=16, default="pending")  # pending | approved | rejected
    comment = Text(null=True, default=None)
    decided_by = ForeignKey(User, null=True, default=None)
    decided_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
