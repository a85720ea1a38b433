"""The run list in the API: newest first, keyset pages, every filter (combinable), 422s naming the
parameter, members seeing only their runs, and a one-line preview of each run's results."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest

from agentledger.agents import launch, runner
from agentledger.platform.clock import now
from agentledger.platform.database import atomic
from agentledger.platform.executions import service, states
from agentledger.platform.scoping import resolve_scope
from tests.support import agents  # noqa: F401 - registers test-results

API = "/api/v1/workspaces/acme/executions"


async def start(person, agent="noop", mode="live", run=True, triggered_by="user"):
    async with atomic():
        row = await launch.start(await resolve_scope("acme", person.id), launch.Request(agent, {}, mode=mode),
                                 triggered_by=triggered_by)
    if run:
        await runner.run_execution(row["id"])
    return str(row["id"])


async def listed(client, person, **params):
    response = await client.get(API, params=params, headers=person.bearer)
    assert response.status_code == 200, response.text
    return response.json()


async def test_filters_combine_and_pages_follow_the_cursor(client, factory):
    team = await factory.team()
    await factory.credits("acme", 1000)
    done = await start(team.member)
    results = await start(team.member, "test-results")
    test_run = await start(team.member, mode="test")
    queued = await start(team.member, run=False, triggered_by="api")
    async with atomic():
        await service.cancel(await resolve_scope("acme", team.member.id), UUID(queued))
    admins = await start(team.admin)
    everything = await listed(client, team.admin)
    assert [r["id"] for r in everything["items"]] == [admins, queued, test_run, results, done]
    mine = await listed(client, team.member)
    assert admins not in [r["id"] for r in mine["items"]] and len(mine["items"]) == 4
    assert [r["id"] for r in (await listed(client, team.admin, agent="test-results"))["items"]] == [results]
    assert [r["id"] for r in (await listed(client, team.admin, status="canceled"))["items"]] == [queued]
    both = await listed(client, team.admin, status=["canceled", "completed"], mode="live", agent="noop")
    assert [r["id"] for r in both["items"]] == [admins, queued, done]
    assert [r["id"] for r in (await listed(client, team.admin, mode="test"))["items"]] == [test_run]
    assert [r["id"] for r in (await listed(client, team.admin, triggered_by="api"))["items"]] == [queued]
    success = await listed(client, team.admin, outcome="success")
    assert queued not in [r["id"] for r in success["items"]] and len(success["items"]) == 4
    assert (await listed(client, team.admin, outcome="failure"))["items"] == []
    by_member = await listed(client, team.admin, started_by=str(team.member.id))
    assert admins not in [r["id"] for r in by_member["items"]]
    assert by_member["items"][0]["started_by_name"] == "Max Member"
    later = (now() + timedelta(hours=1)).isoformat()
    assert (await listed(client, team.admin, since=later))["items"] == []
    assert len((await listed(client, team.admin, until=later))["items"]) == 5
    first = await listed(client, team.admin, limit=2)
    second = await listed(client, team.admin, limit=2, cursor=first["next_cursor"])
    third = await listed(client, team.admin, limit=2, cursor=second["next_cursor"])
    assert [r["id"] for r in first["items"] + second["items"] + third["items"]] == [r["id"] for r in
                                                                                  everything["items"]]
    assert third["next_cursor"] is None


async def test_the_preview_names_the_key_results(client, factory):
    team = await factory.team()
    await factory.credits("acme", 100)
    await start(team.member, "test-results")
    row = (await listed(client, team.member))["items"][0]
    assert row["preview"]["text"] == "score 72 · 2 recommendations · 1 text · 1 action item · 1 report · 1 file"
    assert row["preview"]["counts"]["recommendation"] == 2 and row["preview"]["score"] == 72
    assert row["status"] == states.COMPLETED


async def test_bad_filters_answer_422_naming_the_parameter(client, factory):
    team = await factory.team()
    for params, field in (({"status": "sleeping"}, "status"), ({"outcome": "meh"}, "outcome"),
                          ({"since": "yesterday"}, "since"), ({"until": "2026-13-01"}, "until"),
                          ({"mode": "prod"}, "mode"), ({"triggered_by": "cron"}, "triggered_by"),
                          ({"started_by": "bob"}, "started_by"), ({"limit": "0"}, "limit"),
                          ({"cursor": "garbage"}, "cursor"), ({"since": "2026-11-01T00:00:00"}, "since"),
                          ({"since": "2026-11-02T00:00:00Z", "until": "2026-11-01T00:00:00Z"}, "since")):
        response = await client.get(API, params=params, headers=team.member.bearer)
        assert response.status_code == 422, (params, response.text)
        assert field in (response.json().get("field") or response.json()["message"]), (params, response.json())


async def test_a_listed_run_reads_as_the_run_itself(client, factory):
    """The list unpacks its rows by position: every field must land where the run's own page has it."""
    team = await factory.team()
    await factory.credits("acme", 100)
    run = await start(team.member, "test-results")
    item = (await listed(client, team.member))["items"][0]
    whole = (await client.get(f"{API}/{run}", headers=team.member.bearer)).json()
    assert item["version"] and item["duration_ms"] is not None and item["credits_charged"] > 0
    own = ("steps", "log", "items", "preview", "started_by_name", "trigger")  # the run's own read has its
    # children and its trigger in full; the list has the preview
    assert {k: v for k, v in whole.items() if k not in own} == {k: v for k, v in item.items() if k not in own}
    assert item["started_by_name"] == "Max Member" and item["preview"]["score"] == 72
    assert whole["trigger"] == "Max Member" and item["trigger"] is None


@pytest.mark.pure
def test_every_field_of_a_run_comes_from_its_own_column():
    from datetime import UTC, datetime

    from agentledger.platform.executions.present import COLUMNS, present

    started = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    row = {name: f"<{name}>" for name in COLUMNS} | {
        "inputs": {"url": "x"}, "started_at": started, "finished_at": started + timedelta(seconds=3),
        "heartbeat_at": None, "preview": None, "paused_at": None, "paused_ms": 0, "attempts": 1, "failed_step": None,
        "cancel_requested": False, "pause_requested": False, "status": "completed", "items_failed": 0}
    out = present(row)
    for field in out.__struct_fields__:
        if field in row and field not in ("preview",):
            assert getattr(out, field) == row[field], field
    assert out.reuses_steps == "<reuse_steps>" and out.duration_ms == 3000
    assert (out.version.label, out.version.sha256) == ("<version_label>", "<version_sha256>")


@pytest.mark.pure
def test_the_credit_line_says_what_was_charged_and_why_the_rest_came_back():
    from agentledger.platform.executions.states import credit_story

    run = {"mode": "live", "status": "partial", "scope": 50, "items_processed": 45, "items_failed": 4,
           "credits_reserved": 55, "credits_charged": 50, "credits_refunded": 5}
    assert credit_story(run) == ("45 of 50 items processed (4 failed, 1 not reached): 50 charged, "
                                 "5 refunded for the 5 not processed.")
    canceled = {**run, "status": "canceled", "items_processed": 3, "items_failed": 0, "credits_charged": 8,
                "credits_refunded": 47}
    assert credit_story(canceled) == ("3 of 50 items processed (47 not reached): 8 charged, "
                                      "47 refunded for the 47 not processed.")
