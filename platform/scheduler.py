"""The scheduler process: the periodic jobs, awaited here on exactly one replica.

Each job is an actor's coroutine (``run_here``) awaited on this process's own event loop with its own
database pool, not a message for the workers: there it would wait behind agent runs, and while every
worker thread holds a long run, a dead worker's runs would not be rescued until one finished. A job that
raises (or hangs past ``JOB_TIMEOUT``) is logged and runs again at its next time; the scheduler goes on.
Interval jobs also run once as soon as this process leads, so a new leader rescues at once.

It holds a PostgreSQL session-level advisory lock for as long as it runs. A second scheduler (another
replica, a rolling deploy) finds the lock taken and stands by, polling, until the leader goes away.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import signal
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from agentledger.platform.config import get_settings
from agentledger.platform.database import close_pool

log = logging.getLogger("agentledger.scheduler")
LOCK_KEY = 0x61676C64  # "agld"
JOB_TIMEOUT = 300  # seconds; a reaper pass is milliseconds, this is for a database that stopped answering


@dataclass(frozen=True)
class Job:
    name: str
    actor_path: str  # "module:actor": its coroutine is awaited here
    trigger: object


def jobs() -> list[Job]:
    return [
        Job("purge-stale-invitations", "agentledger.platform.tasks:purge_stale_invitations",
            CronTrigger(hour=3, minute=17, timezone="UTC")),
        Job("reap-stale-runs", "agentledger.agents.tasks:reap_stale_runs",  # the thin actor over executions.rescue
            IntervalTrigger(seconds=get_settings().reap_interval_seconds)),
        Job("fire-due-schedules", "agentledger.agents.tasks:fire_due_schedules",
            IntervalTrigger(seconds=get_settings().schedule_poll_seconds)),
        Job("sweep-outbox", "agentledger.notifications.tasks:sweep_outbox", IntervalTrigger(minutes=5)),
        # Monday 08:00 comes at a quarter hour somewhere (India, Nepal, Chatham): each person's is met within 15 min
        Job("send-digests", "agentledger.notifications.tasks:send_digests", CronTrigger(minute="*/15", timezone="UTC")),
        # batched and resumable: each pass stops within its budget, the next goes on (first one at start)
        Job("retention-pass", "agentledger.platform.retention.tasks:retention_pass", IntervalTrigger(minutes=10)),
    ]


async def run_job(job: Job) -> None:
    """One run of ``job``; never raises (APScheduler would log it too, but not stop a hung one)."""
    module, _, name = job.actor_path.partition(":")
    try:
        async with asyncio.timeout(JOB_TIMEOUT):
            result = await getattr(importlib.import_module(module), name).run_here()
    except Exception:  # noqa: BLE001 - logged; the job runs again at its next time
        log.exception("periodic job %s failed", job.name)
        return
    did_something = any((result or {}).values()) if isinstance(result, dict) else bool(result)
    log.log(logging.INFO if did_something else logging.DEBUG, "periodic job %s: %s", job.name, result)


async def _acquire(conn: asyncpg.Connection, poll: float, stop: asyncio.Event) -> bool:
    announced = False
    while not stop.is_set():
        if await conn.fetchval("SELECT pg_try_advisory_lock($1)", LOCK_KEY):
            return True
        if not announced:
            log.warning("scheduler standby: another scheduler holds the lock (pid %s)", os.getpid())
            print(f"scheduler standby pid={os.getpid()}", flush=True)
            announced = True
        try:
            await asyncio.wait_for(stop.wait(), timeout=poll)
        except TimeoutError:
            pass
    return False


async def run(poll: float | None = None) -> None:
    settings = get_settings()
    import agentledger.platform.actors  # noqa: F401 - the broker and every actor

    poll = poll if poll is not None else float(os.environ.get("SCHEDULER_STANDBY_POLL", "5"))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    conn = await asyncpg.connect(settings.database_url)
    try:
        if not await _acquire(conn, poll, stop):
            return
        print(f"scheduler leader pid={os.getpid()}", flush=True)
        scheduler = AsyncIOScheduler(timezone="UTC")
        for job in jobs():
            first = datetime.now(UTC) if isinstance(job.trigger, IntervalTrigger) else None
            scheduler.add_job(run_job, job.trigger, args=[job], id=job.name, coalesce=True, max_instances=1,
                              misfire_grace_time=300, **({"next_run_time": first} if first else {}))
        scheduler.start()
        while not stop.is_set():  # the lock lives with this connection: check it stays healthy
            await conn.fetchval("SELECT 1")
            try:
                await asyncio.wait_for(stop.wait(), timeout=10)
            except TimeoutError:
                pass
        scheduler.shutdown(wait=False)
    finally:
        await conn.close()
        await close_pool()


