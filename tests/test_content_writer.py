"""content-writer against the demo shop: it writes copy for the thin products, waits for a review, and
publishes what people approved (their edits included) through the connector; a rejection, test mode,
a failing site, an unusable catalog and a failing language model each end the way a user expects."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit
from uuid import UUID

import httpx
import pytest
from markupsafe import escape

from agentledger.agents import launch, runner
from agentledger.agents.demo_site.catalog import PRODUCT_BY_ID, PRODUCT_BY_SLUG
from agentledger.agents.demo_site.planted import PLANTED
from agentledger.notifications.tables import EmailOutbox
from agentledger.platform.database import atomic
from agentledger.platform.executions import states
from agentledger.platform.executions.tables import Execution, ExecutionItem, ExecutionLog, ExecutionStep
from agentledger.platform.scoping import resolve_scope
from tests.support.books import assert_books_balance
from tests.support.openai_stub import openai_stub

API = "/api/v1/workspaces/acme"
THIN_IDS = [PRODUCT_BY_SLUG[e["path"].rsplit("/", 1)[-1]].id for e in PLANTED if e["kind"] == "thin_content"]



pytestmark = pytest.mark.usefixtures("clean_site")


def site_changes(site) -> list[dict]:
    response = httpx.get(f"{site.url}/api/changes", headers=site.auth)
    assert response.status_code == 200
    return response.json()["changes"]


async def start(factory, client, site, inputs: dict | None = None, *, scope: int = 5, mode: str = "live"):
    """Acme with credits and a connector for the shop; a member starts content-writer; it runs once."""
    team = await factory.team()
    workspace_id = await factory.credits("acme", 100)
    connector = await client.post(f"{API}/connectors", headers=team.admin.bearer,
                                  json={"name": "Northwind", "base_url": site.url, "secret": site.token})
    assert connector.status_code == 201, connector.text
    inputs = {"catalog_url": f"{site.url}/feeds/catalog.json", "product_ids": THIN_IDS} if inputs is None else inputs
    async with atomic():
        run = await launch.start(await resolve_scope("acme", team.member.id),
                                 launch.Request("content-writer", inputs, scope, mode))
    status = await runner.run_execution(run["id"])
    return team, workspace_id, run["id"], status


async def content_of(client, person, run_id) -> list[dict]:
    response = await client.get(f"{API}/executions/{run_id}/results", params={"kind": "content", "limit": 250},
                                headers=person.bearer)
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def decide(client, person, run_id, decision: str) -> None:
    response = await client.post(f"{API}/executions/{run_id}/review", headers=person.bearer,
                                 json={"decision": decision, "comment": "checked"})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == states.QUEUED


async def run_row(run_id) -> dict:
    return await Execution.select().where(Execution.id == run_id).first()


async def steps_of(run_id) -> list[tuple[str, str, object]]:
    rows = await ExecutionStep.select().where(ExecutionStep.execution == run_id).order_by(
        ExecutionStep.position).output(load_json=True)
    return [(s["name"], s["status"], s["output"]) for s in rows]


async def items_of(run_id) -> dict[str, tuple[str, str | None]]:
    rows = await ExecutionItem.select().where(ExecutionItem.execution == run_id)
    return {r["key"]: (r["status"], r["reason"]) for r in rows}


async def test_thin_products_get_reviewed_copy_that_is_published_on_the_shop(client, factory, site):
    team, workspace_id, run_id, status = await start(factory, client, site)
    assert status == states.AWAITING_REVIEW
    mails = await EmailOutbox.select().where(EmailOutbox.kind == "review_requested")
    assert [m["to_email"] for m in mails] == [team.member.email]
    assert "5 descriptions for" in mails[0]["body_text"]
    content = await content_of(client, team.member, run_id)
    assert len(content) == 10 and {c["status"] for c in content} == {"open"}
    by_field = {(c["target"], c["field"]): c for c in content}
    for product_id in THIN_IDS:
        product = PRODUCT_BY_ID[product_id]
        description = by_field[(f"{site.url}{product.path}", "description")]
        meta = by_field[(f"{site.url}{product.path}", "meta_description")]
        assert description["title"] == product.name
        assert product.name in description["text"] and product.material.lower() in description["text"].lower()
        assert 60 <= len(description["text"].split()) <= 120
        assert product.name in meta["text"] and len(meta["text"]) <= 155
        assert description["text"] != product.description
    assert site_changes(site) == []  # nothing is published before the review

    await decide(client, team.member, run_id, "approve")
    assert await runner.run_execution(run_id) == states.COMPLETED
    changes = site_changes(site)
    assert sorted((c["path"], c["field"], c["after"]) for c in changes) == sorted(
        (PRODUCT_BY_ID[pid].path, field, by_field[(f"{site.url}{PRODUCT_BY_ID[pid].path}", field)]["text"])
        for pid in THIN_IDS for field in ("description", "meta_description"))
    anorak = PRODUCT_BY_SLUG["stormbreak-anorak"]
    page = httpx.get(f"{site.url}{anorak.path}").text
    new_text = by_field[(f"{site.url}{anorak.path}", "description")]["text"]
    assert str(escape(new_text)) in page and anorak.description not in page
    assert {c["status"] for c in await content_of(client, team.member, run_id)} == {"applied"}
    assert [(name, status) for name, status, _ in await steps_of(run_id)] == [
        ("fetch catalog", "succeeded"), ("write", "succeeded"), ("Review the generated copy", "succeeded"),
        ("publish", "succeeded")]
    row = await run_row(run_id)
    assert (row["items_processed"], row["items_failed"], row["credits_charged"]) == (5, 0, 2 + 3 * 5)
    await assert_books_balance(workspace_id)


async def test_a_rejected_review_publishes_nothing(client, factory, site):
    team, _, run_id, _ = await start(factory, client, site)
    await decide(client, team.admin, run_id, "reject")
    assert await runner.run_execution(run_id) == states.COMPLETED
    steps = await steps_of(run_id)
    assert [(name, status) for name, status, _ in steps] == [
        ("fetch catalog", "succeeded"), ("write", "succeeded"), ("Review the generated copy", "rejected"),
        ("publish", "skipped")]
    assert steps[-1][2] == {"reason": "the review rejected the copy"}
    assert site_changes(site) == []
    assert {c["status"] for c in await content_of(client, team.member, run_id)} == {"rejected"}


async def test_test_mode_writes_and_reviews_but_never_publishes(client, factory, site):
    team, workspace_id, run_id, status = await start(factory, client, site, mode="test")
    assert status == states.AWAITING_REVIEW and len(await content_of(client, team.member, run_id)) == 10
    await decide(client, team.member, run_id, "approve")
    assert await runner.run_execution(run_id) == states.COMPLETED
    assert (await steps_of(run_id))[-1] == ("publish", "skipped", {"reason": "test mode: nothing is published"})
    assert site_changes(site) == []
    assert (await run_row(run_id))["credits_charged"] == 0
    await assert_books_balance(workspace_id)


async def test_edits_are_what_gets_published_and_rejected_texts_stay_off_the_site(client, factory, site):
    team, _, run_id, _ = await start(factory, client, site, scope=2)
    content = await content_of(client, team.member, run_id)
    assert len(content) == 4  # scope 2: the first two of the five thin products
    description, meta = content[0], next(c for c in content if c["field"] == "meta_description")
    edited_text = "Our own words for this product, edited by a person before it went out."
    edited = await client.patch(f"{API}/results/{description['id']}", json={"text": edited_text},
                                headers=team.member.bearer)
    assert edited.status_code == 200 and edited.json()["version"] == 2
    rejected = await client.post(f"{API}/results/{meta['id']}/reject", headers=team.member.bearer)
    assert rejected.status_code == 200
    await decide(client, team.member, run_id, "approve")
    assert await runner.run_execution(run_id) == states.COMPLETED
    changes = site_changes(site)
    assert len(changes) == 3
    edited_page = urlsplit(description["target"]).path
    assert {(c["field"], c["after"]) for c in changes if c["path"] == edited_page} == {("description", edited_text)}
    final = {c["id"]: c for c in await content_of(client, team.member, run_id)}
    assert (final[description["id"]]["status"], final[description["id"]]["version"]) == ("applied", 2)
    assert final[meta["id"]]["status"] == "rejected"
    assert (await steps_of(run_id))[-1][2] == {"applied": 3, "failed": 0, "not_approved": 1}


async def test_a_failing_site_leaves_the_run_completed_with_failed_applies(client, factory, site):
    team, _, run_id, _ = await start(factory, client, site, scope=2)
    assert httpx.post(f"{site.url}/_demo/faults", json={"connector": "500"}).status_code == 200
    await decide(client, team.member, run_id, "approve")
    assert await runner.run_execution(run_id) == states.COMPLETED
    content = await content_of(client, team.member, run_id)
    assert {c["status"] for c in content} == {"apply_failed"}
    assert all("HTTP 500" in c["apply_error"] for c in content)
    warnings = await ExecutionLog.select().where((ExecutionLog.execution == run_id) & (ExecutionLog.level == "warning"))
    assert len(warnings) == 4 and "could not publish" in warnings[0]["message"]
    assert site_changes(site) == []


@pytest.mark.parametrize(("path", "message"), [
    ("/feeds/analytics.csv", "is text/csv, not json"),
    ("/feeds/no-such-feed.json", "answered HTTP 404"),
    ("/_demo/faults", "is not a product feed"),  # JSON, but not {"products": [...]}
])
async def test_an_unusable_catalog_fails_the_run_and_refunds(client, factory, site, path, message):
    _, workspace_id, run_id, status = await start(factory, client, site, {"catalog_url": f"{site.url}{path}"})
    assert status == states.FAILED
    row = await run_row(run_id)
    assert row["error_message"].startswith("the catalog") and message in row["error_message"]
    assert (row["credits_charged"], row["credits_refunded"]) == (0, row["credits_reserved"])
    await assert_books_balance(workspace_id)


@contextmanager
def serving_json(body: dict) -> Iterator[str]:
    """One JSON document over real HTTP on 127.0.0.1 (a catalog the demo shop cannot serve)."""
    data = json.dumps(body).encode()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/catalog.json"
    finally:
        server.shutdown()
        server.server_close()


async def test_unusable_products_and_unknown_ids_are_failed_items_with_reasons(client, factory, site):
    good = httpx.get(f"{site.url}/feeds/catalog.json").json()["products"][0]
    nameless = {k: v for k, v in good.items() if k != "name"} | {"id": "X1"}
    with serving_json({"products": [nameless, good]}) as url:
        team, _, run_id, status = await start(factory, client, site,
                                              {"catalog_url": url, "product_ids": ["X1", good["id"], "NOPE"]})
    assert status == states.AWAITING_REVIEW
    items = await items_of(run_id)
    assert items[good["id"]] == ("done", None)
    assert items["X1"][0] == "failed" and "name" in items["X1"][1]
    assert items["NOPE"] == ("failed", "not in the catalog")
    assert [c["title"] for c in await content_of(client, team.member, run_id)] == [good["name"]] * 2


async def test_the_language_model_writes_the_copy_and_its_failures_are_items(client, factory, site,
                                                                             override_settings):
    anorak, vest = PRODUCT_BY_ID[THIN_IDS[0]], PRODUCT_BY_ID[THIN_IDS[1]]
    with openai_stub() as stub:
        override_settings(LLM_BASE_URL=stub.url, LLM_API_KEY=stub.key, LLM_MODEL="stub-model")
        stub.fault, stub.fail_for = "500", {vest.name}
        team, _, run_id, status = await start(factory, client, site, scope=2)
    assert status == states.AWAITING_REVIEW
    assert [c["text"] for c in await content_of(client, team.member, run_id)] == [
        stub.copy_for(anorak.name)["description"], stub.copy_for(anorak.name)["meta_description"]]
    items = await items_of(run_id)
    assert items[anorak.id] == ("done", None)
    assert items[vest.id] == ("failed", "the language model answered HTTP 500: The server had an error while "
                                        "processing your request.")
    sent = stub.requests[0]
    assert sent["model"] == "stub-model" and sent["response_format"]["json_schema"]["strict"] is True
    assert {json.loads(r["messages"][-1]["content"])["name"] for r in stub.requests} == {anorak.name, vest.name}


async def test_a_language_model_that_answers_no_json_fails_the_run_with_the_reason(client, factory, site,
                                                                                   override_settings):
    with openai_stub() as stub:
        override_settings(LLM_BASE_URL=stub.url, LLM_API_KEY=stub.key)
        stub.fault = "not_json"
        _, workspace_id, run_id, status = await start(factory, client, site, scope=1)
    assert status == states.FAILED
    reason = (await items_of(run_id))[THIN_IDS[0]]
    assert reason[0] == "failed" and "not the JSON asked for" in reason[1]
    row = await run_row(run_id)
    assert "no copy was written" in row["error_message"] and row["credits_refunded"] == row["credits_reserved"]
    assert await EmailOutbox.count().where(EmailOutbox.kind == "review_requested") == 0
    await assert_books_balance(workspace_id)


async def test_bad_inputs_are_refused_before_anything_is_reserved(client, factory):
    team = await factory.team()
    await factory.credits("acme", 100)
    for inputs, field in (({"catalog_url": "ftp://shop.example/feed.json"}, "inputs"),
                          ({"catalog_url": "https://shop.example/feed.json", "tone": "sarcastic"}, "inputs.tone"),
                          ({"catalog_url": "https://shop.example/feed.json", "limit": 3}, "inputs")):
        response = await client.post(f"{API}/executions", headers=team.member.bearer,
                                      json={"agent": "content-writer", "inputs": inputs, "scope": 3})
        assert response.status_code == 422, response.text
        assert response.json()["field"] == field
    estimate = await client.post(f"{API}/executions/estimate", headers=team.member.bearer, json={
        "agent": "content-writer", "inputs": {"catalog_url": "https://shop.example/feed.json"}, "scope": 4})
    assert estimate.json()["estimate"] == 2 + 3 * 4


async def test_only_thin_picks_exactly_the_planted_thin_products(client, factory, site):
    inputs = {"catalog_url": f"{site.url}/feeds/catalog.json", "only_thin": True}
    team, _, run_id, status = await start(factory, client, site, inputs, scope=30)
    assert status == states.AWAITING_REVIEW
    paths = {urlsplit(c["target"]).path for c in await content_of(client, team.member, run_id)}
    assert paths == {e["path"] for e in PLANTED if e["kind"] == "thin_content"}


async def test_review_end_to_end_on_a_real_worker(client, factory, site):
    """Started over the API, the run waits for review without a worker; approving over the API queues it
    and the worker finishes it, publishing to the shop."""
    from tests.support.books import wait_for_status
    from tests.support.processes import worker

    team = await factory.team()
    await factory.credits("acme", 100)
    await client.post(f"{API}/connectors", headers=team.admin.bearer,
                      json={"name": "Northwind", "base_url": site.url, "secret": site.token})
    with worker({"RUN_HEARTBEAT_SECONDS": "0.5"}):
        started = await client.post(f"{API}/executions", headers=team.member.bearer, json={
            "agent": "content-writer", "inputs": {"catalog_url": f"{site.url}/feeds/catalog.json",
                                                  "product_ids": THIN_IDS[:2]}, "scope": 2})
        assert started.status_code == 202, started.text
        waiting = await wait_for_status(UUID(started.json()["id"]), ("awaiting_review",))
        assert waiting["heartbeat_at"] is None and waiting["finished_at"] is None
        decided = await client.post(f"{API}/executions/{waiting['id']}/review", headers=team.member.bearer,
                                    json={"decision": "approve"})
        assert decided.status_code == 200
        final = await wait_for_status(waiting["id"])
    assert final["status"] == states.COMPLETED and final["items_processed"] == 2
    assert len(site_changes(site)) == 4  # a description and a meta description per product


async def test_copy_approved_by_someone_who_has_left_is_not_published(client, factory, site):
    from agentledger.platform.workspaces import remove_member

    team, _, run_id, _ = await start(factory, client, site)
    await decide(client, team.member, run_id, "approve")
    async with atomic():
        await remove_member(await resolve_scope("acme", team.admin.id), team.member.id)
    assert await runner.run_execution(run_id) == states.COMPLETED
    assert site_changes(site) == []
    logs = await ExecutionLog.select(ExecutionLog.message).where(ExecutionLog.execution == run_id)
    assert any("no longer an active member" in entry["message"] for entry in logs)
