"""Run one execution: claim it (a duplicate or redelivered message then does nothing), heartbeat while
the agent runs, watch for cancel and pause requests, enforce its time limit (paused time does not
count), and finish with the settlement in the same transaction.

The agent runs in a task of its own, so a cancel interrupts whatever it awaits; a pause lets the agent
reach a safe point, then this attempt hands the run back (``paused``) and the worker is free."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import traceback
from typing import Any
from uuid import UUID

import msgspec

from agentledger.agents.context import RunContext, control_signal
from agentledger.agents.registry import get_agent
from agentledger.agents.sdk import AgentError, AwaitingReview
from agentledger.platform.config import get_settings
from agentledger.platform.database import atomic
from agentledger.platform.executions import lifecycle_repository as lifecycle
from agentledger.platform.executions import service, states

log = logging.getLogger("agentledger.runner")


def _reuse_source(row: dict[str, Any]) -> UUID | None:
    """Whose finished steps this attempt reuses: its own earlier attempts' (it paused, waited for a review or
    lost its worker), or those of the run it resumes."""
    if row["attempts"] > 1:
        return row["id"]
    return row["rerun_of"] if row["reuse_steps"] else None


async def _prior_items(row: dict[str, Any]) -> dict[str, str]:
    """Items the agent skips: what earlier attempts of this run recorded, and for a retry (or a resume where
    it stopped) what the original processed."""
    prior: dict[str, str] = {}
    if row["skip_processed"] and row["rerun_of"]:
        prior.update(await lifecycle.processed_items(row["rerun_of"], done_only=True))
    if row["attempts"] > 1:
        prior.update(await lifecycle.processed_items(row["id"]))
    return prior


async def _reusable_steps(source: UUID | None) -> dict[tuple[int, str], Any]:
    if source is None:
        return {}
    reusable = {}
    for step in await lifecycle.latest_steps(source):
        if step["status"] not in ("succeeded", "reused"):
            break  # steps after the first failure run again
        reusable[(step["position"], step["name"])] = msgspec.json.decode(step["output"]) if step["output"] else None
    return reusable


async def _heartbeat(ctx: RunContext, every: float, stop: asyncio.Event) -> None:
    """Beat until ``stop`` is set; a beat in flight is finished, never cut off (it carries items)."""
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)
        if stop.is_set():
            return
        try:
            await ctx.heartbeat()
        except Exception:  # noqa: BLE001 - a missed beat is retried; the reaper judges silence
            log.warning("heartbeat failed for %s", ctx.execution_id, exc_info=True)


def _time_left(row: dict[str, Any]) -> float:
    """The time limit less the time already spent running (earlier attempts; paused time excluded)."""
    spent = (row["heartbeat_at"] - row["started_at"]).total_seconds() - row["paused_ms"] / 1000
    return max(row["time_limit_seconds"] - spent, 0.001)


async def _run_agent(ctx: RunContext, row: dict[str, Any]) -> None:
    agent = get_agent(row["agent"])
    inputs = msgspec.convert(msgspec.json.decode(row["inputs"]), agent.inputs)
    ctx.reusable = await _reusable_steps(ctx.reuse_from)
    ctx.prior = await _prior_items(row)
    work = asyncio.create_task(agent.run(ctx, inputs))
    watch = asyncio.create_task(ctx.watch_controls(work, get_settings().run_control_poll_seconds))
    try:
        await work
    finally:
        watch.cancel()
        with contextlib.suppress(BaseException):
            await watch
        if not work.done():  # the time limit (or a worker shutdown) cancelled this task: stop the agent too
            work.cancel()
            with contextlib.suppress(BaseException):
                await work


async def run_execution(execution_id: UUID) -> str | None:
    """Answer the final status (``paused`` when it handed the run back), or None when this message had
    nothing to do or the run belongs to another worker now."""
    row = await lifecycle.claim(execution_id)
    if row is None:
        return None
    ctx = RunContext(execution_id, row["workspace"], row["mode"], row["scope"], row["attempts"],
                     reuse_from=_reuse_source(row), started_by=row["started_by"], cancel_requested=row["cancel_requested"],
                     pause_requested=row["pause_requested"])
    stop_beating = asyncio.Event()
    beat = asyncio.create_task(_heartbeat(ctx, get_settings().run_heartbeat_seconds, stop_beating))
    error = trace = None
    limit = asyncio.timeout(_time_left(row))
    try:
        async with limit:
            await _run_agent(ctx, row)
        status = states.COMPLETED
    except TimeoutError as exc:
        if limit.expired():
            status, error = states.TIMED_OUT, f"stopped after the time limit of {row['time_limit_seconds']} s"
        else:
            status, error, trace = states.FAILED, f"{type(exc).__name__}: {exc}", traceback.format_exc()
    except BaseException as exc:  # noqa: BLE001 - sorted below: a signal, an agent failure, or not ours
        signal = control_signal(exc)
        reason = "review" if isinstance(signal, AwaitingReview) else (ctx.stop_reason() if signal else None)
        if signal is not None and reason is None:
            raise  # cancelled from outside (a worker shutting down): the reaper re-queues the run
        if reason is None and not isinstance(exc, Exception):
            raise
        if reason == "review":
            await ctx.flush()
            return states.AWAITING_REVIEW
        if reason == "superseded":
            log.warning("execution %s was given to another worker; this one stops", execution_id)
            return None
        if reason == "paused":
            status = states.PAUSED  # handed back below, once the heartbeat has stopped
        elif reason == "canceled":
            status = states.CANCELED
            ctx.note("info", "canceled")
        elif isinstance(exc, AgentError):
            status, error, trace = states.FAILED, str(exc)[:2000], traceback.format_exc()
        else:  # any agent failure ends the run as failed, refunded
            status, error, trace = states.FAILED, f"{type(exc).__name__}: {exc}"[:2000], traceback.format_exc()
    finally:
        stop_beating.set()
        await beat
    if status == states.PAUSED:
        return await _hand_back(ctx, row)
    return await _finish(ctx, row, status, error, trace)


async def _hand_back(ctx: RunContext, row: dict[str, Any]) -> str | None:
    """The agent reached a safe point after a pause: record what it did and let go of the worker."""
    ctx.note("info", "paused: the worker is free until someone resumes the run")
    await ctx.flush()
    async with atomic():
        handed = await service.hand_back(ctx.execution_id, ctx.attempt)
    if handed is not None:
        return handed["status"]
    await ctx.read_controls()  # a cancel came first (or the run is no longer ours)
    if ctx.stop_reason() == "canceled":
        return await _finish(ctx, row, states.CANCELED, None, None)
    return None


async def _finish(ctx: RunContext, row: dict[str, Any], status: str, error: str | None,
                  trace: str | None) -> str | None:
    if error:
        ctx.note("error", error)
    await ctx.flush()
    done, failed = await ctx.counts()
    if status == states.COMPLETED and failed and not done:  # nothing worked: a failure, and nothing charged
        status, error = states.FAILED, f"every item failed ({failed}); each item says why"
        ctx.every_item_failed()
        ctx.note("error", error)
        await ctx.flush()
        if ctx.failed_step is not None:
            await lifecycle.mark_step_failed(ctx.execution_id, ctx.attempt, ctx.failed_step, error)
    elif status == states.COMPLETED and failed:
        status = states.PARTIAL
    async with atomic():
        finished = await service.finish(ctx.execution_id, status, items_processed=done, items_failed=failed,
                                        error=error, traceback=trace, current=row, attempt=row["attempts"],
                                        failed_step=ctx.failed_step if status == states.FAILED else None)
    return status if finished else None
