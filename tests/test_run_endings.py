"""Every way a run ends passes through ``service.finish``: it ends in the right status, its credits add up
(reserved = charged + refunded, the books balance) and ``run_finished`` is emitted exactly once for it.

Each ending is driven as it happens: the runner on a real Dramatiq worker (completed, partial, failed,
timed out, a cancel while running), a cancel of a queued run through the API, the rescue after
``kill -9`` (failed, and canceled for a run canceled while its worker was dead), a review nobody decided,
and a scheduled run refused at its start. The worker loads ``tests.support.run_finished_probe`` next to
its actors; this process installs the same recorder for the endings it drives itself.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest

import tests.support.agents  # noqa: F401 - registers test-review, which the worker loads too
from agentledger.agents import launch, scheduling
from agentledger.agents.tasks import reap_stale_runs
from agentledger.billing import pricing
from agentledger.notifications import service as notifications
from agentledger.platform.clock import now
from agentledger.platform.database import atomic, fetch
from agentledger.platform.executions import states
from agentledger.platform.schedules.tables import Schedule
from agentledger.platform.scoping import resolve_scope
from tests.support import run_finished_probe as probe
from tests.support.books import assert_books_balance, wait_for_status
from tests.support.processes import ROOT, kill_9
from tests.support.site import site

API = "/api/v1/workspaces/acme/executions"
WORKER_ENV = {"RUN_HEARTBEAT_SECONDS": "0.2", "RUN_CONTROL_POLL_SECONDS": "0.2"}


@pytest.fixture
def events(tmp_path, monkeypatch) -> Path:
    """The file both this process and the workers append each committed run_finished to."""
    path = tmp_path / "run_finished.jsonl"
    monkeypatch.setitem(notifications.HANDLERS, "run_finished",
                        probe.recorder(path, notifications.HANDLERS["run_finished"]))
    return path


@pytest.fixture(scope="module")
def checked_site() -> Iterator[str]:
    with site() as url:
        yield url


def start_worker(events: Path, threads: int = 2) -> subprocess.Popen:
    """The real worker (every actor) plus the probe and the test agents, in a session of its own."""
    return subprocess.Popen(
        [sys.executable, "-m", "dramatiq", "agentledger.platform.actors", "tests.support.run_finished_probe",
         "tests.support.agents", "--processes", "1", "--threads", str(threads)],
        cwd=ROOT, env={**os.environ, **WORKER_ENV, "RUN_FINISHED_LOG": str(events)}, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@contextmanager
def worker(events: Path, threads: int = 2) -> Iterator[subprocess.Popen]:
    process = start_worker(events, threads)
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                kill_9(process)


async def assert_ended(events: Path, run_id, status: str, *, charged: int, previous: str) -> dict:
    """The run ended as ``status`` with ``charged`` credits, the rest of its hold refunded, and one
    run_finished said so (the worker writes its line just after its commit: wait for it, then make sure
    no second one follows)."""
    row = await wait_for_status(run_id, (status,), timeout=30)
    assert (row["credits_charged"], row["credits_refunded"]) == (charged, row["credits_reserved"] - charged), row
    for _ in range(100):
        if any(e["run"] == str(run_id) for e in probe.read(events)):
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)
    mine = [(e["status"], e["previous_status"]) for e in probe.read(events) if e["run"] == str(run_id)]
    assert mine == [(status, previous)], mine
    await assert_books_balance(row["workspace"])
    return row


async def start(client, person, body: dict) -> dict:
    response = await client.post(API, json=body, headers=person.bearer)
    assert response.status_code == 202, response.text
    return response.json()


async def test_the_runner_ends_runs_completed_partial_failed_and_timed_out(client, factory, events, checked_site):
    team = await factory.team()
    await factory.credits("acme", 100)
    url = checked_site
    completed = await start(client, team.member, {"agent": "noop", "inputs": {}, "scope": 3})
    partial = await start(client, team.member, {"agent": "url-check", "inputs": {"urls": [f"{url}/ok", f"{url}/missing"]}})
    failed = await start(client, team.member, {"agent": "url-check", "inputs": {"urls": [f"{url}/missing", f"{url}/boom"]}})
    scope = await resolve_scope("acme", team.member.id)
    async with atomic():  # no built-in agent stops within seconds: this run's own limit is one second
        slow = await launch.start(scope, launch.Request("url-check", {"urls": [f"{url}/slow?ms=10000&n={n}"
                                                                               for n in range(3)]}))
        await fetch("UPDATE executions SET time_limit_seconds = 1 WHERE id = {}", slow["id"])
    with worker(events):
        await assert_ended(events, completed["id"], states.COMPLETED, charged=3, previous=states.RUNNING)
        await assert_ended(events, partial["id"], states.PARTIAL, charged=pricing.price(1, 1, 1),
                           previous=states.RUNNING)
        await assert_ended(events, failed["id"], states.FAILED, charged=0, previous=states.RUNNING)
        timed_out = await assert_ended(events, slow["id"], states.TIMED_OUT, charged=1, previous=states.RUNNING)
    assert timed_out["items_processed"] == 0 and timed_out["credits_reserved"] == 4  # base only: nothing checked
    assert {e["pid"] for e in probe.read(events)} != {os.getpid()}  # the worker emitted them, not this process


async def test_a_cancel_ends_a_queued_run_now_and_a_running_one_through_its_worker(client, factory, events,
                                                                                    checked_site):
    team = await factory.team()
    await factory.credits("acme", 100)
    queued = await start(client, team.member, {"agent": "noop", "inputs": {}, "scope": 4})
    canceled = await client.post(f"{API}/{queued['id']}/cancel", headers=team.member.bearer)
    assert canceled.status_code == 200 and canceled.json()["status"] == states.CANCELED
    await assert_ended(events, queued["id"], states.CANCELED, charged=0, previous=states.QUEUED)
    urls = [f"{checked_site}/slow?ms=10000&c={n}" for n in range(10)]
    with worker(events):
        running = await start(client, team.member, {"agent": "url-check", "inputs": {"urls": urls}})
        await wait_for_status(running["id"], (states.RUNNING,), timeout=20)
        asked = await client.post(f"{API}/{running['id']}/cancel", headers=team.member.bearer)
        assert asked.status_code == 200 and asked.json()["status"] == states.RUNNING  # the worker stops it
        await assert_ended(events, running["id"], states.CANCELED, charged=0, previous=states.RUNNING)
    assert [e["run"] for e in probe.read(events)] == [queued["id"], running["id"]]  # the noop never ran


async def test_the_rescue_fails_a_dead_workers_run_and_cancels_one_canceled_meanwhile(client, factory, events,
                                                                                       override_settings,
                                                                                       checked_site):
    override_settings(RUN_STALE_SECONDS="1", RUN_MAX_ATTEMPTS="1")
    team = await factory.team()
    await factory.credits("acme", 100)
    urls = [f"{checked_site}/slow?ms=10000&r={n}" for n in range(3)]
    lost = await start(client, team.member, {"agent": "url-check", "inputs": {"urls": urls}})
    canceled = await start(client, team.member, {"agent": "url-check", "inputs": {"urls": [f"{u}&x" for u in urls]}})
    process = start_worker(events)
    try:
        await wait_for_status(lost["id"], (states.RUNNING,), timeout=20)
        await wait_for_status(canceled["id"], (states.RUNNING,), timeout=20)
    finally:
        kill_9(process)
    asked = await client.post(f"{API}/{canceled['id']}/cancel", headers=team.member.bearer)
    assert asked.status_code == 200 and asked.json()["status_note"] == "canceling…"  # nobody there to stop it
    await asyncio.sleep(1.3)  # the heartbeats go stale
    assert await reap_stale_runs.run_here() == {"requeued": 0, "failed": 1, "canceled": 1, "review_expired": 0,
                                                "resent": 0}
    failed = await assert_ended(events, lost["id"], states.FAILED, charged=0, previous=states.RUNNING)
    assert "stopped responding 1 times" in failed["error_message"]
    await assert_ended(events, canceled["id"], states.CANCELED, charged=0, previous=states.RUNNING)
    assert await reap_stale_runs.run_here() == {"requeued": 0, "failed": 0, "canceled": 0, "review_expired": 0,
                                                "resent": 0}
    assert len(probe.read(events)) == 2


async def test_a_review_nobody_decides_is_canceled_by_the_rescue_charging_what_was_done(client, factory, events):
    team = await factory.team()
    await factory.credits("acme", 100)
    run = await start(client, team.member, {"agent": "test-review", "inputs": {}})
    with worker(events):
        waiting = await wait_for_status(run["id"], (states.AWAITING_REVIEW,), timeout=20)
    assert waiting["items_processed"] == 0 and probe.read(events) == []  # waiting is not an end
    assert (await reap_stale_runs.run_here())["review_expired"] == 0  # a fresh review waits
    await fetch("UPDATE execution_reviews SET created_at = {} WHERE execution = {}", now() - timedelta(hours=169),
                run["id"])
    assert (await reap_stale_runs.run_here())["review_expired"] == 1
    row = await assert_ended(events, run["id"], states.CANCELED, charged=2, previous=states.AWAITING_REVIEW)
    assert (row["items_processed"], row["credits_reserved"]) == (1, 2)  # base + the item written before the review
    steps = await fetch("SELECT status FROM execution_steps WHERE execution = {} ORDER BY position", run["id"])
    assert [s["status"] for s in steps] == ["succeeded", "skipped"]  # the undecided review ended with its run


async def test_a_scheduled_run_that_cannot_start_is_ended_through_finish(factory, events):
    team = await factory.team()
    await factory.credits("acme", 2)  # the run needs 3
    async with atomic():
        schedule = await scheduling.create(await resolve_scope("acme", team.member.id), name="Nightly noop",
                                           agent="noop", inputs={}, scope=3, cron="0 3 * * *", mode="live")
    await Schedule.update({Schedule.next_run_at: now() - timedelta(seconds=1)}).where(Schedule.id == schedule["id"])
    assert await scheduling.fire_due() == {"fired": 1}
    rows = await fetch("SELECT id FROM executions WHERE schedule = {}", schedule["id"])
    row = await assert_ended(events, rows[0]["id"], states.FAILED, charged=0, previous=states.QUEUED)
    assert row["credits_reserved"] == 0 and "insufficient credits: need 3, have 2" in row["error_message"]
