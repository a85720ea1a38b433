"""The context a running agent gets: steps, log, progress and items, written to the execution's tables.

Items and log lines are buffered and written at step boundaries and with each heartbeat; steps are
written when they start and end. Cancel and pause requests reach the context through the runner's
control watch (every RUN_CONTROL_POLL_SECONDS) and a read at every step boundary; every step, item,
progress and log call then raises the signal (``Canceled``, ``Paused``, ``Superseded``), after recording
what it was given, so an item reported is never lost.
"""

from __future__ import annotations

import asyncio
import json
import time
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import msgspec

from agentledger.agents.emitting import Emitting
from agentledger.agents.sdk import AwaitingReview, Canceled, Paused, Review, Superseded
from agentledger.platform.clock import now
from agentledger.platform.database import atomic
from agentledger.platform.executions import events, reviews, states
from agentledger.platform.executions import lifecycle_repository as lifecycle
from agentledger.platform.results import repository as results

LEVELS = ("debug", "info", "warning", "error")


SIGNALS = (Canceled, Paused, Superseded, AwaitingReview, asyncio.CancelledError)


def control_signal(error: BaseException) -> BaseException | None:
    """The control-flow signal ``error`` is or carries: a ``TaskGroup`` wraps what its tasks raised in an
    exception group, so an agent checking items in parallel stops with a group holding ``Canceled``."""
    if isinstance(error, SIGNALS):
        return error
    if isinstance(error, BaseExceptionGroup):
        for inner in error.exceptions:
            found = control_signal(inner)
            if found is not None:
                return found
    return None


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(msgspec.to_builtins(value), default=str)


@dataclass
class Step:
    name: str
    reused: bool = False
    output: Any = None
    retries: int = 0

    def note_retry(self) -> None:
        """Count one more attempt of this step (shown on the timeline)."""
        self.retries += 1


@dataclass
class RunContext(Emitting):
    execution_id: UUID
    workspace_id: UUID
    mode: str
    scope: int
    attempt: int
    reusable: dict[tuple[int, str], Any] = field(default_factory=dict)
    reuse_from: UUID | None = None  # whose steps ``reusable`` holds: the run this one resumes, or its own
    started_by: UUID | None = None
    current_step: int | None = None
    cancel_requested: bool = False
    pause_requested: bool = False
    flags_fresh: bool = True  # the claim just read the flags: the first boundary need not read them again
    superseded: bool = False  # the reaper re-queued the run: stop without finishing it
    prior: dict[str, str] = field(default_factory=dict)  # items processed before this attempt: key -> status
    failed_step: int | None = None  # where a failed run broke: the step that raised, or whose items all failed
    _failed_in: int | None = None  # the step during which an item last failed
    _position: int = 0
    _done: set[str] = field(default_factory=set)
    _failed: set[str] = field(default_factory=set)
    _items: dict[str, tuple[str, str | None, Any]] = field(default_factory=dict)
    _logs: list[tuple[str, str]] = field(default_factory=list)
    _progress: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        self._init_results()

    # --- what agents call -------------------------------------------------------------------------
    @asynccontextmanager
    async def step(self, name: str, *, input: Any = None) -> AsyncIterator[Step]:
        await self.checkpoint()
        self._position += 1
        position = self.current_step = self._position
        key = (position, name)
        if key in self.reusable:
            handle = Step(name, reused=True, output=self.reusable[key])
            if self.reuse_from != self.execution_id:  # a step of its own earlier attempt is on the timeline
                await self._insert_step(position, name, "reused", input, handle.output)
                await results.copy_from(self.reuse_from, self.execution_id, position)
            yield handle
            return
        handle = Step(name)
        step_id = await self._insert_step(position, name, "running", input, None)
        started = time.perf_counter()
        try:
            yield handle
        except BaseException as error:
            if control_signal(error) is None:
                status, message = "failed", "".join(traceback.format_exception_only(type(error), error)).strip()
                self.failed_step = position
            else:  # stopped from outside: not the step's failure
                status = "paused" if self.stop_reason() == "paused" else "skipped"
                message = {"paused": "paused here", "canceled": "canceled here"}.get(self.stop_reason(), None)
            await self._end_step(step_id, position, status, handle, started, message and message[:4000])
            raise
        await self._end_step(step_id, position, "succeeded", handle, started, None)

    async def await_review(self, title: str, *, summary: str | None = None) -> Review:
        """A review step: the first time, the run waits for a person (no worker held); the attempt that
        resumes after the decision gets it here."""
        await self.checkpoint()
        self._position += 1
        position = self.current_step = self._position
        decision = await reviews.decided(self.execution_id, position)
        if decision is not None:
            return Review(decision["status"] == "approved", decision["comment"], decision["decided_by_name"],
                          decision["decided_by"])
        await self._insert_step(position, title, "waiting", {"summary": summary}, None)
        await self.flush()
        async with atomic():
            run = await lifecycle.await_review(self.execution_id, self.attempt)
            if run is not None:
                await reviews.request(run, position, title, summary)
        if run is None:
            await self.read_controls()
            self.superseded = not self.cancel_requested
            self._raise_if_stopped()
        self.note("info", f"waiting for a review: {title}")
        raise AwaitingReview()

    async def skip(self, name: str, reason: str) -> None:
        """Record a step that will not run (e.g. after a rejected review), so the timeline says why."""
        self._position += 1
        await self._insert_step(self._position, name, "skipped", None, {"reason": reason})

    def log(self, level: str, message: str) -> None:
        self.note(level, message)
        self._raise_if_stopped()

    def note(self, level: str, message: str) -> None:
        """A log line that never raises: for the runner, which writes after the agent stopped."""
        self._logs.append((level if level in LEVELS else "info", str(message)[:10_000]))

    def progress(self, done: int, total: int) -> None:
        self._progress = (max(0, int(done)), max(0, int(total)))
        self._raise_if_stopped()

    def item_done(self, key: str, detail: Any = None) -> None:
        key = str(key)[:500]
        self._items[key] = ("done", None, detail)
        self._done.add(key)
        self._failed.discard(key)
        self._raise_if_stopped()  # after recording: the item was processed and is charged

    def item_failed(self, key: str, reason: str, detail: Any = None) -> None:
        key = str(key)[:500]
        self._items[key] = ("failed", str(reason)[:2000], detail)
        self._failed.add(key)
        self._done.discard(key)
        self._failed_in = self.current_step
        self._raise_if_stopped()

    def already_processed(self, key: str) -> bool:
        """True for an item an earlier attempt of this run (or the run it retries) processed: skip it."""
        return str(key)[:500] in self.prior

    async def checkpoint(self) -> None:
        """Act on cancel and pause requests now; agents may call it inside long steps too."""
        if self.flags_fresh:
            self.flags_fresh = False
        else:
            await self.read_controls()
        self._raise_if_stopped()

    def stop_reason(self) -> str | None:
        """Why this attempt must stop, most binding first: another worker owns the run, a cancel, a pause."""
        if self.superseded:
            return "superseded"
        if self.cancel_requested:
            return "canceled"
        if self.pause_requested:
            return "paused"
        return None

    def _raise_if_stopped(self) -> None:
        reason = self.stop_reason()
        if reason is not None:
            raise {"superseded": Superseded, "canceled": Canceled, "paused": Paused}[reason]()

    def every_item_failed(self) -> None:
        """Nothing worked: the step whose items failed is where the run broke (the timeline marks it)."""
        if self.failed_step is None:
            self.failed_step = self._failed_in

    # --- live events (best effort; the tables are the record) ---
    async def _publish(self, event: dict[str, Any]) -> None:
        await events.publish(self.execution_id, self.workspace_id, self.started_by, event)

    async def _publish_step(self, position: int, name: str, status: str, **extra: Any) -> None:
        await self._publish({"type": "step", "position": position, "attempt": self.attempt, "name": name,
                             "status": status, **extra})

    # --- what the runner calls --------------------------------------------------------------------
    async def heartbeat(self) -> None:
        progress = self._progress
        rows = await self._write(lambda buffered: lifecycle.heartbeat(buffered, self.execution_id, self.attempt,
                                                                      progress))
        if rows:
            self.cancel_requested = rows[0]["cancel_requested"]
            self.pause_requested = rows[0]["pause_requested"]
            if progress:
                await self._publish({"type": "progress", "progress_done": progress[0], "progress_total": progress[1]})
        else:
            self.superseded = True

    def _buffered(self, items: dict[str, Any], logs: list[tuple[str, str]], emitted: list[Any]) -> lifecycle.Buffered:
        """Buffered items, log lines and results, to ride along with the statement that follows (one round trip)."""
        buffered = lifecycle.Buffered()
        if emitted:
            buffered.parts, buffered.args = results.insert_cte(self.execution_id, self.workspace_id, emitted)
        if items:
            buffered.add_items(self.execution_id, {k: (s, r, _json(d)) for k, (s, r, d) in items.items()})
        if logs:
            buffered.add_logs(self.execution_id, logs)
        return buffered

    async def _write(self, statement: Callable[[lifecycle.Buffered], Awaitable[list[dict[str, Any]]]] | None = None
                     ) -> list[dict[str, Any]]:
        """Run ``statement`` together with the buffered writes; if it fails, the buffers are kept for the next."""
        items, self._items = self._items, {}
        logs, self._logs = self._logs, []
        emitted = self._take_results()
        buffered = self._buffered(items, logs, emitted)
        if not buffered.parts and statement is None:
            return []
        try:
            rows = await (statement or lifecycle.flush)(buffered)
        except BaseException:
            self._items = {**items, **self._items}
            self._logs = logs + self._logs
            self._restore_results(emitted)
            raise
        if logs:
            await self._publish({"type": "log", "at": now(), "lines": [{"level": lv, "message": m} for lv, m in logs]})
        return rows

    async def flush(self) -> None:
        await self._write()

    async def counts(self) -> tuple[int, int]:
        """Items done and failed. A first attempt knows them; a re-queued run also has earlier attempts'."""
        if self.attempt == 1:
            return len(self._done), len(self._failed)
        return await lifecycle.item_counts(self.execution_id)

    async def read_controls(self) -> None:
        """The stop requests as the run's row has them now; a run no longer ours is superseded."""
        flags = await lifecycle.control_flags(self.execution_id)
        if flags is None or flags["attempts"] != self.attempt or flags["status"] != states.RUNNING:
            self.superseded = self.superseded or not (flags and flags["cancel_requested"])
            self.cancel_requested = bool(flags and flags["cancel_requested"])
            return
        self.cancel_requested = flags["cancel_requested"]
        self.pause_requested = flags["pause_requested"]

    async def watch_controls(self, work: asyncio.Task[Any], every: float) -> None:
        """Look for stop requests every ``every`` seconds while ``work`` (the agent) runs. A cancel, or the
        run given to another worker, interrupts what the agent awaits; a pause waits for a safe point."""
        while not work.done():
            await asyncio.sleep(every)
            try:
                await self.read_controls()
            except Exception:  # noqa: BLE001 - a missed look is retried; the heartbeat also reads the flags
                continue
            if self.stop_reason() in ("superseded", "canceled") and not work.done():
                work.cancel()
                return

    async def _insert_step(self, position: int, name: str, status: str, input: Any, output: Any) -> UUID:
        step_id = await lifecycle.insert_step(self.execution_id, self.attempt, position, name[:120], status,
                                              _json(input), _json(output))
        await self._publish_step(position, name[:120], status)
        return step_id

    async def _end_step(self, step_id: UUID, position: int, status: str, handle: Step, started: float,
                        error: str | None) -> None:
        """Close the step and write what it produced, in one statement."""
        duration_ms = round((time.perf_counter() - started) * 1000)
        await self._write(lambda buffered: lifecycle.end_step(buffered, step_id, status, _json(handle.output), error,
                                                              handle.retries, duration_ms))
        await self._publish_step(position, handle.name, status, duration_ms=duration_ms,
                                 retries=handle.retries, error=error)
