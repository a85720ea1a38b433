"""Live updates over SSE from a real server: a run's status, steps, progress and log lines arrive as they
happen and in order; a client that reconnects with Last-Event-ID gets what it missed and nothing
twice; the workspace stream shows members only their runs; strangers get 404."""

from __future__ import annotations

import asyncio

from agentledger.agents import launch, runner
from agentledger.platform.database import atomic
from agentledger.platform.scoping import resolve_scope
from tests.support.sse import sse


async def queued(person, scope=3):
    async with atomic():
        return (await launch.start(await resolve_scope("acme", person.id), launch.Request("noop", {}, scope)))["id"]


async def test_a_runs_events_arrive_in_order_and_resume_after_a_reconnect(live_url, factory):
    team = await factory.team()
    await factory.credits("acme", 100)
    run_id = await queued(team.member)
    url = f"{live_url}/api/v1/workspaces/acme/executions/{run_id}/events?after=0-0"
    async with sse(url, team.member.bearer) as stream:
        first = await stream.next()
        assert first["event"] == "status" and first["data"]["status"] == "queued"
        worker = asyncio.create_task(runner.run_execution(run_id))
        seen = [first, *await stream.until(lambda e: e["data"].get("status") == "completed")]
        await worker
    kinds = [(e["event"], e["data"].get("status")) for e in seen]
    assert kinds[:2] == [("status", "queued"), ("status", "running")]
    assert ("step", "running") in kinds and ("step", "succeeded") in kinds
    assert seen[-1]["data"]["credits_charged"] == 3 and seen[-1]["data"]["items_processed"] == 3
    ids = [e["id"] for e in seen]
    assert ids == sorted(ids, key=lambda i: tuple(map(int, i.split("-"))))
    async with sse(url.split("?")[0], {**team.member.bearer, "Last-Event-ID": ids[1]}) as again:
        replayed = [await again.next() for _ in range(len(ids) - 2)]
    assert [e["id"] for e in replayed] == ids[2:]


async def test_the_workspace_stream_shows_members_only_their_runs(live_url, factory):
    team = await factory.team()
    await factory.credits("acme", 100)
    url = f"{live_url}/api/v1/workspaces/acme/executions/events"
    async with sse(url, team.member.bearer) as member, sse(url, team.admin.bearer) as admin:
        await asyncio.sleep(0.3)  # both streams are reading from "now"
        admins_run = await queued(team.admin)
        members_run = await queued(team.member)
        admin_events = [await admin.next(), await admin.next()]
        member_event = await member.next()
    assert [e["data"]["run"] for e in admin_events] == [str(admins_run), str(members_run)]
    assert member_event["data"]["run"] == str(members_run) and member_event["data"]["status"] == "queued"


async def test_strangers_get_404_and_bad_ids_422(live_url, factory):
    import httpx

    team = await factory.team()
    await factory.credits("acme", 10)
    run_id = await queued(team.member)
    async with httpx.AsyncClient() as client:
        other = await client.get(f"{live_url}/api/v1/workspaces/acme/executions/{run_id}/events",
                                 headers=team.outsider.bearer)
        admins_view = await client.get(f"{live_url}/api/v1/workspaces/acme/executions/{run_id}/events?after=x",
                                       headers=team.admin.bearer)
    assert other.status_code == 404
    assert admins_view.status_code == 422 and admins_view.json()["field"] == "after"


async def test_a_run_that_finishes_brings_its_result_preview_to_the_list(live_url, factory):
    from tests.support import agents  # noqa: F401 - registers test-results

    team = await factory.team()
    await factory.credits("acme", 100)
    async with atomic():
        run_id = (await launch.start(await resolve_scope("acme", team.member.id),
                                     launch.Request("test-results", {})))["id"]
    url = f"{live_url}/api/v1/workspaces/acme/executions/events?after=0-0"
    async with sse(url, team.member.bearer) as stream:
        await runner.run_execution(run_id)
        seen = await stream.until(lambda e: e["data"].get("status") == "completed")
    assert seen[-1]["data"]["preview"] == "score 72 · 2 recommendations · 1 text · 1 action item · 1 report · 1 file"
    assert all("preview" not in e["data"] for e in seen[:-1])  # only a finished run is looked up
