"""Agent actors: run an execution, and the reaper that rescues runs whose worker went silent."""

from __future__ import annotations

import logging
from uuid import UUID

from agentledger.agents import runner, scheduling
from agentledger.platform.broker import task
from agentledger.platform.config import get_settings
from agentledger.platform.database import atomic, fetch
from agentledger.platform.executions import service, states

log = logging.getLogger("agentledger.reaper")
SIX_HOURS_MS = 6 * 3600 * 1000  # agents enforce their own (shorter) limits


@task(actor_name="run_execution", queue_name="runs", max_retries=0, time_limit=SIX_HOURS_MS)
async def run_execution(execution_id: str) -> str | None:
    return await runner.run_execution(UUID(execution_id))


@task(queue_name="default", max_retries=0)
async def reap_stale_runs() -> dict[str, int]:
    """Runs whose heartbeat went stale are re-queued (up to RUN_MAX_ATTEMPTS worker losses), then failed
    and refunded; one somebody canceled or paused meanwhile is canceled (processed items charged) or
    paused without waiting for a worker; queued runs whose message was lost are sent again. Nothing stays running forever."""
    settings = get_settings()
    stale_after = settings.run_stale_seconds
    stale = await fetch(  # a literal state, so the partial index on live runs applies
        "SELECT id, attempts, lost_workers, cancel_requested FROM executions WHERE status = 'running' "
        "AND (heartbeat_at IS NULL OR heartbeat_at < now() - make_interval(secs => {})) LIMIT 1000", stale_after,
    )
    requeued = failed = canceled = 0
    for run in stale:
        try:
            async with atomic():
                losses = run["lost_workers"] + 1  # counting this one
                if run["cancel_requested"]:  # its worker died before the cancel took effect: take it now
                    canceled += await service.finish(
                        run["id"], states.CANCELED, from_states=states.LIVE, guard=service.STALE_GUARD,
                        guard_args=(stale_after, run["attempts"])) is not None
                elif losses < settings.run_max_attempts:
                    requeued += await service.requeue(run["id"], stale_after, run["attempts"])
                else:
                    failed += await service.finish(
                        run["id"], states.FAILED, from_states=states.LIVE, guard=service.STALE_GUARD,
                        guard_args=(stale_after, run["attempts"]),
                        error=f"the worker running this execution stopped responding {losses} times",
                    ) is not None
        except Exception:  # noqa: BLE001 - one bad run must not stop the rescue of the others
            log.exception("could not reap execution %s", run["id"])
    expired = await fetch(  # a review nobody decides must not hold credits for ever
        "SELECT e.id FROM executions e JOIN execution_reviews r ON r.execution = e.id AND r.status = 'pending' "
        "WHERE e.status = 'awaiting_review' AND r.created_at < now() - make_interval(secs => {}) LIMIT 1000",
        settings.review_timeout_hours * 3600)
    for run in expired:
        try:
            async with atomic():
                await service.finish(
                    run["id"], states.CANCELED, from_states=(states.AWAITING_REVIEW,),
                    error=f"canceled: nobody reviewed it within {settings.review_timeout_hours:g} hours; the items "
                          "it processed are charged, the rest refunded")
        except Exception:  # noqa: BLE001 - as above: one bad run must not keep the others waiting
            log.exception("could not cancel the unreviewed execution %s", run["id"])
    lost = await fetch(
        "SELECT id FROM executions WHERE status = 'queued' AND queued_at < now() - make_interval(secs => {}) "
        "LIMIT 1000", stale_after * 20,
    )
    for run in lost:
        run_execution.send(str(run["id"]))
    return {"requeued": requeued, "failed": failed, "canceled": canceled, "resent": len(lost),
            "review_expired": len(expired)}


@task(queue_name="default", max_retries=0)
async def fire_due_schedules() -> dict[str, int]:
    """Start the runs whose schedule is due (the scheduler sends this every SCHEDULE_POLL_SECONDS)."""
    return await scheduling.fire_due()
