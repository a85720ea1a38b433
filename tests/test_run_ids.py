"""Runs get time-ordered ids (UUIDv7, ``platform/executions/ids.py``): runs made one after another sort by
id in the order they were made, which keeps a retention batch's runs side by side in every index that
finds a run's record. Ids stay opaque to people: another workspace's run still answers 404."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

from agentledger.platform.database import atomic, fetch
from agentledger.platform.executions import service
from agentledger.platform.executions.ids import new_run_id
from agentledger.platform.scoping import resolve_scope
from tests.support import agents  # noqa: F401 - registers the test agents
from tests.test_exports import start


def made_at(run_id: UUID) -> datetime:
    """The moment a UUIDv7 names: its first 48 bits, in milliseconds."""
    return datetime.fromtimestamp((run_id.int >> 80) / 1000, UTC)


async def test_runs_started_one_after_another_have_ids_in_the_order_they_were_made(factory):
    team = await factory.team()
    await factory.credits("acme", 1000)
    started = [await start(team) for _ in range(5)]
    async with atomic():
        refused = await service.record_refused(await resolve_scope("acme", team.member.id), "test-results", {},
                                               "live", "schedule", "the schedule's inputs are no longer accepted")
    ids = [*started, refused["id"]]
    assert all(UUID(str(i)).version == 7 for i in ids)
    assert sorted(ids) == ids  # in the order they were made
    rows = await fetch("SELECT id, created_at FROM executions WHERE id = ANY({}::uuid[])", ids)
    for row in rows:  # and each names the moment its run was recorded
        assert abs(made_at(row["id"]) - row["created_at"]) < timedelta(seconds=2)


async def test_a_run_made_in_the_past_gets_an_id_of_that_moment():
    """The demo's history is made now for runs of last year: their ids sort among runs of their own time."""
    moment = datetime(2025, 12, 4, 9, 30, 15, 123000, tzinfo=UTC)
    earlier, later = new_run_id(moment), new_run_id(moment + timedelta(milliseconds=1))
    assert earlier.version == 7 and made_at(earlier) == moment
    assert earlier < later < new_run_id()


async def test_knowing_a_run_id_gives_another_workspace_nothing(factory, client):
    """A time-ordered id is easier to guess near a known one: the guard was never the id, but the
    workspace every lookup is scoped to."""
    team = await factory.team()
    await factory.credits("acme", 1000)
    mine = await start(team)
    for workspace in ("acme", "globex"):  # not a member of Acme; Globex has no such run
        response = await client.get(f"/api/v1/workspaces/{workspace}/executions/{mine}", headers=team.outsider.bearer)
        assert response.status_code == 404, (workspace, response.text)
    assert (await client.get(f"/api/v1/workspaces/acme/executions/{mine}", headers=team.member.bearer)).status_code == 200
