"""The ledger API: each movement says what it was for (the run's agent and who started it, or the reason
a grant was given), and ``since`` / ``until`` cut it to a period while its keyset cursor keeps walking."""

from __future__ import annotations

import subprocess
from uuid import UUID

import pytest

from agentledger.agents import runner
from tests.support.processes import cli

API = "/api/v1/workspaces/acme"


async def ledger(client, person, **params) -> dict:
    response = await client.get(f"{API}/ledger", params={"limit": 250, **params}, headers=person.bearer)
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_runs_movements_name_its_agent_and_starter_and_a_grant_its_reason(client, factory):
    team = await factory.team()
    granted = subprocess.run(cli("grant-credits", "--workspace", "acme", "--credits", "500", "--reason", "pilot"),
                             capture_output=True, text=True, timeout=60)
    assert granted.returncode == 0, granted.stderr
    started = await client.post(f"{API}/executions", json={"agent": "noop", "inputs": {}, "scope": 3},
                                headers=team.member.bearer)
    assert started.status_code == 202, started.text
    run = started.json()
    await runner.run_execution(UUID(run["id"]))

    rows = (await ledger(client, team.admin))["items"]
    grant = next(r for r in rows if r["debit"] == "external")
    assert (grant["amount"], grant["memo"], grant["execution"]) == (500, "pilot", None)
    assert (grant["agent"], grant["started_by"], grant["started_by_name"]) == (None, None, None)
    moves = [r for r in rows if r["execution"] == run["id"]]
    assert sorted((r["debit"], r["credit"], r["amount"]) for r in moves) == [("available", "held", 3),
                                                                             ("held", "spent", 3)]
    for move in moves:
        assert (move["agent"], move["started_by"], move["started_by_name"]) == (
            "noop", str(team.member.id), "Max Member")


async def test_since_and_until_cut_the_ledger_and_its_cursor_walks_the_period(client, factory):
    team = await factory.team()
    for amount in (1, 2, 3, 4, 5):  # one transaction each: five different times
        await factory.credits("acme", amount)
    everything = (await ledger(client, team.admin))["items"]
    assert [r["amount"] for r in everything] == [5, 4, 3, 2, 1]
    at = {r["amount"]: r["created_at"] for r in everything}

    period = (await ledger(client, team.admin, since=at[2], until=at[5]))["items"]
    assert [r["amount"] for r in period] == [4, 3, 2]  # since inclusive, until exclusive
    assert [r["amount"] for r in (await ledger(client, team.admin, since=at[4]))["items"]] == [5, 4]
    assert [r["amount"] for r in (await ledger(client, team.admin, until=at[2]))["items"]] == [1]

    first = await ledger(client, team.admin, since=at[2], until=at[5], limit=2)
    assert [r["amount"] for r in first["items"]] == [4, 3] and first["next_cursor"]
    second = await ledger(client, team.admin, since=at[2], until=at[5], limit=2, cursor=first["next_cursor"])
    assert [r["amount"] for r in second["items"]] == [2] and second["next_cursor"] is None


@pytest.mark.parametrize(("params", "field", "says"), [
    ({"since": "2026-01-01T00:00:00"}, "since", "since needs a time zone"),
    ({"until": "2026-01-01T00:00:00"}, "until", "until needs a time zone"),
    ({"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, "since", "since must be before until"),
    ({"since": "2026-01-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, "since", "since must be before until"),
    ({"since": "yesterday"}, "since", "since"),
    ({"until": "2026-13-01T00:00:00Z"}, "until", "until"),
])
async def test_a_period_that_cannot_be_read_is_a_422_naming_the_field(client, factory, params, field, says):
    team = await factory.team()
    response = await client.get(f"{API}/ledger", params=params, headers=team.admin.bearer)
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field and says in response.json()["message"]
    member = await client.get(f"{API}/ledger", params={"since": "2026-01-01T00:00:00Z"}, headers=team.member.bearer)
    assert member.status_code == 403  # the ledger is for admins, whatever the period
