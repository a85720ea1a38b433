"""The scheduler process: periodic jobs enqueued as Dramatiq messages, on exactly one replica.

It holds a PostgreSQL session-level advisory lock for as long as it runs. A second scheduler (another
replica, a rolling deploy) finds the lock taken and stands by, polling, until the leader goes away.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from dataclasses import dataclass

import asyncpg
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from agentledger.platform.config import get_settings

log = logging.getLogger("agentledger.scheduler")
LOCK_KEY = 0x61676C64  # "agld"


@dataclass(frozen=True)
class Job:
    name: str
    actor_path: str  # "module:actor"
    trigger: object


def jobs() -> list[Job]:
    return [
        Job("purge-stale-invitations", "agentledger.platform.tasks:purge_stale_invitations",
            CronTrigger(hour=3, minute=17, timezone="UTC")),
        Job("reap-stale-runs", "agentledger.agents.tasks:reap_stale_runs", IntervalTrigger(seconds=30)),
        Job("fire-due-schedules", "agentledger.agents.tasks:fire_due_schedules",
            IntervalTrigger(seconds=get_settings().schedule_poll_seconds)),
        Job("sweep-outbox", "agentledger.notifications.tasks:sweep_outbox", IntervalTrigger(minutes=5)),
    ]


def _send(actor_path: str) -> None:
    import importlib

    module, _, name = actor_path.partition(":")
    getattr(importlib.import_module(module), name).send()


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
            scheduler.add_job(_send, job.trigger, args=[job.actor_path], id=job.name, coalesce=True,
                              max_instances=1, misfire_grace_time=300)
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


