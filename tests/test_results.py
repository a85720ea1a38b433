"""Results as records: every kind through the SDK and the API, approve/reject one or many, content
edits as revisions, action items ticked off, artifact downloads, and review steps that release the
worker and resume on a decision."""

from __future__ import annotations

from agentledger.agents import launch, runner
from agentledger.notifications.tables import EmailOutbox
from agentledger.platform.database import atomic
from agentledger.platform.executions import states
from agentledger.platform.executions.tables import Execution, ExecutionStep
from agentledger.platform.scoping import resolve_scope
from tests.support import agents  # noqa: F401 - registers the test agents
from tests.support.books import assert_books_balance

API = "/api/v1/workspaces/acme"


async def finished_run(factory, agent="test-results", inputs=None, mode="live", person="member"):
    team = await factory.team()
    await factory.credits("acme", 100)
    who = getattr(team, person)
    async with atomic():
        run = await launch.start(await resolve_scope("acme", who.id), launch.Request(agent, inputs or {}, mode=mode))
    await runner.run_execution(run["id"])
    return team, run["id"]


async def results(client, person, run_id, **params):
    response = await client.get(f"{API}/executions/{run_id}/results", params=params, headers=person.bearer)
    assert response.status_code == 200, response.text
    return response.json()


async def test_every_kind_is_listed_with_its_own_fields(client, factory):
    team, run_id = await finished_run(factory)
    page = await results(client, team.member, run_id)
    assert page["next_cursor"] is None
    kinds = [r["kind"] for r in page["items"]]
    assert kinds == ["recommendation", "recommendation", "report", "score", "content", "action_item", "extracted",
                     "artifact"]
    rec, _, report, score, content, action, extracted, artifact = page["items"]
    assert rec["target"].endswith("/about") and rec["field"] == "title" and rec["before"] is None
    assert (rec["after"], rec["priority"], rec["status"]) == ("About Northwind Outfitters", "high", "open")
    assert "text" not in rec and "value" not in rec
    assert report["title"] == "Site report" and report["sections"][0]["tables"][0]["rows"] == [["/", 200]]
    assert (score["name"], score["value"], score["scale"]) == ("SEO score", 72, 100) and score["explanation"]
    assert (content["text"], content["version"], content["status"]) == ("A sturdy pack.", 1, "open")
    assert action["done"] is False and action["detail"] == "It points to /gone."
    assert extracted["data"] == {"count": 1}
    assert artifact["size"] == len(b"page,status\n/,200\n") and artifact["content_type"] == "text/csv"
    download = await client.get(artifact["download_url"], headers=team.member.bearer)
    assert download.status_code == 200 and download.content == b"page,status\n/,200\n"
    assert "attachment" in download.headers["content-disposition"]
    only = await results(client, team.member, run_id, kind="recommendation", priority="low")
    assert [r["field"] for r in only["items"]] == ["meta_description"]


async def test_pages_of_results_follow_the_cursor(client, factory):
    team, run_id = await finished_run(factory)
    first = await results(client, team.member, run_id, limit=5)
    second = await results(client, team.member, run_id, limit=5, cursor=first["next_cursor"])
    assert len(first["items"]) == 5 and len(second["items"]) == 3 and second["next_cursor"] is None
    assert {r["id"] for r in first["items"]}.isdisjoint({r["id"] for r in second["items"]})
    bad = await client.get(f"{API}/executions/{run_id}/results?kind=poem", headers=team.member.bearer)
    assert bad.status_code == 422 and "kind" in bad.text


async def test_a_failed_run_keeps_what_it_found(client, factory):
    team, run_id = await finished_run(factory, inputs={"fail_after_results": True})
    row = await Execution.select().where(Execution.id == run_id).first()
    assert row["status"] == states.FAILED and row["credits_refunded"] == row["credits_reserved"]
    assert len((await results(client, team.member, run_id))["items"]) == 8


async def test_approve_and_reject_one_or_many(client, factory):
    team, run_id = await finished_run(factory)
    recs = (await results(client, team.member, run_id, kind="recommendation"))["items"]
    one = await client.post(f"{API}/results/{recs[0]['id']}/approve", headers=team.member.bearer)
    assert one.status_code == 200 and one.json()["status"] == "approved"
    assert one.json()["decided_by"] == str(team.member.id) and one.json()["decided_at"]
    many = await client.post(f"{API}/executions/{run_id}/results/reject", headers=team.member.bearer,
                             json={"result_ids": [r["id"] for r in recs]})
    assert many.status_code == 200 and [r["status"] for r in many.json()["items"]] == ["rejected", "rejected"]
    score = (await results(client, team.member, run_id, kind="score"))["items"][0]
    refused = await client.post(f"{API}/results/{score['id']}/approve", headers=team.member.bearer)
    assert refused.status_code == 409 and "score" in refused.json()["message"]
    empty = await client.post(f"{API}/executions/{run_id}/results/approve", headers=team.member.bearer,
                              json={"result_ids": []})
    assert empty.status_code == 422 and empty.json()["field"] == "result_ids"
    outsider = await client.post(f"{API}/results/{recs[0]['id']}/approve", headers=team.outsider.bearer)
    assert outsider.status_code == 404


async def test_content_edits_are_versioned_and_action_items_tick_off(client, factory):
    team, run_id = await finished_run(factory)
    content = (await results(client, team.member, run_id, kind="content"))["items"][0]
    edited = await client.patch(f"{API}/results/{content['id']}", json={"text": "A sturdy, roomy pack."},
                                headers=team.member.bearer)
    assert edited.status_code == 200 and edited.json()["version"] == 2
    assert [(r["version"], r["text"]) for r in edited.json()["revisions"]] == [
        (1, "A sturdy pack."), (2, "A sturdy, roomy pack.")]
    assert edited.json()["revisions"][0]["edited_by"] is None
    assert edited.json()["revisions"][1]["edited_by"] == str(team.member.id)
    blank = await client.patch(f"{API}/results/{content['id']}", json={"text": "  "}, headers=team.member.bearer)
    assert blank.status_code == 422
    action = (await results(client, team.member, run_id, kind="action_item"))["items"][0]
    done = await client.patch(f"{API}/results/{action['id']}", json={"done": True}, headers=team.member.bearer)
    assert done.status_code == 200 and done.json()["done"] is True
    wrong = await client.patch(f"{API}/results/{action['id']}", json={"text": "x"}, headers=team.member.bearer)
    assert wrong.status_code == 409


async def test_a_retried_step_does_not_duplicate_results(factory):
    """A re-queued attempt emitting the same results in the same step adds no copies."""
    from agentledger.agents.context import RunContext
    from agentledger.platform.results.tables import ExecutionResult

    team = await factory.team()
    workspace_id = await factory.credits("acme", 10)
    async with atomic():
        run = await launch.start(await resolve_scope("acme", team.member.id), launch.Request("noop", {}))
    for attempt in (1, 2):
        ctx = RunContext(run["id"], workspace_id, "live", 1, attempt)
        async with ctx.step("find"):
            ctx.recommend("http://x/a", "title", before="A", after="B", reason="short")
            ctx.recommend("http://x/a", "title", before="A", after="B", reason="short")  # twice in one step: kept
            ctx.score("SEO score", 50, explanation="half")
    assert await ExecutionResult.count().where(ExecutionResult.execution == run["id"]) == 3


async def test_a_review_step_waits_without_a_worker_and_resumes_on_approval(client, factory):
    team, run_id = await finished_run(factory, agent="test-review")
    row = await Execution.select().where(Execution.id == run_id).first()
    assert row["status"] == states.AWAITING_REVIEW and row["heartbeat_at"] is None
    mails = await EmailOutbox.select().where(EmailOutbox.kind == "review_requested")
    assert [m["to_email"] for m in mails] == [team.member.email] and "Check the copy" in mails[0]["subject"]
    assert f"/w/acme/executions/{run_id}" in mails[0]["body_text"]
    decided = await client.post(f"{API}/executions/{run_id}/review", headers=team.member.bearer,
                                json={"decision": "approve", "comment": "ship it"})
    assert decided.status_code == 200 and decided.json()["status"] == "queued"
    again = await client.post(f"{API}/executions/{run_id}/review", headers=team.member.bearer,
                              json={"decision": "approve"})
    assert again.status_code == 409
    assert await runner.run_execution(run_id) == states.COMPLETED
    steps = await ExecutionStep.select().where(ExecutionStep.execution == run_id).order_by(
        ExecutionStep.position).output(load_json=True)
    assert [(s["name"], s["status"]) for s in steps] == [
        ("write", "succeeded"), ("Check the copy", "succeeded"), ("publish", "succeeded")]
    assert steps[2]["output"] == {"comment": "ship it", "by": "Max Member"}
    assert steps[1]["output"]["decided_by"] == "Max Member"  # the review step names who decided
    content = (await results(client, team.member, run_id, kind="content"))["items"]
    assert [c["status"] for c in content] == ["approved"]
    final = await Execution.select().where(Execution.id == run_id).first()
    assert (final["items_processed"], final["credits_charged"]) == (1, 2)
    await assert_books_balance(final["workspace"])


async def test_a_rejected_review_completes_the_run_and_skips_the_rest(client, factory):
    team, run_id = await finished_run(factory, agent="test-review")
    decided = await client.post(f"{API}/executions/{run_id}/review", headers=team.admin.bearer,
                                json={"decision": "reject", "comment": "too bland"})
    assert decided.status_code == 200
    assert await runner.run_execution(run_id) == states.COMPLETED
    steps = await ExecutionStep.select().where(ExecutionStep.execution == run_id).order_by(
        ExecutionStep.position).output(load_json=True)
    assert [(s["name"], s["status"]) for s in steps] == [
        ("write", "succeeded"), ("Check the copy", "rejected"), ("publish", "skipped")]
    assert steps[2]["output"] == {"reason": "the review rejected the copy"}


async def test_canceling_a_run_that_waits_for_review_ends_it_now(client, factory):
    team, run_id = await finished_run(factory, agent="test-review")
    canceled = await client.post(f"{API}/executions/{run_id}/cancel", headers=team.member.bearer)
    assert canceled.status_code == 200 and canceled.json()["status"] == "canceled"
    assert canceled.json()["credits_charged"] == 2  # base + the one item written before the review
    late = await client.post(f"{API}/executions/{run_id}/review", headers=team.member.bearer,
                             json={"decision": "approve"})
    assert late.status_code == 409
    from agentledger.platform.executions import reviews

    assert await reviews.pending(run_id) is None  # the run page offers no decision any more
    read = (await client.get(f"{API}/executions/{run_id}", headers=team.member.bearer)).json()
    assert [s["status"] for s in read["steps"]][-1] == "skipped"  # the review step is not left "waiting"


async def test_without_file_storage_a_run_keeps_its_results_and_says_why_a_file_is_missing(factory, override_settings):
    override_settings(S3_BUCKET="")
    from agentledger.platform.executions.tables import ExecutionLog
    from agentledger.platform.results.tables import ExecutionResult

    team, run_id = await finished_run(factory)
    row = await Execution.select().where(Execution.id == run_id).first()
    assert row["status"] == states.COMPLETED
    kinds = {r["kind"] for r in await ExecutionResult.select(ExecutionResult.kind).where(
        ExecutionResult.execution == run_id)}
    assert "artifact" not in kinds and "report" in kinds
    logs = [entry["message"] for entry in await ExecutionLog.select().where(ExecutionLog.execution == run_id)]
    assert any("pages.csv was not kept: file storage is not configured" in m for m in logs)


async def test_connectors_cannot_point_into_internal_networks(client, factory, override_settings):
    team = await factory.team()
    api = f"{API}/connectors"
    body = {"name": "Metadata", "secret": "a-long-enough-secret"}
    metadata = await client.post(api, json={**body, "base_url": "http://169.254.169.254"}, headers=team.admin.bearer)
    assert metadata.status_code == 422 and metadata.json()["field"] == "base_url"
    assert "may not reach" in metadata.json()["message"]
    short = await client.post(api, json={**body, "base_url": "https://shop.example", "secret": "abc"},
                              headers=team.admin.bearer)
    assert short.status_code == 422 and short.json()["field"] == "secret"
    override_settings(AGENT_ALLOW_PRIVATE_NETWORKS="false")
    loopback = await client.post(api, json={**body, "base_url": "http://127.0.0.1:8100"}, headers=team.admin.bearer)
    assert loopback.status_code == 422 and "may not reach" in loopback.json()["message"]


async def test_a_review_nobody_decides_is_canceled_after_the_timeout(factory):
    from datetime import timedelta

    from agentledger.agents.tasks import reap_stale_runs
    from agentledger.platform.clock import now
    from agentledger.platform.executions import reviews
    from agentledger.platform.executions.tables import ExecutionReview

    team, run_id = await finished_run(factory, agent="test-review")
    assert (await reap_stale_runs.run_here())["review_expired"] == 0  # a fresh review waits
    await ExecutionReview.update({ExecutionReview.created_at: now() - timedelta(hours=169)}).where(
        ExecutionReview.execution == run_id)
    assert (await reap_stale_runs.run_here())["review_expired"] == 1
    row = await Execution.select().where(Execution.id == run_id).first()
    assert row["status"] == states.CANCELED and "nobody reviewed it within 168 hours" in row["error_message"]
    assert (row["credits_charged"], row["credits_refunded"]) == (2, 0)  # base + the item written before
    assert await reviews.pending(run_id) is None
    await assert_books_balance(row["workspace"])


async def test_resuming_after_a_review_does_not_use_up_the_lost_worker_budget(client, factory):
    from datetime import timedelta

    from agentledger.agents.tasks import reap_stale_runs
    from agentledger.platform.clock import now

    team, run_id = await finished_run(factory, agent="test-review")
    await client.post(f"{API}/executions/{run_id}/review", headers=team.member.bearer, json={"decision": "approve"})
    # its worker claimed it (attempt 3 after two earlier claims) and then went silent
    await Execution.update({Execution.status: "running", Execution.attempts: 3,
                            Execution.heartbeat_at: now() - timedelta(minutes=5)}).where(Execution.id == run_id)
    assert (await reap_stale_runs.run_here())["requeued"] == 1
    row = await Execution.select().where(Execution.id == run_id).first()
    assert (row["status"], row["lost_workers"]) == ("queued", 1)


async def test_an_agent_cannot_swallow_its_review_and_carry_on(factory):
    team, run_id = await finished_run(factory, agent="test-sneaky-review")
    row = await Execution.select().where(Execution.id == run_id).first()
    assert row["status"] == states.AWAITING_REVIEW and row["items_processed"] == 0
    steps = await ExecutionStep.select(ExecutionStep.name).where(ExecutionStep.execution == run_id)
    assert [s["name"] for s in steps] == ["Check"]
