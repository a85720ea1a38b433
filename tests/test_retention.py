"""Retention: a finished run is archived to object storage (moto, in server mode) and comes back
byte-identical; the tombstone keeps it in the list; the ledger never moves."""

from __future__ import annotations

import gzip
import hashlib
import json
from datetime import timedelta

from agentledger.platform import storage
from agentledger.platform.clock import now
from agentledger.platform.database import atomic, fetch
from agentledger.platform.retention import passes
from agentledger.platform.retention.tasks import restore_run
from tests.support import agents  # noqa: F401 - registers the test agents
from tests.test_exports import API, export, finished_run

ARCHIVE_FIELDS = ("archived_at", "archive", "actions", "files_removed_at")


def without_archive_fields(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if k not in ARCHIVE_FIELDS}


async def ledger_of(run_id) -> list[dict]:
    return await fetch("SELECT id, amount, created_at FROM ledger_transfers WHERE execution = {} ORDER BY id", run_id)


async def children(run_id) -> dict[str, int]:
    """How many rows of each part of the run's record are in the hot tables."""
    counts = {}
    for table in ("execution_steps", "execution_items", "execution_logs", "execution_reviews", "execution_results",
                  "result_revisions"):
        counts[table] = (await fetch(f"SELECT count(*) AS n FROM {table} WHERE execution = {{}}", run_id))[0]["n"]
    return counts


async def archive(client, team, run_id):
    return await client.post(f"{API}/executions/{run_id}/archive", headers=team.admin.bearer)


WHOLE = {"execution_steps": 1, "execution_items": 1, "execution_logs": 1, "execution_reviews": 1,
         "execution_results": 8, "result_revisions": 1}
GONE = dict.fromkeys(WHOLE, 0)


async def test_archive_now_then_restore_gives_back_the_same_record(client, factory):
    team, workspace_id, run_id = await finished_run(factory)
    async with atomic():  # a log line and a decided review too: every part of a record goes and comes back
        await fetch("INSERT INTO execution_logs (execution, at, level, message) VALUES ({}, now(), 'info', "
                    "'Fetched /products in 212 ms: 200 OK')", run_id)
        await fetch("INSERT INTO execution_reviews (id, workspace, execution, step, title, status, decided_at) "
                    "VALUES (gen_random_uuid(), {}, {}, 1, 'Check the new titles', 'approved', now())",
                    workspace_id, run_id)
    before = (await export(client, team.member, run_id, "json")).json()
    ledger = await ledger_of(run_id)
    assert ledger and await children(run_id) == WHOLE

    response = await archive(client, team, run_id)
    assert response.status_code == 200, response.text
    tomb = response.json()
    assert tomb["key"].startswith(f"workspaces/{workspace_id}/archive/") and len(tomb["sha256"]) == 64
    # the record is gone from the hot tables, the ledger is not
    assert await children(run_id) == GONE
    assert await ledger_of(run_id) == ledger
    # the pack holds the whole record: gunzip gives the document
    data = await storage.get_range(tomb["key"], 0, tomb["size"])
    document = json.loads(gzip.decompress(data))
    assert document["format"] == "agentledger.execution-archive" and document["version"] == 1
    assert document["execution"]["inputs"] == before["inputs"] and before["inputs"]["site"] == "http://shop.example"
    assert [r["kind"] for r in document["results"]][-1] == "artifact" and document["files"][0]["key"]
    assert document["agent_version"]["source"] and len(document["steps"]) == 1

    # the list keeps it where it was, marked archived; its page says so; its actions are a restore only
    listed = (await client.get(f"{API}/executions", headers=team.member.bearer)).json()["items"]
    assert [(r["id"], r["archived_at"] is not None) for r in listed] == [(str(run_id), True)]
    read = (await client.get(f"{API}/executions/{run_id}", headers=team.member.bearer)).json()
    assert read["actions"] == ["restore"] and read["archive"]["sha256"] == tomb["sha256"]
    assert read["status"] == before["status"] and read["credits_charged"] == before["credits_charged"]
    # nothing changes an archived run
    results = await client.post(f"{API}/executions/{run_id}/rerun", headers=team.member.bearer)
    assert results.status_code == 409, results.text

    # the member asks, an admin approves, the job brings it back
    asked = await client.post(f"{API}/executions/{run_id}/restore", headers=team.member.bearer)
    assert asked.status_code == 202 and asked.json()["status"] == "pending", asked.text
    again = await client.post(f"{API}/executions/{run_id}/restore", headers=team.member.bearer)
    assert again.json()["id"] == asked.json()["id"]  # one open request per run
    pending = (await client.get(f"{API}/retention/requests", headers=team.admin.bearer)).json()["items"]
    assert [r["status"] for r in pending] == ["pending"]
    approved = await client.post(f"{API}/retention/requests/{asked.json()['id']}/approve", headers=team.admin.bearer)
    assert approved.status_code == 200 and approved.json()["status"] == "approved", approved.text
    assert await restore_run.run_here(asked.json()["id"]) == "done"

    after = (await export(client, team.member, run_id, "json")).json()
    assert without_archive_fields(after) == without_archive_fields(before)
    assert await children(run_id) == WHOLE
    assert after["archived_at"] is None and after["actions"] == before["actions"]
    assert await ledger_of(run_id) == ledger
    state = (await client.get(f"{API}/executions/{run_id}/restore", headers=team.member.bearer)).json()
    assert state["status"] == "done"
    mail = await fetch("SELECT to_email, subject FROM email_outbox WHERE kind = 'run_restored'")
    assert mail == [{"to_email": team.member.email, "subject": "Your test-results run is back"}]


async def test_a_run_archived_before_revisions_had_their_run_comes_back_whole(client, factory):
    """Documents written before revisions carried their run's id (``platform_2026_12_05t14_00``) have
    revision rows without ``execution``: the restore gives every row of the record its run."""
    team, workspace_id, run_id = await finished_run(factory)
    before, whole = (await export(client, team.member, run_id, "json")).json(), await children(run_id)
    assert whole["result_revisions"] == 1
    tomb = (await archive(client, team, run_id)).json()
    document = json.loads(gzip.decompress(await storage.get_range(tomb["key"], 0, tomb["size"])))
    assert [row["execution"] for row in document["revisions"]] == [str(run_id)]
    for row in document["revisions"]:
        del row["execution"]  # as such a document has them
    old = gzip.compress(json.dumps(document).encode() + b"\n")
    key = storage.workspace_key(workspace_id, "archive", "2026/11", "made-before-revisions-had-their-run.jsonl.gz")
    await storage.put(key, old, "application/gzip")
    async with atomic():
        await fetch("UPDATE executions SET archive_key = {}, archive_offset = 0, archive_size = {}, archive_sha256 = {} "
                    "WHERE id = {}", key, len(old), hashlib.sha256(old).hexdigest(), run_id)

    asked = await client.post(f"{API}/executions/{run_id}/restore", headers=team.admin.bearer)
    assert asked.status_code == 202, asked.text
    assert await restore_run.run_here(asked.json()["id"]) == "done"
    assert await children(run_id) == whole
    after = (await export(client, team.member, run_id, "json")).json()
    assert without_archive_fields(after) == without_archive_fields(before)


async def test_a_pass_archives_what_the_policy_says_and_nothing_that_still_runs(client, factory):
    team, workspace_id, old = await finished_run(factory)
    recent = (await finished_run_again(team))
    async with atomic():  # the first run finished 400 days ago
        await fetch("UPDATE executions SET finished_at = {} WHERE id = {}", now() - timedelta(days=400), old)
    policy = (await client.get(f"{API}/retention", headers=team.admin.bearer)).json()
    assert (policy["completed_days"], policy["failed_days"], policy["due"]) == (365, 90, 1)
    report = await passes.run_pass(workspace_id)
    assert report.archived == {"acme": 1} and not report.errors
    rows = await fetch("SELECT id, archived_at IS NOT NULL AS archived FROM executions ORDER BY finished_at")
    assert [(r["id"], r["archived"]) for r in rows] == [(old, True), (recent, False)]
    again = await passes.run_pass(workspace_id)
    assert again.archived == {} and again.due == {"acme": 0}


async def finished_run_again(team):
    from agentledger.agents import runner
    from tests.test_exports import start

    run_id = await start(team)
    await runner.run_execution(run_id)
    return run_id


async def test_the_command_line_pass_dry_runs_then_archives_and_says_so(factory):
    import asyncio

    from tests.test_cli import run

    team, workspace_id, run_id = await finished_run(factory)
    async with atomic():
        await fetch("UPDATE executions SET status = 'failed', finished_at = {} WHERE id = {}",
                    now() - timedelta(days=100), run_id)  # failed runs go after 90 days
    dry = await asyncio.to_thread(run, "retention", "run", "--workspace", "acme", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "acme: 1 run due for archiving (dry run: nothing done)" in dry.stdout
    assert (await children(run_id))["execution_results"] == 8
    done = await asyncio.to_thread(run, "retention", "run", "--workspace", "acme")
    assert done.returncode == 0, done.stderr
    assert "acme: archived 1 of 1 due" in done.stdout and "1 runs archived" in done.stdout
    assert (await children(run_id))["execution_results"] == 0
    missing = await asyncio.to_thread(run, "retention", "run", "--workspace", "nope")
    assert missing.returncode != 0 and "nope" in (missing.stderr + missing.stdout)


async def test_batches_side_by_side_archive_every_due_run_exactly_once(client, factory, monkeypatch, override_settings):
    from agentledger.platform.retention import archiver

    team, workspace_id, first = await finished_run(factory)
    others = [await finished_run_again(team) for _ in range(4)]
    async with atomic():
        await fetch("UPDATE executions SET finished_at = now() - interval '400 days'")
    override_settings(RETENTION_CONCURRENCY="2")
    monkeypatch.setattr(archiver, "BATCH", 2)  # three batches for two workers
    report = await passes.run_pass(workspace_id)
    assert report.archived == {"acme": 5} and not report.errors
    rows = await fetch("SELECT id, archive_key, archive_offset FROM executions ORDER BY id")
    assert {r["id"] for r in rows} == {first, *others} and all(r["archive_key"] for r in rows)
    assert len({r["archive_key"] for r in rows}) == 3  # one pack a batch
    assert len({(r["archive_key"], r["archive_offset"]) for r in rows}) == 5


async def test_each_document_of_a_batch_holds_its_own_run_and_another_workspace_gets_none(factory):
    from uuid import uuid4

    from agentledger.platform.executions import archive_repository

    team, workspace_id, first = await finished_run(factory)
    second = await finished_run_again(team)
    async with atomic():
        assert await archive_repository.documents(uuid4(), [first, second]) == []
        found = await archive_repository.documents(workspace_id, [first, second])
    assert sorted(row["id"] for row in found) == sorted([first, second])
    for row in found:
        document = json.loads(row["document"])
        assert row["document"].endswith(b"}\n") and document["execution"]["id"] == str(row["id"])
        for part in ("steps", "items", "results"):
            assert document[part] and {r["execution"] for r in document[part]} == {str(row["id"])}, part
        assert {r["result"] for r in document["revisions"]} <= {r["id"] for r in document["results"]}
        assert document["revisions"] and row["files"] == len(document["files"]) == 1
        assert document["agent_version"]["id"] == document["execution"]["agent_version"]
