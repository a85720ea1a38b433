"""Schedules: checked like a start, fired when due with 'triggered by: schedule', recorded as failed
(never skipped) when a run cannot start, stopped when their creator leaves; end to end through the
real scheduler and worker processes."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

from agentledger.agents import scheduling
from agentledger.platform.clock import now
from agentledger.platform.database import atomic
from agentledger.platform.executions.tables import Execution
from agentledger.platform.schedules.tables import Schedule
from agentledger.platform.scoping import resolve_scope
from agentledger.platform.workspaces import remove_member
from tests.support.books import assert_books_balance
from tests.support.processes import cli, running, worker

API = "/api/v1/workspaces/acme/schedules"
NOOP = {"name": "Nightly noop", "agent": "noop", "inputs": {}, "scope": 3, "cron": "0 3 * * *"}


async def make_due(schedule_id) -> None:
    await Schedule.update({Schedule.next_run_at: now() - timedelta(seconds=1)}).where(Schedule.id == schedule_id)


async def test_a_schedule_is_checked_like_a_start(client, factory):
    team = await factory.team()
    bad_cron = await client.post(API, json={**NOOP, "cron": "every day"}, headers=team.member.bearer)
    assert bad_cron.status_code == 422 and bad_cron.json()["field"] == "cron"
    seconds = await client.post(API, json={**NOOP, "cron": "*/5 * * * * *"}, headers=team.member.bearer)
    assert seconds.status_code == 422 and "5 fields" in seconds.json()["message"]
    bad_input = await client.post(API, json={**NOOP, "agent": "seo-audit", "inputs": {"start_url": "nope"}},
                                  headers=team.member.bearer)
    assert bad_input.status_code == 422 and bad_input.json()["field"].startswith("inputs")
    unknown = await client.post(API, json={**NOOP, "agent": "poet"}, headers=team.member.bearer)
    assert unknown.status_code == 422 and unknown.json()["field"] == "agent"
    created = await client.post(API, json=NOOP, headers=team.member.bearer)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["cron"] == "0 3 * * *" and body["enabled"] and body["next_run_at"].endswith("03:00:00Z")
    disabled = await client.patch(f"{API}/{body['id']}", json={"enabled": False}, headers=team.member.bearer)
    assert disabled.json()["enabled"] is False and disabled.json()["next_run_at"] is None
    assert (await client.get(f"{API}/{body['id']}", headers=team.outsider.bearer)).status_code == 404
    admin_list = (await client.get(API, headers=team.admin.bearer)).json()
    assert [s["id"] for s in admin_list] == [body["id"]]


async def test_a_due_schedule_starts_a_run_triggered_by_schedule(factory):
    team = await factory.team()
    await factory.credits("acme", 10)
    async with atomic():
        schedule = await scheduling.create(await resolve_scope("acme", team.member.id), **{
            k: NOOP[k] for k in ("name", "agent", "inputs", "scope", "cron")}, mode="live")
    await make_due(schedule["id"])
    assert await scheduling.fire_due() == {"fired": 1}
    assert await scheduling.fire_due() == {"fired": 0}  # moved to its next time: not fired twice
    run = await Execution.select().where(Execution.schedule == schedule["id"]).first()
    assert (run["triggered_by"], run["status"], run["started_by"]) == ("schedule", "queued", team.member.id)
    assert run["credits_reserved"] == 3
    after = await Schedule.select().where(Schedule.id == schedule["id"]).first()
    assert after["last_execution"] == run["id"] and after["next_run_at"] > now()


async def test_a_run_that_cannot_reserve_credits_is_recorded_failed(factory):
    team = await factory.team()
    workspace_id = await factory.credits("acme", 2)  # the run needs 3
    async with atomic():
        schedule = await scheduling.create(await resolve_scope("acme", team.member.id), **{
            k: NOOP[k] for k in ("name", "agent", "inputs", "scope", "cron")}, mode="live")
    await make_due(schedule["id"])
    await scheduling.fire_due()
    run = await Execution.select().where(Execution.schedule == schedule["id"]).first()
    assert run["status"] == "failed" and run["triggered_by"] == "schedule" and run["credits_reserved"] == 0
    assert "insufficient credits: need 3, have 2" in run["error_message"]
    assert (await assert_books_balance(workspace_id))["wallet_available"] == 2


async def test_a_schedule_whose_creator_left_stops(factory):
    team = await factory.team()
    await factory.credits("acme", 10)
    async with atomic():
        schedule = await scheduling.create(await resolve_scope("acme", team.member.id), **{
            k: NOOP[k] for k in ("name", "agent", "inputs", "scope", "cron")}, mode="live")
    async with atomic():
        admin = await resolve_scope("acme", team.admin.id)
        await remove_member(admin, team.member.id)
    await make_due(schedule["id"])
    await scheduling.fire_due()
    assert await Execution.count().where(Execution.schedule == schedule["id"]) == 0
    assert (await Schedule.select().where(Schedule.id == schedule["id"]).first())["enabled"] is False


async def test_the_scheduler_and_a_worker_run_a_due_schedule_end_to_end(client, factory):
    team = await factory.team()
    await factory.credits("acme", 10)
    created = (await client.post(API, json={**NOOP, "cron": "* * * * *"}, headers=team.member.bearer)).json()
    await make_due(created["id"])
    with worker(), running(cli("scheduler"), {"SCHEDULE_POLL_SECONDS": "0.5"}):
        deadline = time.monotonic() + 30
        run = None
        while time.monotonic() < deadline:
            run = await Execution.select().where(Execution.schedule == created["id"]).first()
            if run and run["status"] == "completed":
                break
            await asyncio.sleep(0.2)
    assert run and run["status"] == "completed" and run["triggered_by"] == "schedule"
    read = await client.get(f"/api/v1/workspaces/acme/executions/{run['id']}", headers=team.member.bearer)
    assert read.json()["triggered_by"] == "schedule" and read.json()["credits_charged"] == 3


async def test_a_cron_that_never_comes_round_is_refused_and_a_broken_schedule_can_be_stopped(client, factory):
    team = await factory.team()
    never = await client.post(API, json={**NOOP, "cron": "0 0 30 2 *"}, headers=team.member.bearer)
    assert never.status_code == 422 and never.json()["field"] == "cron" and "never" in never.json()["message"]
    created = (await client.post(API, json=NOOP, headers=team.member.bearer)).json()
    await Schedule.update({Schedule.agent: "retired-agent"}).where(Schedule.id == created["id"])
    off = await client.patch(f"{API}/{created['id']}", json={"enabled": False}, headers=team.member.bearer)
    assert off.status_code == 200 and off.json()["enabled"] is False
    back_on = await client.patch(f"{API}/{created['id']}", json={"enabled": True}, headers=team.member.bearer)
    assert back_on.status_code == 422 and back_on.json()["field"] == "agent"
