"""Archiving gives way to people being served: while the web tier (a real uvicorn, whose sessions carry
``database.WEB``) is answering requests, a pass runs one batch at a time held to one CPU, its own threads
and its local PostgreSQL session both; once the web tier is quiet, it runs side by side on every CPU."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import threading

import httpx
import pytest

from agentledger.platform.database import WEB, atomic, fetch
from agentledger.platform.executions import archive_repository
from agentledger.platform.retention import archiver, confinement, passes, repository
from tests.support import agents  # noqa: F401 - registers the test agents
from tests.support.processes import web_server
from tests.test_exports import finished_run
from tests.test_retention import finished_run_again

several_cpus = pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="holding to one CPU needs two")


def affinity(pid: int) -> set[int]:
    return set(os.sched_getaffinity(pid))


async def test_a_real_web_server_is_seen_serving_then_quiet():
    assert not await repository.web_serving(5.0)  # the tests' own sessions are not the web tier's
    with web_server() as base:
        async with httpx.AsyncClient() as http:
            assert (await http.get(f"{base}/readyz")).status_code == 200  # a statement on a web session
        assert await repository.web_serving(5.0)
        await asyncio.sleep(0.6)
        assert not await repository.web_serving(0.5)  # nothing asked of it for half a second


@several_cpus
def test_one_cpu_holds_every_thread_and_the_server_then_gives_back_what_they_had():
    every = affinity(0)
    server = subprocess.Popen(["sleep", "30"])  # stands in for a PostgreSQL backend
    os.sched_setaffinity(server.pid, {min(every)})  # its own CPUs, not the threads': those are what it gets back
    seen: dict[str, set[int]] = {}
    started = threading.Event()
    stop = threading.Event()

    def before() -> None:  # a thread that was running before the hold
        started.set()
        stop.wait(10)
        seen["before, after"] = affinity(threading.get_native_id())

    old = threading.Thread(target=before)
    old.start()
    started.wait(5)
    try:
        with confinement.one_cpu(server.pid) as held:
            assert held
            one = confinement.pass_cpu()
            assert affinity(0) == one and affinity(server.pid) == one and len(one) == 1
            assert affinity(old.native_id) == one
            new = threading.Thread(target=lambda: seen.setdefault("started inside", affinity(threading.get_native_id())))
            new.start()
            new.join()
        assert seen["started inside"] == one
        assert affinity(0) == every and affinity(server.pid) == {min(every)}
    finally:
        stop.set()
        old.join()
        server.kill()
        server.wait()
    assert seen["before, after"] == every


@several_cpus
def test_holds_that_overlap_give_the_threads_back_only_when_the_last_ends():
    every = affinity(0)
    servers = [subprocess.Popen(["sleep", "30"]) for _ in range(2)]
    try:
        first = confinement.one_cpu(servers[0].pid)
        assert first.__enter__()
        with confinement.one_cpu(servers[1].pid) as held:
            assert held and affinity(servers[1].pid) == confinement.pass_cpu()  # the second holds its own
            first.__exit__(None, None, None)
            assert affinity(0) == confinement.pass_cpu()  # still held: the second has not ended
            assert affinity(servers[0].pid) == every
        assert affinity(0) == every and affinity(servers[1].pid) == every
        with pytest.raises(RuntimeError), confinement.one_cpu():
            raise RuntimeError("a batch that fails")
        assert affinity(0) == every
    finally:
        for server in servers:
            server.kill()
            server.wait()


def test_only_this_databases_own_local_session_is_taken_for_the_server():
    assert not confinement.local_server(os.getpid(), True, "postgres", "db")  # not a PostgreSQL backend
    assert not confinement.local_server(os.getpid(), False, "postgres", "db")  # over TCP: maybe elsewhere


async def old_runs(factory, count: int):
    team, workspace_id, first = await finished_run(factory)
    others = [await finished_run_again(team) for _ in range(count - 1)]
    async with atomic():
        await fetch("UPDATE executions SET finished_at = now() - interval '400 days'")
    return workspace_id, [first, *others]


@contextlib.asynccontextmanager
async def web_tier_serving():
    """A web session (``database.WEB``) answering a request every 50 ms for as long as the block runs."""
    import asyncpg

    from agentledger.platform.database import db

    web = await asyncpg.connect(db().config["dsn"], server_settings={"application_name": WEB})
    stop = asyncio.Event()

    async def serve() -> None:
        while not stop.is_set():
            await web.fetchval("SELECT 1")
            await asyncio.sleep(0.05)

    serving = asyncio.create_task(serve())
    try:
        yield
    finally:
        stop.set()
        await serving
        await web.close()


def watch_batches(monkeypatch) -> list[dict]:
    """What each batch saw while it built its documents: this thread's CPUs and its session's."""
    seen: list[dict] = []
    real = archive_repository.documents

    async def documents(workspace_id, ids):
        pid = (await fetch("SELECT pg_backend_pid() AS pid"))[0]["pid"]  # the batch's transaction
        seen.append({"thread": affinity(0), "server": affinity(pid), "pid": pid})
        return await real(workspace_id, ids)

    monkeypatch.setattr(archive_repository, "documents", documents)
    return seen


@several_cpus
async def test_while_the_web_tier_serves_a_pass_runs_one_batch_at_a_time_on_one_cpu(factory, monkeypatch,
                                                                                    override_settings):
    workspace_id, runs = await old_runs(factory, 5)
    override_settings(RETENTION_CONCURRENCY="2")
    monkeypatch.setattr(archiver, "BATCH", 2)  # three batches
    seen = watch_batches(monkeypatch)
    every = affinity(0)
    async with web_tier_serving():
        report = await passes.run_pass(workspace_id)
    assert report.archived == {"acme": 5} and not report.errors
    assert report.yielded == 3
    one = confinement.pass_cpu()
    assert [s["thread"] for s in seen] == [one] * 3
    assert [s["server"] for s in seen] == [one] * 3  # the session's PostgreSQL process too (a local socket)
    assert affinity(0) == every and all(affinity(s["pid"]) == every for s in seen if s["pid"])  # given back
    archived = await fetch("SELECT count(*) AS n FROM executions WHERE archived_at IS NOT NULL")
    assert archived[0]["n"] == 5


@several_cpus
async def test_a_held_pass_counts_held_and_each_batch_stays_held_through_its_commit(factory, monkeypatch,
                                                                                  override_settings):
    """Counting the due runs reads every candidate, and a batch's commit writes out what it deleted: both
    are the pass's work, and while people are served neither may run on the web tier's CPU."""
    from agentledger.platform.database import on_commit

    workspace_id, runs = await old_runs(factory, 3)
    override_settings(RETENTION_CONCURRENCY="2")
    monkeypatch.setattr(archiver, "BATCH", 2)  # two batches
    counted, committed = [], []
    real_count, real_documents = archive_repository.count_due, archive_repository.documents

    async def count_due(*args):
        pid = (await fetch("SELECT pg_backend_pid() AS pid"))[0]["pid"]
        counted.append({"thread": affinity(0), "server": affinity(pid)})
        return await real_count(*args)

    async def documents(workspace_id, ids):
        pid = (await fetch("SELECT pg_backend_pid() AS pid"))[0]["pid"]
        # runs once the batch's transaction has committed, before anything after it
        on_commit(lambda: committed.append({"thread": affinity(0), "server": affinity(pid), "pid": pid}))
        return await real_documents(workspace_id, ids)

    monkeypatch.setattr(archive_repository, "count_due", count_due)
    monkeypatch.setattr(archive_repository, "documents", documents)
    every = affinity(0)
    async with web_tier_serving():
        report = await passes.run_pass(workspace_id)
    assert report.archived == {"acme": 3} and report.yielded == 2
    one = confinement.pass_cpu()
    assert counted == [{"thread": one, "server": one}]
    assert [(c["thread"], c["server"]) for c in committed] == [(one, one)] * 2
    assert affinity(0) == every and all(affinity(c["pid"]) == every for c in committed)  # given back after


@several_cpus
def test_a_server_held_again_before_its_first_hold_ends_gets_back_what_it_had_first():
    every = affinity(0)
    server = subprocess.Popen(["sleep", "30"])
    os.sched_setaffinity(server.pid, {min(every)})
    try:
        first = confinement.one_cpu(server.pid)
        assert first.__enter__()
        with confinement.one_cpu(server.pid):  # its next transaction, begun before the first hold ended
            first.__exit__(None, None, None)
            assert affinity(server.pid) == confinement.pass_cpu()  # still held by the second
        assert affinity(server.pid) == {min(every)}  # not the held CPU the second hold found it on
        assert affinity(0) == every
    finally:
        server.kill()
        server.wait()


async def test_with_nobody_served_a_pass_uses_every_cpu(factory, monkeypatch, override_settings):
    workspace_id, runs = await old_runs(factory, 3)
    override_settings(RETENTION_CONCURRENCY="2")
    monkeypatch.setattr(archiver, "BATCH", 2)
    seen = watch_batches(monkeypatch)
    every = affinity(0)
    report = await passes.run_pass(workspace_id)
    assert report.archived == {"acme": 3} and report.yielded == 0
    assert [s["thread"] for s in seen] == [every] * 2


@several_cpus
async def test_the_command_line_pass_says_when_it_gave_way_to_the_web_tier(factory):
    from tests.test_cli import run

    _, (first, second) = await old_runs(factory, 2)
    async with atomic():
        await fetch("UPDATE executions SET finished_at = now() WHERE id = {}", second)  # not due yet
    quiet = await asyncio.to_thread(run, "retention", "run", "--workspace", "acme")
    assert quiet.returncode == 0 and "acme: archived 1 of 1 due" in quiet.stdout, quiet.stdout
    assert "one CPU" not in quiet.stdout  # nobody was being served
    async with atomic():
        await fetch("UPDATE executions SET finished_at = now() - interval '400 days' WHERE id = {}", second)
    async with web_tier_serving():
        done = await asyncio.to_thread(run, "retention", "run", "--workspace", "acme")
    assert done.returncode == 0, done.stderr
    assert "acme: archived 1 of 1 due" in done.stdout
    assert "1 batch ran one at a time on one CPU while the web tier was serving" in done.stdout, done.stdout
