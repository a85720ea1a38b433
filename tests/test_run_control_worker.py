"""Run controls through the API on a real Dramatiq worker (two threads), against a slow real site: the
newcomer's cancel that was ignored and charged in full, and a pause that must free its worker."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.support.books import assert_books_balance, wait_for_status
from tests.support.processes import worker
from tests.support.site import site


@pytest.fixture
def two_threads():
    with worker({"RUN_HEARTBEAT_SECONDS": "0.5"}) as process:
        yield process


@pytest.fixture(scope="module")
def slow_site():
    with site() as url:
        yield url


async def _start(client, person, body) -> dict:
    response = await client.post("/api/v1/workspaces/acme/executions", json=body, headers=person.bearer)
    assert response.status_code == 202, response.text
    return response.json()


async def _read(client, person, run_id) -> dict:
    return (await client.get(f"/api/v1/workspaces/acme/executions/{run_id}", headers=person.bearer)).json()


async def test_cancel_of_a_slow_url_check_takes_effect_within_a_second_and_refunds_what_was_not_done(
        client, factory, two_threads, slow_site):
    team = await factory.team()
    workspace_id = await factory.credits("acme", 100)
    urls = [f"{slow_site}/slow?ms=10000&c={n}" for n in range(1, 41)]
    run = await _start(client, team.member, {"agent": "url-check", "inputs": {"urls": urls}})
    assert run["credits_reserved"] == 41
    await wait_for_status(run["id"], ("running",), timeout=20)
    await asyncio.sleep(1)  # nothing processed yet: every URL takes ten seconds
    response = await client.post(f"/api/v1/workspaces/acme/executions/{run['id']}/cancel",
                                 headers=team.member.bearer)
    asked = time.monotonic()
    assert response.status_code == 200
    body = response.json()
    assert body["status_note"] == "canceling…" and "cancel" not in body["actions"]
    final = await wait_for_status(run["id"], timeout=5)
    assert time.monotonic() - asked <= 1.5  # within a second, plus this test's own polling
    assert final["status"] == "canceled"
    assert (final["items_processed"], final["credits_charged"], final["credits_refunded"]) == (0, 0, 41)
    read = await _read(client, team.member, run["id"])
    assert read["actions"] == ["rerun", "delete", "resume_where_stopped"] and read["status_note"] is None
    assert [s["status"] for s in read["steps"]] == ["succeeded", "skipped"]
    assert (await assert_books_balance(workspace_id))["wallet_available"] == 100


async def test_a_paused_run_holds_no_worker_and_resumes_with_exact_credits(client, factory, two_threads, slow_site):
    team = await factory.team()
    workspace_id = await factory.credits("acme", 100)
    urls = [f"{slow_site}/slow?ms=500&p={n}" for n in range(1, 25)]
    run = await _start(client, team.member, {"agent": "url-check", "inputs": {"urls": urls}})
    await wait_for_status(run["id"], ("running",), timeout=20)
    await asyncio.sleep(0.8)
    pausing = (await client.post(f"/api/v1/workspaces/acme/executions/{run['id']}/pause",
                                 headers=team.member.bearer)).json()
    assert pausing["status"] == "running" and pausing["status_note"] == "pausing…"
    assert "resume" in pausing["actions"] and "pause" not in pausing["actions"]
    await wait_for_status(run["id"], ("paused",), timeout=5)
    others = [await _start(client, team.member, {"agent": "noop", "inputs": {}, "scope": 2}) for _ in range(3)]
    for other in others:  # three runs on a two-thread worker, while the paused one waits
        assert (await wait_for_status(other["id"], timeout=20))["status"] == "completed"
    still = await _read(client, team.member, run["id"])
    assert still["status"] == "paused" and still["actions"] == ["cancel", "resume", "rerun"]
    done_before = len(still["items"])
    assert 0 < done_before < 24
    resumed = await client.post(f"/api/v1/workspaces/acme/executions/{run['id']}/resume", headers=team.member.bearer)
    assert resumed.json()["status"] == "queued"
    final = await wait_for_status(run["id"], timeout=30)
    assert final["status"] == "completed"
    assert (final["items_processed"], final["credits_charged"], final["credits_refunded"]) == (24, 25, 0)
    read = await _read(client, team.member, run["id"])
    assert len(read["items"]) == 24  # each URL once
    assert any("checked before" in line["message"] for line in read["log"])
    assert (await assert_books_balance(workspace_id))["wallet_available"] == 100 - 25 - 3 * 2
