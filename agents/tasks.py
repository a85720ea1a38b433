"""Agent actors: run an execution; the reaper and the schedule firing (which the scheduler awaits in its own
process, so that they never wait behind runs on a worker thread)."""

from __future__ import annotations

from uuid import UUID

from agentledger.agents import runner, scheduling
from agentledger.platform.broker import task
from agentledger.platform.executions import rescue
from agentledger.platform.executions.service import RUN_ACTOR, RUN_QUEUE

SIX_HOURS_MS = 6 * 3600 * 1000  # agents enforce their own (shorter) limits


@task(actor_name=RUN_ACTOR, queue_name=RUN_QUEUE, max_retries=0, time_limit=SIX_HOURS_MS)
async def run_execution(execution_id: str) -> str | None:
    return await runner.run_execution(UUID(execution_id))


@task(queue_name="default", max_retries=0)
async def reap_stale_runs() -> dict[str, int]:
    """Rescue runs whose worker died and runs whose message was lost (``executions.rescue``). The scheduler
    awaits this in its own process every REAP_INTERVAL_SECONDS; as an actor it is there for a one-off pass."""
    return await rescue.rescue()


@task(queue_name="default", max_retries=0)
async def fire_due_schedules() -> dict[str, int]:
    """Start the runs whose schedule is due (the scheduler awaits this every SCHEDULE_POLL_SECONDS)."""
    return await scheduling.fire_due()
