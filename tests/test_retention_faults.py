"""Retention's faults, each for real: storage that cannot be reached, a pack that reads back different
(overwritten in moto between the write and the check), a worker killed with SIGKILL between write, verify
and delete, and restores of a missing or damaged document. Every time: nothing is lost, nothing is both."""

from __future__ import annotations

import asyncio
import os
from datetime import timedelta
from pathlib import Path

import pytest

from agentledger.platform import failpoints, storage
from agentledger.platform.broker import enqueue
from agentledger.platform.clock import now
from agentledger.platform.database import atomic, fetch
from agentledger.platform.retention import passes
from agentledger.platform.retention.tasks import restore_run, retention_pass
from tests.support import agents  # noqa: F401 - registers the test agents
from tests.support.processes import kill_9, start_worker
from tests.test_exports import API, export, finished_run
from tests.test_retention import children


async def old_run(factory, days=400):
    team, workspace_id, run_id = await finished_run(factory)
    async with atomic():
        await fetch("UPDATE executions SET finished_at = {} WHERE id = {}", now() - timedelta(days=days), run_id)
    return team, workspace_id, run_id


async def state(run_id) -> tuple[bool, dict[str, int]]:
    archived = (await fetch("SELECT archived_at IS NOT NULL AS a FROM executions WHERE id = {}", run_id))[0]["a"]
    return archived, await children(run_id)


WHOLE = {"execution_steps": 1, "execution_items": 1, "execution_logs": 0, "execution_reviews": 0,
         "execution_results": 8, "result_revisions": 1}  # what ``finished_run`` leaves
GONE = dict.fromkeys(WHOLE, 0)


async def alerts(client, team) -> list[str]:
    return [a["kind"] for a in (await client.get(f"{API}/retention", headers=team.admin.bearer)).json()["alerts"]]


async def test_storage_that_cannot_be_reached_deletes_nothing_and_tells_the_admins(client, factory, override_settings):
    team, workspace_id, run_id = await old_run(factory)
    real = os.environ["S3_ENDPOINT_URL"]
    override_settings(S3_ENDPOINT_URL="http://127.0.0.1:9")  # nothing listens there
    storage._client.cache_clear()
    try:
        report = await passes.run_pass(workspace_id)
    finally:
        override_settings(S3_ENDPOINT_URL=real)
        storage._client.cache_clear()
    assert report.archived == {} and "cannot be reached" in report.errors["acme"]
    assert await state(run_id) == (False, WHOLE)
    assert await alerts(client, team) == ["storage_unavailable"]
    assert (await passes.run_pass(workspace_id)).archived == {"acme": 1}  # later, it goes through
    assert await state(run_id) == (True, GONE)


async def test_a_pack_that_reads_back_different_deletes_nothing(client, factory, monkeypatch):
    team, workspace_id, run_id = await old_run(factory)
    before = (await export(client, team.member, run_id, "json")).json()

    def tamper(name: str) -> None:
        if name == "archive.written":  # someone (or a disk) changes the object between write and check
            client_ = storage._client()
            found = client_.list_objects_v2(Bucket=storage.bucket(), Prefix=f"workspaces/{workspace_id}/archive/")
            for item in found["Contents"]:
                client_.put_object(Bucket=storage.bucket(), Key=item["Key"], Body=b"not what was written")

    monkeypatch.setattr(failpoints, "reach", tamper)
    report = await passes.run_pass(workspace_id)
    assert report.archived == {} and "read back different" in report.errors["acme"]
    assert await state(run_id) == (False, WHOLE)
    after = (await export(client, team.member, run_id, "json")).json()
    # the same record; only its files went, by their own (90-day) retention, and the run says when
    assert before["files_removed_at"] is None and after.pop("files_removed_at") is not None
    assert after == {k: v for k, v in before.items() if k != "files_removed_at"}
    assert await alerts(client, team) == ["checksum_mismatch"]

    # the pass after writes a new pack; the damaged one, which nothing points at, is swept a day later
    monkeypatch.setattr(failpoints, "reach", lambda name: None)
    prefix = f"workspaces/{workspace_id}/archive/"
    [damaged] = [o["Key"] for o in storage._client().list_objects_v2(Bucket=storage.bucket(), Prefix=prefix)["Contents"]]
    assert (await passes.run_pass(workspace_id)).archived == {"acme": 1}
    kept = (await fetch("SELECT archive_key FROM executions WHERE id = {}", run_id))[0]["archive_key"]
    assert (await passes.run_pass(workspace_id)).packs_swept == 0  # not a day old yet
    report = await passes.run_pass(workspace_id, moment=now() + timedelta(days=2))
    assert report.packs_swept == 1
    left = [o["Key"] for o in storage._client().list_objects_v2(Bucket=storage.bucket(), Prefix=prefix)["Contents"]]
    assert left == [kept] and damaged != kept


@pytest.mark.parametrize("point", ["archive.written", "archive.verified", "archive.deleted"])
async def test_a_worker_killed_mid_pass_leaves_each_run_hot_or_archived_never_neither(client, factory, tmp_path, point):
    team, workspace_id, run_id = await old_run(factory)
    before = (await export(client, team.member, run_id, "json")).json()
    marker = Path(tmp_path) / "reached"
    process = start_worker(env={"AGENTLEDGER_FAILPOINTS": point, "AGENTLEDGER_FAILPOINT_MARKER": str(marker)})
    try:
        enqueue(retention_pass)
        for _ in range(600):
            if marker.exists():
                break
            await asyncio.sleep(0.1)
        assert marker.read_text() == point, "the worker never reached the point"
    finally:
        kill_9(process)
    await asyncio.sleep(0.5)  # PostgreSQL notices the closed connection and rolls its transaction back
    for _ in range(50):
        locks = await fetch("SELECT count(*) AS n FROM pg_stat_activity WHERE state LIKE 'idle in transaction%'")
        if not locks[0]["n"]:
            break
        await asyncio.sleep(0.1)
    # still hot and whole: the same record as before
    assert await state(run_id) == (False, WHOLE)
    assert (await export(client, team.member, run_id, "json")).json() == before
    # the next pass archives it, verified
    assert (await passes.run_pass(workspace_id)).archived == {"acme": 1}
    assert await state(run_id) == (True, GONE)


async def test_restoring_a_missing_or_damaged_document_fails_clearly_and_keeps_the_tombstone(client, factory):
    team, workspace_id, run_id = await old_run(factory)
    tomb = (await client.post(f"{API}/executions/{run_id}/archive", headers=team.admin.bearer)).json()
    client_ = storage._client()
    client_.put_object(Bucket=storage.bucket(), Key=tomb["key"], Body=b"\x1f\x8b damaged")
    asked = (await client.post(f"{API}/executions/{run_id}/restore", headers=team.admin.bearer)).json()
    assert asked["status"] == "approved"  # an admin's own request starts at once
    assert await restore_run.run_here(asked["id"]) == "failed"
    shown = (await client.get(f"{API}/executions/{run_id}/restore", headers=team.admin.bearer)).json()
    assert shown["status"] == "failed" and "damaged" in shown["error"]
    assert await state(run_id) == (True, GONE)
    client_.delete_object(Bucket=storage.bucket(), Key=tomb["key"])
    again = (await client.post(f"{API}/executions/{run_id}/restore", headers=team.admin.bearer)).json()
    assert await restore_run.run_here(again["id"]) == "failed"
    shown = (await client.get(f"{API}/executions/{run_id}/restore", headers=team.admin.bearer)).json()
    assert "missing" in shown["error"]
    read = (await client.get(f"{API}/executions/{run_id}", headers=team.member.bearer)).json()
    assert read["archive"]["sha256"] == tomb["sha256"] and read["actions"] == ["restore"]
    mail = await fetch("SELECT subject FROM email_outbox WHERE kind = 'run_restored' ORDER BY created_at")
    assert [m["subject"] for m in mail] == ["Your test-results run could not be restored"] * 2
    assert await alerts(client, team) == ["restore_failed"]


async def test_archive_now_that_reads_back_different_is_a_409_an_alert_and_nothing_deleted(client, factory, monkeypatch):
    team, workspace_id, run_id = await finished_run(factory)

    def tamper(name: str) -> None:
        if name == "archive.written":
            client_ = storage._client()
            found = client_.list_objects_v2(Bucket=storage.bucket(), Prefix=f"workspaces/{workspace_id}/archive/")
            for item in found["Contents"]:
                client_.put_object(Bucket=storage.bucket(), Key=item["Key"], Body=b"not what was written")

    monkeypatch.setattr(failpoints, "reach", tamper)
    refused = await client.post(f"{API}/executions/{run_id}/archive", headers=team.admin.bearer)
    assert refused.status_code == 409 and "nothing was deleted" in refused.json()["message"]
    assert await state(run_id) == (False, WHOLE)
    assert await alerts(client, team) == ["checksum_mismatch"]


async def test_a_real_worker_restores_what_an_admin_asked_for(client, factory):
    team, _, run_id = await old_run(factory)
    await client.post(f"{API}/executions/{run_id}/archive", headers=team.admin.bearer)
    process = start_worker()
    try:
        asked = await client.post(f"{API}/executions/{run_id}/restore", headers=team.admin.bearer)
        assert asked.status_code == 202 and asked.json()["status"] == "approved"
        for _ in range(300):
            shown = (await client.get(f"{API}/executions/{run_id}/restore", headers=team.admin.bearer)).json()
            if shown["status"] != "approved":
                break
            await asyncio.sleep(0.1)
    finally:
        kill_9(process)
    assert shown["status"] == "done"
    assert await state(run_id) == (False, WHOLE)


async def test_an_approved_restore_whose_job_never_finished_is_started_again_by_a_pass(client, factory):
    team, workspace_id, run_id = await old_run(factory)
    await client.post(f"{API}/executions/{run_id}/archive", headers=team.admin.bearer)
    asked = (await client.post(f"{API}/executions/{run_id}/restore", headers=team.admin.bearer)).json()
    assert (await passes.run_pass()).restores_restarted == 0  # its job has had no time yet
    from agentledger.platform.broker import broker

    broker.flush("default")  # its job is lost (say storage stayed down past its retries)
    later = await passes.run_pass(moment=now() + timedelta(hours=2))
    assert later.restores_restarted == 1
    process = start_worker()
    try:
        for _ in range(300):
            shown = (await client.get(f"{API}/executions/{run_id}/restore", headers=team.admin.bearer)).json()
            if shown["status"] == "done":
                break
            await asyncio.sleep(0.1)
    finally:
        kill_9(process)
    assert shown["id"] == asked["id"] and shown["status"] == "done"
    assert await state(run_id) == (False, WHOLE)


async def test_storage_that_answers_too_slowly_deletes_nothing(client, factory, override_settings):
    import socket
    import threading

    team, workspace_id, run_id = await old_run(factory)
    silent = socket.create_server(("127.0.0.1", 0))  # accepts, then never says a word
    held: list[socket.socket] = []
    threading.Thread(target=lambda: [held.append(silent.accept()[0]) for _ in range(20)], daemon=True).start()
    real = os.environ["S3_ENDPOINT_URL"]
    override_settings(S3_ENDPOINT_URL=f"http://127.0.0.1:{silent.getsockname()[1]}", S3_TIMEOUT_SECONDS="0.3")
    storage._client.cache_clear()
    try:
        report = await passes.run_pass(workspace_id)
    finally:
        os.environ.pop("S3_TIMEOUT_SECONDS", None)
        override_settings(S3_ENDPOINT_URL=real)  # and the settings read afresh
        storage._client.cache_clear()
        silent.close()
        for conn in held:
            conn.close()
    assert report.archived == {} and "cannot be reached" in report.errors["acme"]
    assert await state(run_id) == (False, WHOLE)
    assert await alerts(client, team) == ["storage_unavailable"]
