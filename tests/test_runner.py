"""The runner in this process with test agents: failures refund, cancel stops the agent, pause hands
the run back at a safe point, time limits end runs as timed out, and a resumed run reuses the steps that
succeeded."""

from __future__ import annotations

import asyncio

import msgspec

from agentledger.agents import launch, runner
from agentledger.agents.registry import register
from agentledger.agents.sdk import Agent
from agentledger.platform.database import atomic
from agentledger.platform.executions import service, states
from agentledger.platform.executions.tables import Execution, ExecutionStep
from agentledger.platform.scoping import resolve_scope
from tests.support.books import assert_books_balance, wait_for_status


class StepperInputs(msgspec.Struct):
    steps: int = 3
    sleep_ms: int = 0
    fail_at: int | None = None
    flaky_at: int | None = None  # this step needs two tries


@register
class Stepper(Agent[StepperInputs]):
    name, title, version = "test-stepper", "Stepper", "t1"
    description = "Test agent: one item per step."
    inputs = StepperInputs
    base_cost, per_item_cost = 1, 2

    def scope_of(self, inputs: StepperInputs) -> int:
        return inputs.steps

    async def run(self, ctx, inputs: StepperInputs) -> None:
        for n in range(1, inputs.steps + 1):
            async with ctx.step(f"step {n}", input={"n": n}) as step:
                if step.reused:
                    continue
                await asyncio.sleep(inputs.sleep_ms / 1000)
                if n == inputs.flaky_at:
                    step.note_retry()
                if n == inputs.fail_at:
                    raise RuntimeError(f"step {n} broke")
                ctx.item_done(f"item {n}")
                step.output = {"square": n * n}


@register
class Sleepy(Agent[StepperInputs]):
    name, title, version = "test-sleepy", "Sleepy", "t1"
    description = "Test agent that outlives its time limit."
    inputs = StepperInputs
    time_limit_seconds = 1

    async def run(self, ctx, inputs: StepperInputs) -> None:
        async with ctx.step("first"):
            ctx.item_done("first")
        async with ctx.step("forever"):
            await asyncio.sleep(30)


async def start(factory, agent: str = "test-stepper", credits: int = 100, **inputs):
    team = await factory.team()
    workspace_id = await factory.credits("acme", credits)
    scope = await resolve_scope("acme", team.member.id)
    async with atomic():
        run = await launch.start(scope, launch.Request(agent, inputs))
    return scope, workspace_id, run["id"]


async def steps_of(run_id):
    return await ExecutionStep.select(ExecutionStep.name, ExecutionStep.status, ExecutionStep.output).where(
        ExecutionStep.execution == run_id).order_by(ExecutionStep.position).output(load_json=True)


async def test_a_failing_agent_refunds_everything_and_keeps_the_traceback(factory):
    scope, workspace_id, run_id = await start(factory, steps=4, fail_at=3)
    assert await runner.run_execution(run_id) == states.FAILED
    row = await Execution.select().where(Execution.id == run_id).first()
    assert row["error_message"] == "RuntimeError: step 3 broke"
    assert "Traceback" in row["error_traceback"] and "step 3 broke" in row["error_traceback"]
    assert (row["credits_charged"], row["credits_refunded"]) == (0, 9)
    assert [s["status"] for s in await steps_of(run_id)] == ["succeeded", "succeeded", "failed"]
    assert (await assert_books_balance(workspace_id))["wallet_available"] == 100


async def test_cancel_stops_at_the_next_step_and_charges_what_was_done(factory):
    scope, workspace_id, run_id = await start(factory, steps=6, sleep_ms=150)
    task = asyncio.create_task(runner.run_execution(run_id))
    await asyncio.sleep(0.2)  # inside step 2
    async with atomic():
        requested = await service.cancel(scope, run_id)
    assert requested["status"] == states.RUNNING and requested["cancel_requested"]
    assert await task == states.CANCELED
    row = await Execution.select().where(Execution.id == run_id).first()
    assert row["items_processed"] == 2 and row["credits_charged"] == 1 + 2 * 2
    assert row["credits_refunded"] == row["credits_reserved"] - row["credits_charged"]
    assert [s["name"] for s in await steps_of(run_id)] == ["step 1", "step 2"]
    await assert_books_balance(workspace_id)


async def test_pause_hands_the_run_back_at_a_safe_point_and_resume_continues(factory):
    scope, workspace_id, run_id = await start(factory, steps=3, sleep_ms=150)
    task = asyncio.create_task(runner.run_execution(run_id))
    await asyncio.sleep(0.05)
    async with atomic():
        pausing = await service.pause(scope, run_id)
    assert pausing["status"] == states.RUNNING and pausing["pause_requested"]
    assert await asyncio.wait_for(task, timeout=5) == states.PAUSED  # the worker let go
    paused = await Execution.select().where(Execution.id == run_id).first()
    assert paused["status"] == states.PAUSED and paused["heartbeat_at"] is None
    assert [s["status"] for s in await steps_of(run_id)] == ["succeeded"]  # step 2 never started
    await asyncio.sleep(0.4)  # paused time counts toward neither duration nor the time limit
    async with atomic():
        resumed = await service.resume(scope, run_id)
    assert resumed["status"] == states.QUEUED
    assert await runner.run_execution(run_id) == states.COMPLETED
    row = await Execution.select().where(Execution.id == run_id).first()
    assert (row["items_processed"], row["credits_charged"], row["credits_refunded"]) == (3, 7, 0)
    assert row["paused_ms"] >= 400
    active = (row["finished_at"] - row["started_at"]).total_seconds() * 1000 - row["paused_ms"]
    assert active < 3 * 150 + 400  # three steps of 150 ms and some overhead, not the pause
    assert [(s["name"], s["status"]) for s in await steps_of(run_id)] == [
        ("step 1", "succeeded"), ("step 2", "succeeded"), ("step 3", "succeeded")]
    await assert_books_balance(workspace_id)


async def test_the_time_limit_ends_a_run_as_timed_out_charging_what_was_done(factory):
    scope, workspace_id, run_id = await start(factory, agent="test-sleepy", credits=10)
    assert await runner.run_execution(run_id) == states.TIMED_OUT
    row = await Execution.select().where(Execution.id == run_id).first()
    assert row["error_message"] == "stopped after the time limit of 1 s"
    assert (row["items_processed"], row["credits_charged"], row["credits_refunded"]) == (1, 1, 0)
    assert [s["status"] for s in await steps_of(run_id)] == ["succeeded", "skipped"]
    await assert_books_balance(workspace_id)  # reserved = charged + released


async def test_resume_from_the_failed_step_reuses_what_succeeded(factory):
    scope, workspace_id, run_id = await start(factory, steps=4, fail_at=3)
    await runner.run_execution(run_id)
    async with atomic():
        resumed = await launch.resume_from_failed_step(scope, run_id)
    assert resumed["rerun_of"] == run_id and resumed["reuse_steps"]
    # the agent no longer fails (the flaky dependency is back): clear the failure for the resumed run
    await Execution.update({Execution.inputs: {"steps": 4}}).where(Execution.id == resumed["id"])
    assert await runner.run_execution(resumed["id"]) == states.COMPLETED
    steps = await steps_of(resumed["id"])
    assert [(s["name"], s["status"]) for s in steps] == [
        ("step 1", "reused"), ("step 2", "reused"), ("step 3", "succeeded"), ("step 4", "succeeded")]
    assert steps[1]["output"] == {"square": 4}


async def test_a_second_delivery_of_the_same_run_does_nothing(factory):
    scope, workspace_id, run_id = await start(factory, steps=2)
    results = await asyncio.gather(runner.run_execution(run_id), runner.run_execution(run_id))
    assert sorted(results, key=str) == [None, states.COMPLETED]  # one ran it, the other found it taken
    assert len(await steps_of(run_id)) == 2
    books = await assert_books_balance(workspace_id)
    assert books["spent"] == 5


async def _make_stale(run_id) -> None:
    from agentledger.platform.database import fetch

    await fetch("UPDATE executions SET heartbeat_at = now() - interval '1 hour' WHERE id = {}", run_id)


async def test_the_reaper_leaves_a_live_run_alone_and_a_replaced_worker_cannot_finish(factory):
    from agentledger.platform.executions.lifecycle_repository import claim as _claim

    scope, workspace_id, run_id = await start(factory, steps=2)
    first = await _claim(run_id)
    async with atomic():
        assert not await service.requeue(run_id, 30, first["attempts"])  # heartbeat is fresh
    await _make_stale(run_id)
    async with atomic():
        assert not await service.requeue(run_id, 30, first["attempts"] + 1)  # another pass saw another attempt
        assert await service.requeue(run_id, 30, first["attempts"])
    second = await _claim(run_id)
    async with atomic():  # the first worker wakes up and tries to finish: fenced off
        assert await service.finish(run_id, states.COMPLETED, items_processed=2, current=first,
                                    attempt=first["attempts"]) is None
        assert await service.finish(run_id, states.COMPLETED, items_processed=2, current=second,
                                    attempt=second["attempts"]) is not None
    await assert_books_balance(workspace_id)


async def test_cancel_after_a_lost_worker_charges_the_items_it_processed(factory):
    from agentledger.agents.context import RunContext
    from agentledger.platform.executions.lifecycle_repository import claim as _claim

    scope, workspace_id, run_id = await start(factory, steps=5)
    row = await _claim(run_id)
    ctx = RunContext(run_id, row["workspace"], "live", 5, row["attempts"])
    for n in range(3):
        ctx.item_done(f"item {n}")
    await ctx.flush()
    await _make_stale(run_id)
    async with atomic():
        assert await service.requeue(run_id, 30, row["attempts"])
        canceled = await service.cancel(scope, run_id)
    assert canceled["status"] == states.CANCELED
    assert (canceled["items_processed"], canceled["credits_charged"]) == (3, 1 + 2 * 3)
    await assert_books_balance(workspace_id)


async def test_resume_right_after_pause_is_never_lost(factory):
    scope, workspace_id, run_id = await start(factory, steps=3, sleep_ms=100)
    task = asyncio.create_task(runner.run_execution(run_id))
    await asyncio.sleep(0.03)
    async with atomic():
        await service.pause(scope, run_id)
        resumed = await service.resume(scope, run_id)  # before the worker reached a boundary
    assert resumed["status"] == states.RUNNING and not resumed["pause_requested"]
    assert await asyncio.wait_for(task, timeout=10) == states.COMPLETED


async def test_a_resume_that_lands_while_the_worker_hands_back_requeues_the_run(factory):
    from agentledger.platform.executions.lifecycle_repository import claim as _claim

    scope, workspace_id, run_id = await start(factory, steps=2)
    claimed = await _claim(run_id)
    async with atomic():
        await service.pause(scope, run_id)
        await service.resume(scope, run_id)  # the request is gone by the time the worker lets go
        handed = await service.hand_back(run_id, claimed["attempts"])
    assert handed["status"] == states.QUEUED  # and it is sent to a worker again, not left paused
    assert await runner.run_execution(run_id) == states.COMPLETED


async def test_a_worker_whose_run_was_given_away_stops_at_the_next_step(factory, override_settings):
    override_settings(RUN_HEARTBEAT_SECONDS="0.5")
    scope, workspace_id, run_id = await start(factory, steps=20, sleep_ms=100)
    task = asyncio.create_task(runner.run_execution(run_id))
    await wait_for_status(run_id, (states.RUNNING,), timeout=5)
    await asyncio.sleep(0.6)  # just after a beat: the next one is half a second away
    claimed = await Execution.select(Execution.attempts).where(Execution.id == run_id).first()
    await _make_stale(run_id)
    async with atomic():  # the reaper believed the worker dead
        assert await service.requeue(run_id, 30, claimed["attempts"])
    assert await asyncio.wait_for(task, timeout=5) is None  # it noticed at a boundary and let go
    row = await Execution.select().where(Execution.id == run_id).first()
    assert row["status"] == states.QUEUED and row["credits_charged"] == 0
    assert len(await steps_of(run_id)) < 20


async def test_a_run_canceled_before_it_started_costs_nothing(factory):
    scope, workspace_id, run_id = await start(factory, steps=3)  # base 1 + 2 per item
    async with atomic():
        canceled = await service.cancel(scope, run_id)
    assert (canceled["status"], canceled["credits_charged"], canceled["credits_refunded"]) == ("canceled", 0, 7)
    assert (await assert_books_balance(workspace_id))["wallet_available"] == 100


async def test_a_step_records_its_retries_and_timing(factory):
    scope, workspace_id, run_id = await start(factory, steps=3, flaky_at=2)
    assert await runner.run_execution(run_id) == states.COMPLETED
    rows = await ExecutionStep.select(ExecutionStep.retries, ExecutionStep.duration_ms, ExecutionStep.input).where(
        ExecutionStep.execution == run_id).order_by(ExecutionStep.position).output(load_json=True)
    assert [r["retries"] for r in rows] == [0, 1, 0]
    assert all(r["duration_ms"] is not None for r in rows) and rows[1]["input"] == {"n": 2}
