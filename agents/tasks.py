"""Agent actors: run an execution, and the reaper that rescues runs whose worker went silent."""

from __future__ import annotations

from uuid import UUID

from agentledger.agents import runner
from agentledger.platform.broker import task
from agentledger.platform.config import get_settings
from agentledger.platform.database import atomic, fetch
from agentledger.platform.executions import service, states

SIX_HOURS_MS = 6 * 3600 * 1000  # agents enforce their own (shorter) limits


@task(actor_name="run_execution", queue_name="runs", max_retries=0, time_limit=SIX_HOURS_MS)
async def run_execution(execution_id: str) -> str | None:
    return await runner.run_execution(UUID(execution_id))


@task(queue_name="default", max_retries=0)
async def reap_stale_runs() -> dict[str, int]:
    """Runs whose heartbeat went stale are re-queued (up to RUN_MAX_ATTEMPTS worker losses), then failed
    and refunded; queued runs whose message was lost are sent again. Nothing stays running forever."""
    settings = get_settings()
    stale = await fetch(
        "SELECT id, attempts FROM executions WHERE status = ANY({}) "
        "AND (heartbeat_at IS NULL OR heartbeat_at < now() - make_interval(secs => {}))",
        list(states.LIVE), settings.run_stale_seconds,
    )
    requeued = failed = 0
    for run in stale:
        async with atomic():
            if run["attempts"] < settings.run_max_attempts:
                requeued += await service.requeue(run["id"])
            else:
                failed += await service.finish(
                    run["id"], states.FAILED, from_states=states.LIVE,
                    error=f"the worker running this execution stopped responding {run['attempts']} times",
                ) is not None
    lost = await fetch(
        "SELECT id FROM executions WHERE status = 'queued' AND queued_at < now() - make_interval(secs => {}) "
        "LIMIT 1000", settings.run_stale_seconds * 20,
    )
    for run in lost:
        run_execution.send(str(run["id"]))
    return {"requeued": requeued, "failed": failed, "resent": len(lost)}
