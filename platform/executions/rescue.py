"""The rescue (the reaper): nothing stays running for ever, and no queued run waits for a message that no
longer exists. ``agents.tasks.reap_stale_runs`` is the thin actor over ``rescue``.

The scheduler process runs ``rescue`` every REAP_INTERVAL_SECONDS on its own event loop (never on a worker
thread, where it would wait behind agent runs). One pass:

1. **Dead workers' messages go back to their queues.** Dramatiq's Redis broker keeps every fetched but
   unacknowledged message in a per-worker set, and its "maintenance" moves the sets of workers silent for
   its heartbeat timeout back onto the queue. It runs that on a random 0.1% of broker commands, and only
   for the queue the command is about: the `runs` queue of busy workers sees no fetches at all, so a dead
   worker's prefetched runs could wait for hours. The pass runs that maintenance itself on every queue,
   with WORKER_HEARTBEAT_TIMEOUT_SECONDS as the timeout.
2. **Runs whose heartbeat went stale** are re-queued (up to RUN_MAX_ATTEMPTS worker losses), then failed
   and refunded; one somebody canceled or paused meanwhile is canceled (processed items charged) or paused
   without waiting for a worker.
3. **Reviews nobody decides** within REVIEW_TIMEOUT_HOURS are canceled, so they do not hold credits.
4. **Queued runs whose message was lost** (Redis restarted without its data, a message dead-lettered
   because the runner raised before it claimed the run) are sent again. A run counts as lost when it has
   been queued for RUN_STALE_SECONDS and Redis holds no message for it: the queue's ``.msgs`` hash (and
   its delay queue's) keeps every message from enqueue until it is acknowledged, whether it waits in the
   list, sits in a live worker's prefetch or in a dead worker's set (step 1 returns those). A run merely
   waiting behind busy workers therefore has its message there and is never sent twice. Redis is read
   first and the database again after it, so a run whose message was taken and finished in between is no
   longer queued and not resent. Should a duplicate slip through anyway, the runner's claim (a guarded
   UPDATE from ``queued``) lets only one message start the run.
"""

from __future__ import annotations

import asyncio
import logging

from agentledger.platform.broker import broker
from agentledger.platform.config import get_settings
from agentledger.platform.database import atomic
from agentledger.platform.executions import lifecycle_repository as lifecycle
from agentledger.platform.executions import service, states

log = logging.getLogger("agentledger.reaper")
BATCH = 1000  # per kind and pass; the next pass takes the rest


async def rescue() -> dict[str, int]:
    """One pass. Each run is settled in a transaction of its own (the named exception to "services never
    commit"): one run that cannot be rescued must not roll back, or hold up, the rescue of the others."""
    settings = get_settings()
    await asyncio.to_thread(broker.maintain, round(settings.worker_heartbeat_timeout_seconds * 1000))
    counts = await _stale_runs(settings.run_stale_seconds, settings.run_max_attempts)
    counts["review_expired"] = await _expired_reviews(settings.review_timeout_hours)
    counts["resent"] = await _lost_messages(settings.run_stale_seconds)
    return counts


async def _stale_runs(stale_after: float, max_attempts: int) -> dict[str, int]:
    requeued = failed = canceled = 0
    for run in await lifecycle.silent_runs(stale_after, BATCH):
        try:
            async with atomic():
                losses = run["lost_workers"] + 1  # counting this one
                if run["cancel_requested"]:  # its worker died before the cancel took effect: take it now
                    canceled += await service.finish(
                        run["id"], states.CANCELED, from_states=states.LIVE, attempt=run["attempts"],
                        silent_for=stale_after) is not None
                elif losses < max_attempts:
                    requeued += await service.requeue(run["id"], stale_after, run["attempts"])
                else:
                    failed += await service.finish(
                        run["id"], states.FAILED, from_states=states.LIVE, attempt=run["attempts"],
                        silent_for=stale_after,
                        error=f"the worker running this execution stopped responding {losses} times",
                    ) is not None
        except Exception:  # noqa: BLE001 - one bad run must not stop the rescue of the others
            log.exception("could not reap execution %s", run["id"])
    return {"requeued": requeued, "failed": failed, "canceled": canceled}


async def _expired_reviews(timeout_hours: float) -> int:
    expired = await lifecycle.unreviewed_runs(timeout_hours * 3600, BATCH)  # they must not hold credits for ever
    for run in expired:
        try:
            async with atomic():
                await service.finish(
                    run["id"], states.CANCELED, from_states=(states.AWAITING_REVIEW,),
                    error=f"canceled: nobody reviewed it within {timeout_hours:g} hours; the items "
                          "it processed are charged, the rest refunded")
        except Exception:  # noqa: BLE001 - as above: one bad run must not keep the others waiting
            log.exception("could not cancel the unreviewed execution %s", run["id"])
    return len(expired)


async def _lost_messages(queued_for: float) -> int:
    """Send again the queued runs Redis holds no message for (see the module docstring)."""
    waiting = await lifecycle.long_queued(queued_for, BATCH)
    if not waiting:
        return 0
    held = await asyncio.to_thread(broker.message_args, service.RUN_QUEUE, service.RUN_ACTOR)
    missing = [run_id for run_id in waiting if str(run_id) not in held]
    if not missing:
        return 0
    lost = await lifecycle.still_queued(missing)
    for run_id in lost:
        log.warning("execution %s was queued with no message in Redis: sending it again", run_id)
        service.enqueue_run(run_id)  # outside a transaction: sent now
    return len(lost)
