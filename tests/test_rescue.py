"""Rescue never waits behind agent runs, and a queued run whose message was lost comes back once.

Real processes: a worker whose every run thread holds a long run, a second worker killed with `kill -9`
(one run running, one message prefetched), and the real scheduler, which reaps on its own event loop.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from uuid import UUID

from agentledger.agents import launch
from agentledger.agents.tasks import reap_stale_runs
from agentledger.platform.broker import broker
from agentledger.platform.database import atomic, fetch
from agentledger.platform.executions import states
from agentledger.platform.scoping import resolve_scope
from tests.support.books import assert_books_balance, wait_for_status
from tests.support.processes import Output, cli, kill_9, running, start_worker, worker
from tests.support.site import site

STALE, REAP, DEAD_WORKER = 1.0, 1.0, 2.0  # RUN_STALE_SECONDS, REAP_INTERVAL_SECONDS, WORKER_HEARTBEAT_TIMEOUT_SECONDS
SLACK = 1.5  # polling, a reaper pass and the database, on a loaded 2-core machine


def fast_rescue(override_settings) -> None:
    override_settings(RUN_STALE_SECONDS=str(STALE), REAP_INTERVAL_SECONDS=str(REAP),
                      WORKER_HEARTBEAT_TIMEOUT_SECONDS=str(DEAD_WORKER), RUN_HEARTBEAT_SECONDS="0.2")


def run_messages(waiting_only: bool = False) -> list[str]:
    """The execution ids of the `runs` queue's messages in Redis: every message not yet acknowledged
    (waiting, prefetched or running), or only those waiting in the queue's list for a worker."""
    queue = f"{broker.namespace}:runs"
    if waiting_only:
        ids = broker.client.lrange(queue, 0, -1)
        data = broker.client.hmget(f"{queue}.msgs", ids) if ids else []
    else:
        data = broker.client.hvals(f"{queue}.msgs")
    return [json.loads(item)["args"][0] for item in data if item]


async def rows(ids: list[UUID]) -> dict[UUID, dict]:
    found = await fetch("SELECT * FROM executions WHERE id = ANY({})", ids)
    return {row["id"]: row for row in found}


async def wait_until(check, timeout: float, what: str) -> float:
    """Poll ``check`` (async) until it is true; answers the seconds it took."""
    started = time.monotonic()
    while not await check():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"{what}: not within {timeout} s")
        await asyncio.sleep(0.05)
    return time.monotonic() - started


async def start_runs(scope, urls_per_run: list[list[str]]) -> list[UUID]:
    ids = []
    async with atomic():
        for urls in urls_per_run:
            run = await launch.start(scope, launch.Request("url-check", {"urls": urls, "timeout_seconds": 30}))
            ids.append(run["id"])
    return ids


def assert_settled(row: dict) -> None:
    assert row["status"] == states.COMPLETED, row
    assert row["credits_reserved"] == row["credits_charged"] + row["credits_refunded"], row
    assert row["credits_charged"] == 1 + row["items_processed"], row


async def test_a_killed_workers_runs_are_rescued_while_every_run_thread_is_busy(factory, override_settings):
    fast_rescue(override_settings)
    team = await factory.team()
    workspace_id = await factory.credits("acme", 100)
    scope = await resolve_scope("acme", team.member.id)
    with site() as url:
        # The busy worker: two run threads, and it fetches no more runs than it has threads.
        with running(cli("worker", "--processes", "1", "--threads", "2"), {"dramatiq_queue_prefetch": "2"}):
            long = await start_runs(scope, [[f"{url}/slow?ms=12000&n={n}"] for n in range(2)])
            await wait_until(lambda: all_in(long, states.RUNNING), 30, "the busy worker holds both long runs")
            doomed = await start_runs(scope, [[f"{url}/slow?ms=1500&n={n}&k={k}" for k in range(2)]
                                              for n in range(2, 4)])
            with running(cli("scheduler"), stdout=subprocess.PIPE, text=True) as scheduler:
                out = Output(scheduler)
                victim = start_worker(threads=1)  # fetches both: one runs, one waits in its prefetch
                try:
                    await wait_until(lambda: all_in(doomed[:1], states.RUNNING), 30, "the second worker runs one")
                    assert out.wait_for("scheduler leader", timeout=10), out.lines
                    assert set(run_messages(waiting_only=True)).isdisjoint(map(str, doomed))  # both fetched
                finally:
                    kill_9(victim)
                requeued = await wait_until(lambda: lost_once(doomed[0]), STALE + REAP + SLACK,
                                            "the killed worker's running run is re-queued")
                returned = await wait_until(lambda: waiting(doomed[1]), DEAD_WORKER + REAP + SLACK,
                                            "the message the killed worker had prefetched is back in the queue")
                assert await all_in(long, states.RUNNING), "the long runs are still holding every thread"
            finals = [await wait_for_status(run_id, timeout=30) for run_id in [*long, *doomed]]
    assert requeued <= STALE + REAP + SLACK and returned <= DEAD_WORKER + REAP + SLACK
    for row in finals:
        assert_settled(row)
    assert [row["attempts"] for row in finals] == [1, 1, 2, 1]  # each claimed once per worker it had
    books = await assert_books_balance(workspace_id)
    assert books["spent"] == sum(row["credits_charged"] for row in finals) and books["wallet_held"] == 0


async def all_in(ids: list[UUID], status: str) -> bool:
    return all(row["status"] == status for row in (await rows(ids)).values())


async def lost_once(run_id: UUID) -> bool:
    row = (await rows([run_id]))[run_id]
    return row["lost_workers"] == 1 and row["status"] == states.QUEUED


async def waiting(run_id: UUID) -> bool:
    return str(run_id) in run_messages(waiting_only=True)


async def no_run_messages() -> bool:
    return not run_messages()


async def test_a_queued_run_whose_message_was_lost_is_sent_again_and_runs_once(factory, override_settings):
    fast_rescue(override_settings)
    team = await factory.team()
    workspace_id = await factory.credits("acme", 10)
    scope = await resolve_scope("acme", team.member.id)
    async with atomic():
        run = await launch.start(scope, launch.Request("noop", {}, 3))
    queue = f"{broker.namespace}:runs"
    original = broker.client.hgetall(f"{queue}.msgs")
    broker.flush("runs")  # Redis lost the message (restarted without its data, say)
    assert (await reap_stale_runs.run_here())["resent"] == 0  # queued a moment ago: its message may be on its way
    await asyncio.sleep(STALE + 0.1)
    assert (await reap_stale_runs.run_here())["resent"] == 1  # the first pass after RUN_STALE_SECONDS
    assert run_messages(waiting_only=True) == [str(run["id"])]
    assert (await reap_stale_runs.run_here())["resent"] == 0  # it has a message again: not sent twice
    for message_id, data in original.items():  # the lost message turns up after all: two messages, one run
        broker.client.hset(f"{queue}.msgs", message_id, data)
        broker.client.rpush(queue, message_id)
    assert sorted(run_messages(waiting_only=True)) == [str(run["id"])] * 2
    with worker({"RUN_HEARTBEAT_SECONDS": "0.2"}):
        final = await wait_for_status(run["id"])
        await wait_until(no_run_messages, 10, "both messages are taken and acknowledged")
    assert final["status"] == states.COMPLETED and final["attempts"] == 1, final
    assert await fetch("SELECT count(*) AS n FROM execution_steps WHERE execution = {}", run["id"]) == [{"n": 1}]
    books = await assert_books_balance(workspace_id)
    assert books["spent"] == 3 and books["wallet_available"] == 7


async def test_runs_waiting_behind_a_busy_worker_are_not_sent_again(factory, override_settings):
    fast_rescue(override_settings)
    team = await factory.team()
    workspace_id = await factory.credits("acme", 100)
    scope = await resolve_scope("acme", team.member.id)
    queue = f"{broker.namespace}:runs"
    with site() as url, running(cli("worker", "--processes", "1", "--threads", "1")):
        long = await start_runs(scope, [[f"{url}/slow?ms=6000"]])
        await wait_until(lambda: all_in(long, states.RUNNING), 30, "the worker holds the long run")
        waiting = await start_runs(scope, [[f"{url}/ok?n={n}"] for n in range(3)])  # one prefetched, two in the list
        await fetch("UPDATE executions SET queued_at = queued_at - interval '1 hour' WHERE id = ANY({})", waiting)
        await wait_until(lambda: prefetched(queue), 10, "the busy worker prefetches one of the waiting runs")
        messages, in_list = sorted(broker.client.hkeys(f"{queue}.msgs")), broker.client.llen(queue)
        assert (len(messages), in_list) == (4, 2)
        for _ in range(6):  # longer than WORKER_HEARTBEAT_TIMEOUT_SECONDS: the busy worker is alive, not dead
            assert (await reap_stale_runs.run_here())["resent"] == 0
            await asyncio.sleep(0.5)
        assert sorted(broker.client.hkeys(f"{queue}.msgs")) == messages and broker.client.llen(queue) == in_list
        assert await all_in(waiting, states.QUEUED) and await all_in(long, states.RUNNING)
        finals = [await wait_for_status(run_id, timeout=30) for run_id in [*long, *waiting]]
    for row in finals:
        assert_settled(row)
        assert row["attempts"] == 1 and row["lost_workers"] == 0, row
    await assert_books_balance(workspace_id)


async def prefetched(queue: str) -> bool:
    return broker.client.llen(queue) == 2
