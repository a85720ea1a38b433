"""One visibility rule for every read of a run: a member of the same workspace who neither started a run
nor was shared it gets 404 from its single read, its code, a step's value, its steps/log/items, its
export, its live stream, and finds it neither in the list nor in the list's live events; whoever
started it, the teammate it was shared with and an admin get each of them."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from agentledger.agents import launch, runner
from agentledger.platform.database import atomic
from agentledger.platform.errors import NotFound
from agentledger.platform.executions import listing, repository
from agentledger.platform.exports import reading
from agentledger.platform.pagination import PageRequest
from agentledger.platform.scoping import resolve_scope
from tests.support.sse import sse

API = "/api/v1/workspaces/acme/executions"


async def world(factory):
    """Acme: Ada (admin), Max (member, starts the run), Sam (it is shared with him), Olive (neither)."""
    team = await factory.team()
    people = {"owner": team.member, "admin": team.admin}
    for key, email, name in (("sharee", "sam@acme.example", "Sam Second"), ("other", "olive@acme.example", "Olive Other")):
        person = await factory.user(email, name)
        await factory.member("acme", person)
        await factory.token("acme", person)
        people[key] = person
    await factory.credits("acme", 1000)
    return people


async def start(person, *, run: bool = True):
    async with atomic():
        row = await launch.start(await resolve_scope("acme", person.id), launch.Request("noop", {}, 2))
    if run:
        await runner.run_execution(row["id"])
    return row["id"]


async def share(client, people, run_id) -> None:
    shared = await client.put(f"{API}/{run_id}/shares/{people['sharee'].id}", headers=people["owner"].bearer)
    assert shared.status_code == 200, shared.text


async def scopes(people):
    return {key: await resolve_scope("acme", person.id) for key, person in people.items()}


async def test_each_read_of_a_run_is_404_for_a_member_it_is_not_for(client, factory):
    people = await world(factory)
    run_id = await start(people["owner"])
    await share(client, people, run_id)
    by = await scopes(people)

    for who in ("owner", "sharee", "admin"):
        scope = by[who]
        assert (await repository.get_in_full(scope, run_id))["id"] == run_id
        assert (await repository.code(scope, run_id))["agent"] == "noop"
        kids = await repository.children(scope, run_id)
        assert kids["steps"] and kids["items"], who
        step = kids["steps"][0]
        await repository.step_value(scope, run_id, step["attempt"], step["position"], "input")  # no 404
        exported = await reading.read(scope, run_id, str.upper)
        assert exported.record.id == run_id and exported.agent_title == "NOOP" and exported.record.steps
        assert run_id in [row["id"] for row in (await listing.page(scope, listing.Filters(), PageRequest(None, 20)))[0]]
        assert await repository.visible_ids(scope, [str(run_id)]) == {str(run_id)}

    other = by["other"]
    for read in (lambda: repository.get(other, run_id), lambda: repository.get_in_full(other, run_id),
                 lambda: repository.code(other, run_id), lambda: repository.step_value(other, run_id, step["attempt"], step["position"], "input"),
                 lambda: repository.children(other, run_id), lambda: reading.read(other, run_id, str)):
        with pytest.raises(NotFound):
            await read()
    rows, _ = await listing.page(other, listing.Filters(), PageRequest(None, 20))
    assert run_id not in [row["id"] for row in rows]
    assert await repository.visible_ids(other, [str(run_id)]) == set()
    assert await listing.preview_text(other, run_id) == ""


async def test_a_queued_run_without_steps_is_still_404_for_her(client, factory):
    """No steps, log or items yet: ``children`` tells "none yet" (the owner's empty lists) from "not yours"."""
    people = await world(factory)
    run_id = await start(people["owner"], run=False)
    by = await scopes(people)
    assert await repository.children(by["owner"], run_id) == {"steps": [], "log": [], "items": []}
    with pytest.raises(NotFound):
        await repository.children(by["other"], run_id)


async def test_the_api_reads_and_exports_are_404_for_her(client, factory):
    people = await world(factory)
    run_id = await start(people["owner"])
    await share(client, people, run_id)
    paths = [f"{API}/{run_id}", f"{API}/{run_id}/code", f"{API}/{run_id}/export?format=json",
             f"{API}/{run_id}/export?format=csv", f"{API}/{run_id}/results"]
    for who in ("owner", "sharee", "admin"):
        for path in paths:
            answer = await client.get(path, headers=people[who].bearer)
            assert answer.status_code == 200, (who, path, answer.text)
        listed = (await client.get(API, headers=people[who].bearer)).json()["items"]
        assert str(run_id) in [r["id"] for r in listed]
    for path in paths:
        assert (await client.get(path, headers=people["other"].bearer)).status_code == 404, path
    assert (await client.get(API, headers=people["other"].bearer)).json()["items"] == []


async def test_live_events_of_a_run_reach_only_those_who_may_see_it(live_url, factory):
    async with httpx.AsyncClient(base_url=live_url) as client:
        people = await world(factory)
        run_id = await start(people["owner"], run=False)
        await share(client, people, run_id)
        own = await client.get(f"{API}/{run_id}/events", headers=people["other"].bearer)
        assert own.status_code == 404  # the run's own stream
        url = f"{live_url}{API}/events"
        async with sse(url, people["other"].bearer) as other, sse(url, people["sharee"].bearer) as sharee, \
                sse(url, people["admin"].bearer) as admin, sse(url, people["owner"].bearer) as owner:
            await asyncio.sleep(0.3)  # every stream reads from "now"
            canceled = await client.post(f"{API}/{run_id}/cancel", headers=people["owner"].bearer)
            assert canceled.status_code == 200, canceled.text
            hers = await start(people["other"], run=False)  # then an event she may see
            firsts = {who: await stream.next() for who, stream in
                      (("other", other), ("sharee", sharee), ("admin", admin), ("owner", owner))}
    assert firsts["other"]["data"]["run"] == str(hers) and firsts["other"]["data"]["status"] == "queued"
    for who in ("sharee", "admin", "owner"):
        event = firsts[who]["data"]
        assert (event["run"], event["status"]) == (str(run_id), "canceled"), who
