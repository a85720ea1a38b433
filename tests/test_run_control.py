"""Run controls keep their word (in this process, with test agents whose one step holds many slow items):
cancel stops the agent within a second and charges only what was processed, pause hands the run back and
a resume continues where it stopped, and a finished run goes on only where something is left to do."""

from __future__ import annotations

import asyncio
import time

import msgspec

from agentledger.agents import launch, runner
from agentledger.agents.registry import register
from agentledger.agents.sdk import Agent
from agentledger.platform.database import atomic, fetch
from agentledger.platform.executions import lifecycle_repository as lifecycle
from agentledger.platform.executions import service, states
from agentledger.platform.executions.tables import Execution, ExecutionStep
from agentledger.platform.scoping import resolve_scope
from tests.support.books import assert_books_balance
from tests.test_runner import start as start_run

SEEN: list[tuple[int, str]] = []  # (attempt, item) for every item the agent worked on
FLAKY: set[str] = set()  # items that fail the first time they are tried


class ItemsInputs(msgspec.Struct):
    n: int = 6
    item_ms: int = 100
    parallel: int = 1
    fail: list[int] = []  # these items always fail
    flaky: list[int] = []  # these fail once, then work
    time_limit_check: bool = False


@register
class SlowItems(Agent[ItemsInputs]):
    name, title, version = "test-slow-items", "Slow items", "t1"
    description = "Test agent: a plan step, then one step that works through n slow items, some at a time."
    inputs = ItemsInputs
    base_cost, per_item_cost = 2, 3

    def scope_of(self, inputs: ItemsInputs) -> int:
        return inputs.n

    async def run(self, ctx, inputs: ItemsInputs) -> None:
        async with ctx.step("plan") as step:
            step.output = {"items": inputs.n}
        async with ctx.step("items") as step:
            todo = [str(k) for k in range(1, inputs.n + 1) if not ctx.already_processed(str(k))]
            gate = asyncio.Semaphore(inputs.parallel)

            async def one(key: str) -> None:
                async with gate:
                    SEEN.append((ctx.attempt, key))
                    await asyncio.sleep(inputs.item_ms / 1000)
                    if int(key) in inputs.fail or (int(key) in inputs.flaky and key not in FLAKY):
                        FLAKY.add(key)
                        ctx.item_failed(key, "it broke")
                    else:
                        ctx.item_done(key)

            async with asyncio.TaskGroup() as group:
                for key in todo:
                    group.create_task(one(key))
            step.output = {"done": len(todo)}


@register
class ShortLimit(SlowItems):
    name = "test-short-limit"
    time_limit_seconds = 1


async def start(factory, agent: str = "test-slow-items", credits: int = 100, **inputs):
    SEEN.clear()
    FLAKY.clear()
    return await start_run(factory, agent, credits, **inputs)


async def row_of(run_id):
    return await Execution.select().where(Execution.id == run_id).first()


async def steps_of(run_id):
    return await ExecutionStep.select(ExecutionStep.name, ExecutionStep.status, ExecutionStep.attempt,
                                      ExecutionStep.error).where(ExecutionStep.execution == run_id).order_by(
        ExecutionStep.attempt, ExecutionStep.position)


async def processed_keys(run_id) -> dict[str, str]:
    rows = await fetch("SELECT key, status FROM execution_items WHERE execution = {}", run_id)
    return {r["key"]: r["status"] for r in rows}


async def test_cancel_mid_step_stops_slow_items_within_a_second_and_charges_only_what_was_processed(factory):
    scope, workspace_id, run_id = await start(factory, n=40, item_ms=400, parallel=8, credits=200)
    task = asyncio.create_task(runner.run_execution(run_id))
    await asyncio.sleep(0.6)  # the first 8 items are done, the next 8 are on their way
    async with atomic():
        requested = await service.cancel(scope, run_id)
    asked = time.monotonic()
    assert requested["status"] == states.RUNNING and states.status_note(requested) == "canceling…"
    assert "cancel" not in states.actions(requested) and "pause" not in states.actions(requested)
    assert await asyncio.wait_for(task, timeout=5) == states.CANCELED
    assert time.monotonic() - asked <= 1.0
    row = await row_of(run_id)
    keys = await processed_keys(run_id)
    assert 0 < row["items_processed"] == len(keys) < 40  # what was done before the cancel, and no more
    assert row["credits_charged"] == 2 + 3 * row["items_processed"]
    assert row["credits_charged"] + row["credits_refunded"] == row["credits_reserved"] == 2 + 3 * 40
    assert [(s["name"], s["status"]) for s in await steps_of(run_id)] == [("plan", "succeeded"),
                                                                        ("items", "skipped")]
    await assert_books_balance(workspace_id)


async def test_cancel_interrupts_what_the_agent_awaits_and_charges_nothing_when_nothing_was_processed(factory):
    scope, workspace_id, run_id = await start(factory, n=3, item_ms=30_000)
    task = asyncio.create_task(runner.run_execution(run_id))
    await asyncio.sleep(0.3)
    async with atomic():
        await service.cancel(scope, run_id)
    asked = time.monotonic()
    assert await asyncio.wait_for(task, timeout=5) == states.CANCELED
    assert time.monotonic() - asked <= 1.0
    row = await row_of(run_id)
    assert (row["items_processed"], row["credits_charged"], row["credits_refunded"]) == (0, 0, 11)
    assert (await assert_books_balance(workspace_id))["wallet_available"] == 100


async def test_a_run_that_finished_before_the_cancel_took_effect_is_completed_and_says_so(client, factory):
    team = await factory.team()
    await factory.credits("acme", 100)
    scope = await resolve_scope("acme", team.member.id)
    async with atomic():
        run = await launch.start(scope, launch.Request("test-slow-items", {"n": 2}))
    claimed = await lifecycle.claim(run["id"])
    async with atomic():
        await service.cancel(scope, run["id"])  # the worker's last item is already done
        await service.finish(run["id"], states.COMPLETED, items_processed=2, items_failed=0, current=claimed,
                             attempt=claimed["attempts"])
    body = (await client.get(f"/api/v1/workspaces/acme/executions/{run['id']}", headers=team.member.bearer)).json()
    assert (body["status"], body["credits_charged"]) == ("completed", 2 + 3 * 2)
    assert body["status_note"] == "finished before the cancel took effect"
    assert "cancel" not in body["actions"]


async def test_pause_mid_step_frees_the_worker_and_resume_does_only_the_items_left(factory):
    scope, workspace_id, run_id = await start(factory, n=8, item_ms=150)
    task = asyncio.create_task(runner.run_execution(run_id))
    await asyncio.sleep(0.4)  # inside the items step, two items done
    async with atomic():
        await service.pause(scope, run_id)
    assert await asyncio.wait_for(task, timeout=2) == states.PAUSED  # at the next item: the worker is free
    paused = await row_of(run_id)
    assert paused["status"] == states.PAUSED
    before = await processed_keys(run_id)
    assert 2 <= len(before) < 8
    assert [s["status"] for s in await steps_of(run_id)] == ["succeeded", "paused"]
    async with atomic():
        assert (await service.resume(scope, run_id))["status"] == states.QUEUED
    assert await runner.run_execution(run_id) == states.COMPLETED
    row = await row_of(run_id)
    assert (row["items_processed"], row["credits_charged"], row["credits_refunded"]) == (8, 2 + 3 * 8, 0)
    second = [key for attempt, key in SEEN if attempt == 2]
    assert not set(second) & set(before) and len(set(second)) + len(before) == 8  # nothing done twice
    assert [(s["name"], s["status"], s["attempt"]) for s in await steps_of(run_id)] == [
        ("plan", "succeeded", 1), ("items", "paused", 1), ("items", "succeeded", 2)]
    await assert_books_balance(workspace_id)


async def test_paused_time_counts_toward_neither_the_time_limit_nor_the_duration(factory):
    scope, workspace_id, run_id = await start(factory, agent="test-short-limit", n=5, item_ms=150)
    task = asyncio.create_task(runner.run_execution(run_id))
    await asyncio.sleep(0.3)
    async with atomic():
        await service.pause(scope, run_id)
    assert await task == states.PAUSED
    await asyncio.sleep(1.2)  # longer than the whole time limit
    async with atomic():
        await service.resume(scope, run_id)
    assert await runner.run_execution(run_id) == states.COMPLETED
    row = await row_of(run_id)
    wall = (row["finished_at"] - row["started_at"]).total_seconds()
    assert wall > 1.2 and row["paused_ms"] >= 1200
    from agentledger.platform.executions.present import present

    assert present(row).duration_ms < 1000  # what the page shows: the time it ran
    assert row["credits_charged"] + row["credits_refunded"] == row["credits_reserved"]
    await assert_books_balance(workspace_id)


async def test_a_pause_that_meets_a_cancel_ends_canceled(factory):
    scope, workspace_id, run_id = await start(factory, n=4, item_ms=30_000)
    task = asyncio.create_task(runner.run_execution(run_id))
    await asyncio.sleep(0.2)
    async with atomic():
        await service.pause(scope, run_id)  # the agent is blocked: it stays "pausing…"
    assert states.status_note(await row_of(run_id)) == "pausing…"
    async with atomic():
        await service.cancel(scope, run_id)
    assert await asyncio.wait_for(task, timeout=2) == states.CANCELED
    await assert_books_balance(workspace_id)


async def test_cancel_a_paused_run_stops_it_now_charging_what_it_processed(factory):
    scope, workspace_id, run_id = await start(factory, n=6, item_ms=150)
    task = asyncio.create_task(runner.run_execution(run_id))
    await asyncio.sleep(0.4)
    async with atomic():
        await service.pause(scope, run_id)
    assert await task == states.PAUSED
    done = len(await processed_keys(run_id))
    async with atomic():
        canceled = await service.cancel(scope, run_id)
    assert canceled["status"] == states.CANCELED
    assert (canceled["items_processed"], canceled["credits_charged"]) == (done, 2 + 3 * done)
    assert canceled["credits_refunded"] == 2 + 3 * 6 - canceled["credits_charged"]
    await assert_books_balance(workspace_id)


async def test_the_reaper_leaves_a_paused_run_alone(factory):
    from agentledger.agents.tasks import reap_stale_runs

    scope, workspace_id, run_id = await start(factory, n=4, item_ms=300)
    task = asyncio.create_task(runner.run_execution(run_id))
    await asyncio.sleep(0.15)
    async with atomic():
        await service.pause(scope, run_id)
    assert await task == states.PAUSED
    await fetch("UPDATE executions SET paused_at = now() - interval '1 day' WHERE id = {}", run_id)
    await reap_stale_runs.run_here()
    assert (await row_of(run_id))["status"] == states.PAUSED


async def test_every_item_failed_marks_its_step_and_resume_runs_that_step_again(factory):
    scope, workspace_id, run_id = await start(factory, n=2, item_ms=0, fail=[1, 2])
    assert await runner.run_execution(run_id) == states.FAILED
    row = await row_of(run_id)
    assert row["failed_step"] == 2 and row["credits_charged"] == 0
    assert [(s["name"], s["status"]) for s in await steps_of(run_id)] == [("plan", "succeeded"), ("items", "failed")]
    async with atomic():
        plan = await launch.continuation(scope, run_id)
    assert (plan.kind, plan.label, plan.scope, plan.estimate) == (
        "resume_from_failed_step", "Resume from failed step", 2, 2 + 3 * 2)
    async with atomic():
        resumed = await launch.resume_from_failed_step(scope, run_id)
    assert resumed["reuse_steps"] and not resumed["skip_processed"] and resumed["credits_reserved"] == 8
    assert await runner.run_execution(resumed["id"]) == states.FAILED  # the same items fail again: all refunded
    assert [(s["name"], s["status"]) for s in await steps_of(resumed["id"])] == [
        ("plan", "reused"), ("items", "failed")]
    assert [key for attempt, key in SEEN] == ["1", "2", "1", "2"]  # the failed step ran again in full
    await assert_books_balance(workspace_id)


async def test_retry_failed_items_runs_only_those_and_holds_only_for_them(factory):
    scope, workspace_id, run_id = await start(factory, n=5, item_ms=0, flaky=[2, 4])
    assert await runner.run_execution(run_id) == states.PARTIAL
    original = await row_of(run_id)
    assert original["failed_step"] is None and "retry_failed_items" in states.actions(original)
    async with atomic():
        plan = await launch.continuation(scope, run_id)
    assert (plan.kind, plan.scope, plan.estimate) == ("retry_failed_items", 2, 2 + 3 * 2)
    SEEN.clear()
    async with atomic():
        retry = await launch.retry_failed_items(scope, run_id)
    assert (retry["scope"], retry["credits_reserved"], retry["rerun_of"]) == (2, 8, run_id)
    assert await runner.run_execution(retry["id"]) == states.COMPLETED
    assert sorted(key for _, key in SEEN) == ["2", "4"]
    row = await row_of(retry["id"])
    assert (row["items_processed"], row["credits_charged"], row["credits_refunded"]) == (2, 8, 0)
    await assert_books_balance(workspace_id)


async def test_a_resume_with_nothing_to_do_is_refused(client, factory):
    team = await factory.team()
    await factory.credits("acme", 100)
    scope = await resolve_scope("acme", team.member.id)
    async with atomic():
        run = await launch.start(scope, launch.Request("test-slow-items", {"n": 2, "item_ms": 0}))
    assert await runner.run_execution(run["id"]) == states.COMPLETED
    base = f"/api/v1/workspaces/acme/executions/{run['id']}"
    for method, path in (("POST", "/resume-from-failed-step"), ("POST", "/retry-failed-items"),
                         ("GET", "/continuation")):
        response = await client.request(method, base + path, headers=team.member.bearer)
        assert response.status_code == 409, path
        assert response.json()["message"].startswith("nothing to resume")
    body = (await client.get(base, headers=team.member.bearer)).json()
    assert body["actions"] == ["rerun", "delete"]
    wallet = (await client.get("/api/v1/workspaces/acme/wallet", headers=team.admin.bearer)).json()
    assert wallet == {"available": 100 - 8, "held": 0, "owed": 0}  # nothing was reserved by the refused resumes


async def test_the_actions_follow_the_state(factory):
    scope, workspace_id, run_id = await start(factory, n=3, item_ms=30_000)
    assert states.actions(await row_of(run_id)) == ("cancel", "rerun")  # queued
    task = asyncio.create_task(runner.run_execution(run_id))
    await asyncio.sleep(0.2)
    assert states.actions(await row_of(run_id)) == ("cancel", "pause", "rerun")
    async with atomic():
        await service.pause(scope, run_id)
    assert states.actions(await row_of(run_id)) == ("cancel", "resume", "rerun")  # pausing: resume undoes it
    async with atomic():
        await service.resume(scope, run_id)
        await service.cancel(scope, run_id)
    assert await asyncio.wait_for(task, timeout=2) == states.CANCELED
    canceled = await row_of(run_id)
    assert states.actions(canceled) == ("rerun", "delete", "resume_where_stopped")


async def test_a_running_runs_duration_is_measured_to_now_not_to_its_last_heartbeat(factory):
    from agentledger.platform.executions.present import present

    scope, workspace_id, run_id = await start(factory, n=2)
    await lifecycle.claim(run_id)
    await fetch("UPDATE executions SET started_at = now() - interval '20 seconds', "
                "heartbeat_at = now() - interval '15 seconds', paused_ms = 4000 WHERE id = {}", run_id)
    shown = present(await row_of(run_id)).duration_ms
    assert 15_500 <= shown <= 17_000  # 20 s since it started, less 4 s paused; not the 1 s of the last beat


async def _worker_dies(run_id, items: int) -> None:
    """A worker claimed the run, processed ``items`` and went silent (killed mid-step)."""
    from agentledger.agents.context import RunContext

    row = await lifecycle.claim(run_id)
    ctx = RunContext(run_id, row["workspace"], "live", row["scope"], row["attempts"])
    for n in range(items):
        ctx.item_done(str(n + 1))
    await ctx.flush()
    await fetch("UPDATE executions SET heartbeat_at = now() - interval '1 hour' WHERE id = {}", run_id)


async def test_a_cancel_whose_worker_died_is_carried_out_by_the_reaper_without_a_worker(factory):
    from agentledger.agents.tasks import reap_stale_runs

    scope, workspace_id, run_id = await start(factory, n=6)
    await _worker_dies(run_id, items=2)
    async with atomic():
        await service.cancel(scope, run_id)  # asked while the worker was already gone
    assert (await reap_stale_runs.run_here())["canceled"] == 1
    row = await row_of(run_id)
    assert (row["status"], row["items_processed"], row["credits_charged"]) == (states.CANCELED, 2, 2 + 3 * 2)
    await assert_books_balance(workspace_id)


async def test_a_pause_whose_worker_died_is_paused_and_resumes_where_it_was(factory):
    from agentledger.agents.tasks import reap_stale_runs

    scope, workspace_id, run_id = await start(factory, n=4, item_ms=0)
    await _worker_dies(run_id, items=2)
    async with atomic():
        await service.pause(scope, run_id)
    assert (await reap_stale_runs.run_here())["requeued"] == 1
    assert (await row_of(run_id))["status"] == states.PAUSED  # no worker needed to wait
    async with atomic():
        await service.resume(scope, run_id)
    SEEN.clear()
    assert await runner.run_execution(run_id) == states.COMPLETED
    assert sorted(key for _, key in SEEN) == ["3", "4"]  # the two it had done are not done again
    row = await row_of(run_id)
    assert (row["items_processed"], row["credits_charged"]) == (4, 2 + 3 * 4)
    await assert_books_balance(workspace_id)


async def test_the_confirm_page_starts_each_way_of_going_on_and_asks_again_when_the_cost_moved(client, factory):
    from tests.support.factories import csrf_from
    from tests.support.fixtures import sign_in

    team = await factory.team()
    await factory.credits("acme", 100)
    scope = await resolve_scope("acme", team.member.id)
    async with atomic():
        run = await launch.start(scope, launch.Request("test-slow-items", {"n": 4, "item_ms": 300}))
    task = asyncio.create_task(runner.run_execution(run["id"]))
    await asyncio.sleep(0.7)
    async with atomic():
        await service.cancel(scope, run["id"])
    assert await task == states.CANCELED
    assert (await sign_in(client, team.member.email, team.member.password)).status_code == 303
    form = await client.get(f"/w/acme/executions/{run['id']}/continue")
    assert form.status_code == 200 and "Resume where it stopped" in form.text
    done = (await row_of(run["id"]))["items_processed"]
    expected = 2 + 3 * (4 - done)
    assert f"holds up to <strong>{expected} credits</strong>" in form.text
    token = csrf_from(form.text)
    moved = await client.post(f"/w/acme/executions/{run['id']}/continue", data={
        "_csrf_token": token, "kind": "resume_where_stopped", "confirmed_estimate": str(expected + 1)})
    assert moved.status_code == 303 and moved.headers["location"].endswith("/continue")  # asked again
    started = await client.post(f"/w/acme/executions/{run['id']}/continue", data={
        "_csrf_token": token, "kind": "resume_where_stopped", "confirmed_estimate": str(expected)})
    assert started.status_code == 303 and not started.headers["location"].endswith("/continue")
    new = await Execution.select().where(Execution.rerun_of == run["id"]).first()
    assert (new["scope"], new["credits_reserved"], new["skip_processed"]) == (4 - done, expected, True)
