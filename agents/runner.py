"""Run one execution: claim it (a duplicate or redelivered message then does nothing), heartbeat while
the agent runs, enforce its time limit, and finish with the settlement in the same transaction."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import traceback
from typing import Any
from uuid import UUID

import msgspec

from agentledger.agents.context import RunContext
from agentledger.agents.registry import get_agent
from agentledger.agents.sdk import AgentError, AwaitingReview, Canceled, Superseded
from agentledger.platform.config import get_settings
from agentledger.platform.database import atomic, fetch
from agentledger.platform.executions import repository, service, states

log = logging.getLogger("agentledger.runner")


async def _claim(execution_id: UUID) -> dict[str, Any] | None:
    return await repository.transition(
        execution_id, states.CLAIM_FROM,
        "status = 'running', started_at = COALESCE(started_at, now()), heartbeat_at = now(), attempts = attempts + 1",
    )


def _reuse_source(row: dict[str, Any]) -> UUID | None:
    """Whose finished steps this attempt reuses: its own (it waited for a review), or the run it resumes."""
    if row["awaited_review"]:
        return row["id"]
    return row["rerun_of"] if row["reuse_steps"] else None


async def _reusable_steps(source: UUID | None) -> dict[tuple[int, str], Any]:
    if source is None:
        return {}
    rows = await fetch(
        "SELECT DISTINCT ON (position) position, name, status, output FROM execution_steps "
        "WHERE execution = {} ORDER BY position, attempt DESC", source)
    reusable = {}
    for step in rows:
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


async def run_execution(execution_id: UUID) -> str | None:
    """Answer the final status, or None when this message had nothing to do."""
    row = await _claim(execution_id)
    if row is None:
        return None
    ctx = RunContext(execution_id, row["workspace"], row["mode"], row["scope"], row["attempts"],
                     reuse_from=_reuse_source(row), started_by=row["started_by"], cancel_requested=row["cancel_requested"],
                     pause_requested=row["pause_requested"])
    stop_beating = asyncio.Event()
    beat = asyncio.create_task(_heartbeat(ctx, get_settings().run_heartbeat_seconds, stop_beating))
    error = trace = None
    limit = asyncio.timeout(row["time_limit_seconds"])
    try:
        agent = get_agent(row["agent"])
        inputs = msgspec.convert(msgspec.json.decode(row["inputs"]), agent.inputs)
        ctx.reusable = await _reusable_steps(ctx.reuse_from)
        async with limit:
            await agent.run(ctx, inputs)
        status = states.COMPLETED
    except AwaitingReview:
        await ctx.flush()
        return states.AWAITING_REVIEW
    except Superseded:
        log.warning("execution %s was given to another worker; this one stops", execution_id)
        return None
    except Canceled:
        status = states.CANCELED
        ctx.log("info", "canceled at a step boundary")
    except TimeoutError as exc:
        if limit.expired():
            status, error = states.TIMED_OUT, f"stopped after the time limit of {row['time_limit_seconds']} s"
        else:
            status, error, trace = states.FAILED, f"{type(exc).__name__}: {exc}", traceback.format_exc()
    except AgentError as exc:
        status, error, trace = states.FAILED, str(exc)[:2000], traceback.format_exc()
    except Exception as exc:  # noqa: BLE001 - any agent failure ends the run as failed, refunded
        status, error, trace = states.FAILED, f"{type(exc).__name__}: {exc}"[:2000], traceback.format_exc()
    finally:
        stop_beating.set()
        await beat
    if error:
        ctx.log("error", error)
    await ctx.flush()
    done, failed = await ctx.counts()
    if status == states.COMPLETED and failed and not done:  # nothing worked: a failure, and nothing charged
        status, error = states.FAILED, f"every item failed ({failed}); each item says why"
        ctx.log("error", error)
        await ctx.flush()
    elif status == states.COMPLETED and failed:
        status = states.PARTIAL
    async with atomic():
        finished = await service.finish(execution_id, status, items_processed=done, items_failed=failed,
                                        error=error, traceback=trace, current=row, attempt=row["attempts"])
    return status if finished else None
