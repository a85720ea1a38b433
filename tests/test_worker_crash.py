"""Workers die: `kill -9` mid-run, again and again. The reaper re-queues or fails and refunds every run;
nothing is charged twice and nothing stays running. Duplicate messages run an agent body once."""

from __future__ import annotations

import asyncio

from agentledger.agents import launch
from agentledger.agents.tasks import reap_stale_runs, run_execution
from agentledger.platform.database import atomic
from agentledger.platform.executions import states
from agentledger.platform.executions.tables import Execution, ExecutionStep
from agentledger.platform.scoping import resolve_scope
from tests.support.books import assert_books_balance, wait_for_status
from tests.support.processes import kill_9, start_worker, worker
from tests.support.site import site

WORKER_ENV = {"RUN_HEARTBEAT_SECONDS": "0.2"}


async def statuses(ids) -> dict:
    rows = await Execution.select(Execution.id, Execution.status).where(Execution.id.is_in(ids))
    return {r["id"]: r["status"] for r in rows}


async def test_kill_9_mid_run_again_and_again(factory, override_settings):
    override_settings(RUN_STALE_SECONDS="1", RUN_MAX_ATTEMPTS="3")
    team = await factory.team()
    workspace_id = await factory.credits("acme", 1000)
    scope = await resolve_scope("acme", team.member.id)
    with site() as url:
        ids = []
        async with atomic():
            for n in range(12):
                run = await launch.start(scope, launch.Request(
                    "url-check", {"urls": [f"{url}/slow?ms=600&n={n}&k={k}" for k in range(3)]}))
                ids.append(run["id"])
        kills = 0
        while kills < 10:
            process = start_worker(threads=1, env=WORKER_ENV)
            try:
                for _ in range(200):  # until the worker holds a run
                    if states.RUNNING in (await statuses(ids)).values():
                        break
                    await asyncio.sleep(0.05)
                else:
                    break  # nothing left to interrupt
                await asyncio.sleep(0.3)
            finally:
                kill_9(process)
            kills += 1
            await asyncio.sleep(1.2)  # the heartbeat goes stale
            await reap_stale_runs.run_here()
        assert kills >= 10, f"only {kills} kills happened"
        with worker(WORKER_ENV):
            for _ in range(100):
                await reap_stale_runs.run_here()
                if all(s in states.FINAL for s in (await statuses(ids)).values()):
                    break
                await asyncio.sleep(0.3)
    finals = [await wait_for_status(run_id, timeout=5) for run_id in ids]
    for row in finals:
        if row["status"] == states.FAILED:
            assert row["attempts"] >= 3 and row["credits_charged"] == 0 and row["credits_refunded"] == 4
        else:
            assert row["status"] == states.COMPLETED and row["credits_charged"] == 4, row
    books = await assert_books_balance(workspace_id)
    assert books.get("spent", 0) == sum(r["credits_charged"] for r in finals)
    assert books["wallet_held"] == 0


async def test_the_same_message_delivered_twice_runs_the_agent_once(factory):
    team = await factory.team()
    workspace_id = await factory.credits("acme", 10)
    scope = await resolve_scope("acme", team.member.id)
    async with atomic():
        run = await launch.start(scope, launch.Request("noop", {}, 3))
    run_execution.send(str(run["id"]))  # a duplicate on top of the one start() queued
    run_execution.send(str(run["id"]))
    with worker(WORKER_ENV):
        final = await wait_for_status(run["id"])
        await asyncio.sleep(0.5)  # let the duplicates arrive and find nothing to do
    assert final["status"] == states.COMPLETED and final["attempts"] == 1
    assert await ExecutionStep.count().where(ExecutionStep.execution == run["id"]) == 1
    books = await assert_books_balance(workspace_id)
    assert books["spent"] == 3 and books["wallet_available"] == 7
