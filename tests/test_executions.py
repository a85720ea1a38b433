"""Runs on a real Dramatiq worker: reserve on start, settle on finish, the API around them."""

from __future__ import annotations

import pytest

from agentledger.platform.executions.tables import Execution
from tests.support.books import assert_books_balance, wait_for_status
from tests.support.processes import worker
from tests.support.site import site


@pytest.fixture
def running_worker():
    with worker({"RUN_HEARTBEAT_SECONDS": "0.5"}) as process:
        yield process


@pytest.fixture(scope="module")
def web_site():
    with site() as url:
        yield url


async def start(client, person, body):
    return await client.post("/api/v1/workspaces/acme/executions", json=body, headers=person.bearer)


async def test_noop_run_reserves_then_settles_exactly(client, factory, running_worker):
    team = await factory.team()
    workspace_id = await factory.credits("acme", 100)
    response = await start(client, team.member, {"agent": "noop", "inputs": {}, "scope": 5})
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "queued" and body["estimate"] == 5 and body["credits_reserved"] == 5
    assert body["triggered_by"] == "api" and body["agent"] == "noop" and body["version"]["label"] == "v1"
    final = await wait_for_status(body["id"])
    assert final["status"] == "completed"
    assert (final["items_processed"], final["credits_charged"], final["credits_refunded"]) == (5, 5, 0)
    books = await assert_books_balance(workspace_id)
    assert books["wallet_available"] == 95 and books["wallet_held"] == 0 and books["spent"] == 5
    read = (await client.get(f"/api/v1/workspaces/acme/executions/{body['id']}", headers=team.member.bearer)).json()
    assert [s["name"] for s in read["steps"]] == ["process"] and read["steps"][0]["status"] == "succeeded"
    assert len(read["items"]) == 5 and read["duration_ms"] is not None and read["finished_at"]
    wallet = (await client.get("/api/v1/workspaces/acme/wallet", headers=team.admin.bearer)).json()
    assert wallet == {"available": 95, "held": 0, "owed": 0}
    ledger = (await client.get("/api/v1/workspaces/acme/ledger", headers=team.admin.bearer)).json()["items"]
    assert [(t["debit"], t["credit"], t["amount"]) for t in ledger] == [
        ("held", "spent", 5), ("available", "held", 5), ("external", "available", 100)]


async def test_url_check_reports_each_url_and_charges_only_what_worked(client, factory, running_worker, web_site):
    team = await factory.team()
    workspace_id = await factory.credits("acme", 50)
    urls = [f"{web_site}/ok", f"{web_site}/missing", f"{web_site}/slow?ms=50", "http://127.0.0.1:9/refused"]
    response = await start(client, team.member, {"agent": "url-check", "inputs": {"urls": urls}})
    assert response.status_code == 202 and response.json()["scope"] == 4 and response.json()["credits_reserved"] == 5
    final = await wait_for_status(response.json()["id"])
    assert final["status"] == "partial"
    assert (final["items_processed"], final["items_failed"]) == (2, 2)
    assert (final["credits_charged"], final["credits_refunded"]) == (3, 2)  # base 1 + 2 items; 2 back
    read = (await client.get(f"/api/v1/workspaces/acme/executions/{final['id']}", headers=team.member.bearer)).json()
    reasons = {i["key"]: i["reason"] for i in read["items"]}
    assert reasons[f"{web_site}/missing"] == "HTTP 404" and reasons["http://127.0.0.1:9/refused"].startswith("Connect")
    assert read["items"][0]["detail"]["ms"] >= 0
    assert any("404" in line["message"] for line in read["log"])
    await assert_books_balance(workspace_id)


async def test_test_mode_takes_the_dry_path_and_charges_nothing(client, factory, running_worker, web_site):
    team = await factory.team()
    workspace_id = await factory.credits("acme", 10)
    response = await start(client, team.member, {"agent": "url-check", "inputs": {"urls": [f"{web_site}/ok"]},
                                                 "mode": "test"})
    assert response.json()["credits_reserved"] == 0
    final = await wait_for_status(response.json()["id"])
    assert final["status"] == "completed" and final["credits_charged"] == 0
    assert (await assert_books_balance(workspace_id))["wallet_available"] == 10


async def test_insufficient_credits_is_a_402_that_writes_nothing(client, factory):
    team = await factory.team()
    await factory.credits("acme", 3)
    response = await start(client, team.member, {"agent": "noop", "inputs": {}, "scope": 5})
    assert response.status_code == 402
    assert response.json() == {"error": "insufficient_credits", "message": "insufficient credits: need 5, have 3",
                                "field": None}
    assert await Execution.count() == 0


async def test_estimate_answers_before_anything_is_reserved(client, factory):
    team = await factory.team()
    workspace_id = await factory.credits("acme", 3)
    response = await client.post("/api/v1/workspaces/acme/executions/estimate",
                                 json={"agent": "url-check", "inputs": {"urls": ["https://a.example/x"] * 4}},
                                 headers=team.member.bearer)
    assert response.json() == {"agent": "url-check", "scope": 4, "estimate": 5, "available": 3, "affordable": False,
                               "note": None}
    assert (await assert_books_balance(workspace_id))["wallet_held"] == 0


@pytest.mark.parametrize(("body", "field"), [
    ({"agent": "nope", "inputs": {}}, "agent"),
    ({"agent": "url-check", "inputs": {"urls": "https://a.example"}}, "inputs.urls"),
    ({"agent": "url-check", "inputs": {"urls": ["ftp://files.example/x"]}}, "inputs"),
    ({"agent": "url-check", "inputs": {"urls": ["https://a.example/x"]}, "scope": 3}, "scope"),
    ({"agent": "noop", "inputs": {}, "scope": 0}, "scope"),
    ({"agent": "noop", "inputs": {"extra": 1}}, "inputs"),
    ({"agent": "noop", "inputs": {}, "mode": "dry"}, "mode"),
])
async def test_bad_starts_are_422_naming_the_field(client, factory, body, field):
    team = await factory.team()
    await factory.credits("acme", 100)
    response = await start(client, team.member, body)
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field
    assert await Execution.count() == 0


async def test_cancel_a_queued_run_refunds_it_and_a_second_cancel_is_409(client, factory):
    team = await factory.team()
    workspace_id = await factory.credits("acme", 10)
    run = (await start(client, team.member, {"agent": "noop", "inputs": {}, "scope": 4})).json()
    url = f"/api/v1/workspaces/acme/executions/{run['id']}"
    canceled = await client.post(f"{url}/cancel", headers=team.member.bearer)
    assert canceled.status_code == 200
    assert canceled.json()["status"] == "canceled" and canceled.json()["credits_refunded"] == 4
    again = await client.post(f"{url}/cancel", headers=team.member.bearer)
    assert again.status_code == 409 and "canceled" in again.json()["message"]
    assert (await client.post(f"{url}/pause", headers=team.member.bearer)).status_code == 409
    assert (await assert_books_balance(workspace_id))["wallet_available"] == 10


async def test_members_see_their_own_runs_admins_see_all_outsiders_nothing(client, factory):
    team = await factory.team()
    await factory.credits("acme", 10)
    run = (await start(client, team.admin, {"agent": "noop", "inputs": {}})).json()
    url = f"/api/v1/workspaces/acme/executions/{run['id']}"
    assert (await client.get(url, headers=team.admin.bearer)).status_code == 200
    assert (await client.get(url, headers=team.member.bearer)).status_code == 404
    assert (await client.post(f"{url}/cancel", headers=team.member.bearer)).status_code == 404
    other = f"/api/v1/workspaces/globex/executions/{run['id']}"
    assert (await client.get(other, headers=team.outsider.bearer)).status_code == 404
    assert (await client.get("/api/v1/workspaces/acme/wallet", headers=team.member.bearer)).status_code == 403


async def test_agents_list_their_cost_version_and_input_schema(client, factory):
    team = await factory.team()
    listed = (await client.get("/api/v1/workspaces/acme/agents", headers=team.member.bearer)).json()
    assert listed["next_cursor"] is None  # every list is a page; the agents fit in one
    agents = listed["items"]
    by_name = {a["name"]: a for a in agents}
    assert by_name["noop"]["cost"] == {"base": 0, "per_item": 1}
    assert by_name["url-check"]["input_schema"]["$defs"]["UrlCheckInputs"]["required"] == ["urls"]
    assert len(by_name["url-check"]["sha256"]) == 64


async def test_rerun_is_linked_and_the_code_that_ran_is_kept(client, factory, running_worker):
    team = await factory.team()
    await factory.credits("acme", 20)
    first = (await start(client, team.member, {"agent": "noop", "inputs": {}, "scope": 2})).json()
    await wait_for_status(first["id"])
    again = await client.post(f"/api/v1/workspaces/acme/executions/{first['id']}/rerun", headers=team.member.bearer)
    assert again.status_code == 202
    assert again.json()["rerun_of"] == first["id"] and again.json()["triggered_by"] == "rerun"
    assert again.json()["scope"] == 2
    await wait_for_status(again.json()["id"])
    code = (await client.get(f"/api/v1/workspaces/acme/executions/{first['id']}/code",
                             headers=team.member.bearer)).json()
    assert code["label"] == "v1" and "class Noop" in code["source"] and len(code["sha256"]) == 64


async def test_agents_cannot_reach_internal_networks_unless_allowed(override_settings):
    import httpx

    from agentledger.agents import net

    override_settings(AGENT_ALLOW_PRIVATE_NETWORKS="false")
    async with net.client(timeout=2) as client:
        for url in ("http://127.0.0.1:9/", "http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/",
                    "http://[::1]:9/", "http://localhost:9/"):
            with pytest.raises(net.BlockedAddress):
                await client.get(url)
    override_settings(AGENT_ALLOW_PRIVATE_NETWORKS="true")
    async with net.client(timeout=2) as client:
        with pytest.raises(net.BlockedAddress):  # cloud metadata stays out of reach even then
            await client.get("http://169.254.169.254/latest/meta-data/")
        with pytest.raises(httpx.ConnectError):  # allowed: it is simply closed
            await client.get("http://127.0.0.1:9/")


async def test_the_address_checked_is_the_address_reached(override_settings, monkeypatch):
    """DNS rebinding: a name that answers a public address when checked and 127.0.0.1 when connected
    must not reach 127.0.0.1. The name server is played by the process's resolver answering in turn."""
    import asyncio
    import socket

    import httpx

    from agentledger.agents import net

    reached = []

    async def internal(reader, writer):
        reached.append(True)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 6\r\nconnection: close\r\n\r\nsecret")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(internal, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    answers = iter(["93.184.216.34"] + ["127.0.0.1"] * 10)  # public first, then the internal address
    resolve = socket.getaddrinfo

    def rebinding(host, *args, **kwargs):
        if host in ("rebind.example", b"rebind.example"):
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]
        return resolve(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    override_settings(AGENT_ALLOW_PRIVATE_NETWORKS="false")
    try:
        async with net.client(timeout=1) as client:
            with pytest.raises(httpx.TransportError):  # the public address, and only it, was tried
                await client.get(f"http://rebind.example:{port}/")
    finally:
        server.close()
    assert reached == []


@pytest.mark.pure
def test_the_address_guard_unwraps_disguised_internal_addresses():
    import ipaddress

    from agentledger.platform.net import _refused

    for text in ("100.100.100.200", "64:ff9b::a9fe:a9fe", "::ffff:169.254.169.254", "2002:a9fe:a9fe::1",
                 "::ffff:10.0.0.1", "0.0.0.0", "224.0.0.1"):
        assert _refused(ipaddress.ip_address(text), allow_private=False), text
    assert _refused(ipaddress.ip_address("::ffff:169.254.169.254"), allow_private=True)
    assert not _refused(ipaddress.ip_address("93.184.216.34"), allow_private=False)
    assert not _refused(ipaddress.ip_address("127.0.0.1"), allow_private=True)


async def test_a_run_whose_every_item_failed_is_failed_and_costs_nothing(client, factory, running_worker):
    team = await factory.team()
    workspace_id = await factory.credits("acme", 10)
    response = await start(client, team.member, {"agent": "url-check", "inputs": {"urls": ["http://127.0.0.1:9/"]}})
    final = await wait_for_status(response.json()["id"])
    assert final["status"] == "failed" and final["error_message"] == "every item failed (1); each item says why"
    assert (final["items_processed"], final["items_failed"]) == (0, 1)
    assert (final["credits_charged"], final["credits_refunded"]) == (0, 2)
    books = await assert_books_balance(workspace_id)
    assert books["wallet_available"] == 10 and books["wallet_held"] == 0


async def test_one_broken_url_costs_only_itself(client, factory, running_worker, web_site):
    team = await factory.team()
    await factory.credits("acme", 50)
    urls = [f"{web_site}/ok?n={n}" for n in range(3)] + ["http://no-such-host.invalid/"]
    response = await start(client, team.member, {"agent": "url-check", "inputs": {"urls": urls}})
    final = await wait_for_status(response.json()["id"])
    assert final["status"] == "partial" and (final["items_processed"], final["items_failed"]) == (3, 1)
    assert final["credits_charged"] == 1 + 3


@pytest.mark.parametrize("bad", ["http://a..b/", "https://a\\u0000.example/x", "http://example.com:99999/",
                                 "http://a" + "b" * 70 + ".example/"])
async def test_unfetchable_urls_are_refused_up_front(client, factory, bad):
    team = await factory.team()
    await factory.credits("acme", 10)
    url = bad.replace("\\u0000", "\u0000")
    response = await start(client, team.member, {"agent": "url-check", "inputs": {"urls": [url]}})
    assert response.status_code == 422 and response.json()["field"].startswith("inputs")
