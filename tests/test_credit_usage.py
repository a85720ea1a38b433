"""The credit audit: usage by member, agent and time equals the ledger's own sums, refunds say why, a member
sees only their own runs, the CSV holds every movement with its run, agent and member, and the Credits page
shows the same figures the API gives, each linked to the run list."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from uuid import UUID

from agentledger.agents import runner
from agentledger.platform.database import fetch
from tests.support import agents  # noqa: F401 - registers test-results
from tests.support.fixtures import sign_in

API = "/api/v1/workspaces/acme"


async def _run(client, person, body) -> dict:
    started = await client.post(f"{API}/executions", json=body, headers=person.bearer)
    assert started.status_code == 202, started.text
    return started.json()


async def _history(client, factory):
    """Member: noop x5 (charged 5), url-check that fails (2 back: 'run failed'), a noop canceled before it
    ran (4 back: 'canceled'). Admin: noop x3 (3), test-results (charged its items; one recommendation approved)."""
    team = await factory.team()
    await factory.credits("acme", 1000)
    done = await _run(client, team.member, {"agent": "noop", "inputs": {}, "scope": 5})
    broken = await _run(client, team.member, {"agent": "url-check", "inputs": {"urls": ["http://127.0.0.1:9/"]}})
    canceled = await _run(client, team.member, {"agent": "noop", "inputs": {}, "scope": 4})
    assert (await client.post(f"{API}/executions/{canceled['id']}/cancel", headers=team.member.bearer)).status_code == 200
    admin_noop = await _run(client, team.admin, {"agent": "noop", "inputs": {}, "scope": 3})
    results = await _run(client, team.admin, {"agent": "test-results", "inputs": {}})
    for run in (done, broken, admin_noop, results):
        await runner.run_execution(UUID(run["id"]))
    recommendation = next(r for r in (await client.get(f"{API}/executions/{results['id']}/results",
                                                       headers=team.admin.bearer)).json()["items"]
                          if r["kind"] == "recommendation")
    assert (await client.post(f"{API}/results/{recommendation['id']}/approve",
                              headers=team.admin.bearer)).status_code == 200
    return team, results


async def _ledger_sums(**where) -> dict[str, int]:
    extra = "".join(f" AND {k} = {{}}" for k in where)
    rows = await fetch("SELECT credit, sum(amount)::bigint AS s FROM ledger_transfers WHERE debit = 'held'"
                       + extra + " GROUP BY credit", *where.values())
    return {r["credit"]: r["s"] for r in rows}


async def usage(client, person, **params) -> dict:
    answer = await client.get(f"{API}/credits/usage", params=params, headers=person.bearer)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_usage_by_member_agent_and_day_equals_the_ledger(client, factory):
    team, results = await _history(client, factory)
    whole = await _ledger_sums()
    by_member = await usage(client, team.admin, group_by="member")
    assert by_member["total"]["credits_charged"] == whole["spent"] and by_member["total"]["credits_refunded"] == whole["available"]
    groups = {g["label"]: g for g in by_member["groups"]}
    assert set(groups) == {"Max Member", "Ada Admin"}
    mine = await _ledger_sums(member=team.member.id)
    assert (groups["Max Member"]["credits_charged"], groups["Max Member"]["credits_refunded"]) == (5, 2 + 4) == (
        mine["spent"], mine["available"])
    assert groups["Max Member"]["runs"] == 3 and groups["Max Member"]["key"] == str(team.member.id)

    by_agent = {g["key"]: g for g in (await usage(client, team.admin, group_by="agent"))["groups"]}
    assert by_agent["noop"]["credits_charged"] == 5 + 3 and by_agent["noop"]["credits_refunded"] == 4
    assert by_agent["url-check"]["credits_charged"] == 0 and by_agent["url-check"]["credits_refunded"] == 2
    assert sum(g["credits_charged"] for g in by_agent.values()) == whole["spent"]

    today = datetime.now(UTC).strftime("%Y-%m-%d")
    by_day = (await usage(client, team.admin, group_by="day"))["groups"]
    assert [g["key"] for g in by_day] == [today] and by_day[0]["credits_charged"] == whole["spent"]
    assert (await usage(client, team.admin, group_by="month"))["groups"][0]["key"] == today[:7]

    later = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    empty = await usage(client, team.admin, group_by="agent", since=later,
                        until=(datetime.now(UTC) + timedelta(days=2)).isoformat())
    assert empty["groups"] == [] and empty["total"]["credits_charged"] == 0


async def test_refunds_say_why_and_a_member_sees_only_their_own(client, factory):
    team, _ = await _history(client, factory)
    reasons = {r["memo"]: r["amount"] for r in await fetch(
        "SELECT memo, amount FROM ledger_transfers WHERE debit = 'held' AND credit = 'available'")}
    assert reasons == {"run failed": 2, "canceled": 4}
    own = await usage(client, team.member, group_by="agent")
    assert {g["key"] for g in own["groups"]} == {"noop", "url-check"}  # not the admin's test-results
    assert own["total"] == {"key": "total", "label": "Total", "runs": 3, "credits_charged": 5, "credits_refunded": 6}
    assert [g["key"] for g in (await usage(client, team.member, group_by="member"))["groups"]] == [str(team.member.id)]
    stranger = await client.get(f"{API}/credits/usage", headers=team.outsider.bearer)
    assert stranger.status_code == 404


async def test_bad_periods_and_groupings_are_422s(client, factory):
    team = await factory.team()
    for params, field in (({"group_by": "year"}, "group_by"), ({"since": "2026-11-01T00:00:00"}, "since"),
                          ({"since": "2026-11-02T00:00:00Z", "until": "2026-11-01T00:00:00Z"}, "since"),
                          ({"since": "2020-01-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, "since")):
        answer = await client.get(f"{API}/credits/usage", params=params, headers=team.admin.bearer)
        assert answer.status_code == 422 and answer.json()["field"] == field, (params, answer.text)


async def test_the_csv_holds_every_movement_with_its_run_agent_and_member(client, factory):
    team, _ = await _history(client, factory)
    answer = await client.get(f"{API}/credits/export", headers=team.admin.bearer)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert len(rows) == len(await fetch("SELECT 1 FROM ledger_transfers"))
    charged = [r for r in rows if r["credit"] == "spent" and r["member_name"] == "Max Member"]
    assert [(r["agent"], int(r["amount"])) for r in charged] == [("noop", 5)] and charged[0]["execution"]
    grant = next(r for r in rows if r["debit"] == "external")
    assert (grant["amount"], grant["memo"], grant["execution"]) == ("1000", "test", "")
    own = list(csv.DictReader(io.StringIO((await client.get(f"{API}/credits/export", headers=team.member.bearer)).text)))
    assert own and {r["member"] for r in own} == {str(team.member.id)}  # no grants, nobody else's runs


async def test_the_credits_page_shows_the_apis_figures_and_links_each_to_the_runs(client, factory):
    team, _ = await _history(client, factory)
    api = await usage(client, team.admin, group_by="member")
    await sign_in(client, team.admin.email, team.admin.password)
    page = await client.get("/w/acme/credits?range=7d")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    text = page.text
    charged = re.search(r'Charged</span><a class="n" href="([^"]+)">([\d,]+)<', text)
    assert int(charged.group(2).replace(",", "")) == api["total"]["credits_charged"]
    assert charged.group(1).startswith("/w/acme/executions?range=custom&amp;since=")
    for group in api["groups"]:
        row = re.search(rf'started_by={group["key"]}">{group["label"]}</a></td><td>(\d+)</td><td data-charged>([\d,]+)<',
                        text)
        assert row and (int(row.group(1)), int(row.group(2).replace(",", ""))) == (
            group["runs"], group["credits_charged"])
    assert 'data-books="balanced"' in text
    assert 'status=failed">run failed</a>' in text and 'status=canceled">canceled</a>' in text  # refunds: why, and which runs
    assert "Approved per 100 credits" in text
    chart = await client.get("/w/acme/credits/charts/time?range=7d")
    assert chart.status_code == 200, re.findall(r"<p>(.*?)</p>", chart.text)
    assert chart.headers["content-type"].startswith("image/svg+xml")
    assert "<svg" in chart.text and "script" not in chart.text.lower()

    await client.post("/logout", data={"_csrf_token": re.search(r'name="_csrf_token" value="([^"]+)"', text).group(1)})
    await sign_in(client, team.member.email, team.member.password)
    mine = await client.get("/w/acme/credits")
    assert mine.status_code == 200 and "My usage" in mine.text and "By member" not in mine.text
    assert "Ada Admin" not in mine.text and "data-books" not in mine.text
    assert (await client.get("/w/acme/credits/charts/member")).status_code == 422


async def test_what_each_agents_credits_bought_counts_reruns_failures_and_approvals(client, factory):
    team, _ = await _history(client, factory)
    done = next(r for r in (await client.get(f"{API}/executions", params={"agent": "noop"},
                                             headers=team.member.bearer)).json()["items"] if r["status"] == "completed")
    assert (await client.post(f"{API}/executions/{done['id']}/rerun", json={},
                              headers=team.member.bearer)).status_code == 202
    from agentledger.platform.executions import service as executions
    from agentledger.platform.scoping import resolve_scope

    admin = await resolve_scope("acme", team.admin.id)
    since = datetime.now(UTC) - timedelta(days=1)
    outcomes = await executions.agent_outcomes(admin, since, datetime.now(UTC) + timedelta(minutes=1))
    assert outcomes["noop"]["rerun"] == 1 and outcomes["noop"]["runs"] == 4  # three noops and the re-run
    assert outcomes["url-check"]["failed"] == 1 and outcomes["url-check"]["runs"] == 1
    assert (outcomes["test-results"]["approved"], outcomes["test-results"]["applied"]) == (1, 0)
    mine = await executions.agent_outcomes(await resolve_scope("acme", team.member.id), since,
                                           datetime.now(UTC) + timedelta(minutes=1))
    assert "test-results" not in mine and mine["noop"]["runs"] == 3  # a member's own runs only
