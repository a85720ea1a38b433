"""seo-audit and link-checker against the demo shop: they find the planted problems by name, respect
robots.txt, fail unusable start URLs with a clear reason, and applying approved fixes through the
connector changes the shop (a second audit no longer finds them)."""

from __future__ import annotations

import re
from uuid import UUID

import httpx
import pytest

from agentledger.agents import launch, runner
from agentledger.agents.demo_site.planted import PLANTED
from agentledger.platform.charts import render_svg
from agentledger.platform.connectors.tables import Connector
from agentledger.platform.database import atomic
from agentledger.platform.executions import states
from agentledger.platform.executions.tables import Execution
from agentledger.platform.scoping import resolve_scope
from tests.support.books import assert_books_balance

API = "/api/v1/workspaces/acme"
SEO_KINDS = ("missing_title", "duplicate_title", "missing_meta_description", "duplicate_meta_description",
             "missing_alt", "missing_h1", "multiple_h1", "missing_canonical", "slow_page", "heavy_page", "server_error")



pytestmark = pytest.mark.usefixtures("clean_site")


def _path(url: str) -> str:
    return "/" + url.split("/", 3)[3] if url.count("/") >= 3 else "/"


async def run_agent(factory, agent, inputs, scope=100, mode="live"):
    team = await factory.team()
    workspace_id = await factory.credits("acme", 1000)
    async with atomic():
        run = await launch.start(await resolve_scope("acme", team.member.id),
                                 launch.Request(agent, inputs, scope, mode))
    await runner.run_execution(run["id"])
    return team, workspace_id, await Execution.select().where(Execution.id == run["id"]).first()


async def all_results(client, person, run_id, **params):
    response = await client.get(f"{API}/executions/{run_id}/results", params={"limit": 250, **params},
                                headers=person.bearer)
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_seo_audit_finds_every_planted_problem_by_name(client, factory, site):
    team, workspace_id, run = await run_agent(factory, "seo-audit", {"start_url": f"{site.url}/"})
    assert run["status"] == states.PARTIAL  # two 404s, a 500 and a redirect loop are pages that failed
    assert run["items_failed"] == 4 and run["items_processed"] >= 40
    assert run["credits_charged"] == 5 + run["items_processed"]
    await assert_books_balance(workspace_id)
    found = {(r["check"], _path(r["target"])) for r in await all_results(client, team.member, run["id"])
             if r["kind"] in ("recommendation", "action_item")}
    for planted in PLANTED:
        if planted["kind"] in SEO_KINDS:
            assert (planted["kind"], planted["path"]) in found, planted["name"]
        elif planted["kind"] in ("broken_internal_link", "redirect", "redirect_loop"):
            assert (planted["kind"], planted["target"]) in found, planted["name"]
    assert not {path for check, path in found if check == "missing_title"} - {"/about", "/products/summit-down-parka"}
    alt = [r["title"] for r in await all_results(client, team.member, run["id"]) if r.get("check") == "missing_alt"]
    assert alt and all(re.fullmatch(r"Describe (1 image|[2-9]\d* images) on /\S+", t) for t in alt), alt
    hits = httpx.get(f"{site.url}/_demo/hits").json()
    assert "/admin/" not in hits and "/cart" not in hits  # robots.txt is obeyed
    score = (await all_results(client, team.member, run["id"], kind="score"))[0]
    assert 50 <= score["value"] < 100 and "page checks pass" in score["explanation"]
    for cost in ("− 5 for 2 broken pages (2.5 each)", "− 5 for 1 server error (5 each)",
                 "− 2.5 for 1 redirect loop (2.5 each)", "− 0.5 for 1 redirected link (0.5 each)"):
        assert cost in score["explanation"], score["explanation"]  # a broken or failing page costs points
    assert score["explanation"].startswith(f"Score {score['value']:g} = 100 − ")
    report = (await all_results(client, team.member, run["id"], kind="report"))[0]
    assert "<svg" in render_svg(report["sections"][0]["charts"][0])
    not_crawled = {row[0] for row in report["sections"][2]["tables"][0]["rows"]}
    assert {"/admin/", "/cart"} <= not_crawled
    artifact = (await all_results(client, team.member, run["id"], kind="artifact"))[0]
    csv = (await client.get(artifact["download_url"], headers=team.member.bearer)).text
    assert csv.startswith("url,status,ms") and "/lookbook" in csv
    code = (await client.get(f"{API}/executions/{run['id']}/code", headers=team.member.bearer)).json()
    assert "# ===== agentledger.agents.seo_checks =====" in code["source"]  # the rules it ran are part of it
    assert "def audit(crawl: Crawl)" in code["source"] and "async def crawl(" in code["source"]


async def test_applying_approved_seo_fixes_changes_the_site_once(client, factory, site):
    team, _, run = await run_agent(factory, "seo-audit", {"start_url": f"{site.url}/"})
    recs = await all_results(client, team.member, run["id"], kind="recommendation")
    fixes = [r["id"] for r in recs if r["check"] in ("missing_title", "missing_meta_description")]
    assert len(fixes) == 6
    no_connector = await client.post(f"{API}/executions/{run['id']}/apply", json={"result_ids": fixes[:1]},
                                     headers=team.member.bearer)
    assert no_connector.json()["results"][0]["outcome"] == "skipped"  # not approved yet
    approved = await client.post(f"{API}/executions/{run['id']}/results/approve", json={"result_ids": fixes},
                                 headers=team.member.bearer)
    assert approved.status_code == 200
    missing = await client.post(f"{API}/executions/{run['id']}/apply", json={"result_ids": fixes[:1]},
                                headers=team.member.bearer)
    assert missing.json()["results"][0]["outcome"] == "apply_failed"
    assert "no connector" in missing.json()["results"][0]["reason"]
    created = await client.post(f"{API}/connectors", headers=team.admin.bearer,
                                json={"name": "Demo shop", "base_url": site.url, "secret": site.token})
    assert created.status_code == 201 and created.json()["secret_hint"] == site.token[-4:]
    assert "secret" not in created.json()
    stored = await Connector.select(Connector.secret_ciphertext).first()
    assert site.token not in stored["secret_ciphertext"] and stored["secret_ciphertext"].startswith("gAAAAA")
    applied = await client.post(f"{API}/executions/{run['id']}/apply", json={"result_ids": fixes},
                                headers=team.member.bearer)
    assert applied.status_code == 200 and applied.json()["applied"] == 6, applied.text
    again = await client.post(f"{API}/executions/{run['id']}/apply", json={"result_ids": fixes},
                              headers=team.member.bearer)
    assert {r["outcome"] for r in again.json()["results"]} == {"already_applied"}
    assert len(httpx.get(f"{site.url}/api/changes", headers=site.auth).json()["changes"]) == 6
    about = httpx.get(f"{site.url}/about").text
    assert "<title>About | Northwind Outfitters</title>" in about  # the brand named once
    rerun = await client.post(f"{API}/executions/{run['id']}/rerun", headers=team.member.bearer)
    assert await runner.run_execution(UUID(rerun.json()["id"])) == states.PARTIAL
    again_found = {(r["check"], _path(r["target"])) for r in await all_results(client, team.member, rerun.json()["id"])
                   if r["kind"] == "recommendation"}
    assert not [f for f in again_found if f[0] in ("missing_title", "missing_meta_description")]
    assert ("duplicate_title", "/contact") in again_found  # what was not applied is still there


@pytest.mark.parametrize("fault, reason", [("500", "HTTP 500"), ("401", "HTTP 401"), ("timeout", "did not answer")])
async def test_connector_failures_are_recorded_per_change(client, factory, site, override_settings, fault, reason):
    override_settings(CONNECTOR_TIMEOUT_SECONDS="0.5")
    team, _, run = await run_agent(factory, "seo-audit", {"start_url": f"{site.url}/"}, scope=10)
    rec = (await all_results(client, team.member, run["id"], kind="recommendation"))[0]
    await client.post(f"{API}/results/{rec['id']}/approve", headers=team.member.bearer)
    await client.post(f"{API}/connectors", headers=team.admin.bearer,
                      json={"name": "Demo shop", "base_url": site.url, "secret": site.token})
    httpx.post(f"{site.url}/_demo/faults", json={"connector": fault})
    outcome = (await client.post(f"{API}/executions/{run['id']}/apply", json={"result_ids": [rec["id"]]},
                                 headers=team.member.bearer)).json()["results"][0]
    assert outcome["outcome"] == "apply_failed" and reason in outcome["reason"]
    stored = (await client.get(f"{API}/results/{rec['id']}", headers=team.member.bearer)).json()
    assert stored["status"] == "apply_failed" and reason in stored["apply_error"]
    httpx.post(f"{site.url}/_demo/faults", json={"connector": None})
    retried = (await client.post(f"{API}/executions/{run['id']}/apply", json={"result_ids": [rec["id"]]},
                                 headers=team.member.bearer)).json()["results"][0]
    assert retried["outcome"] == "applied"


async def test_link_checker_finds_broken_and_redirected_links(client, factory, site):
    team, _, run = await run_agent(factory, "link-checker", {"start_url": f"{site.url}/"})
    assert run["status"] == states.PARTIAL
    port = site.url.rsplit(":", 1)[1]
    items = await all_results(client, team.member, run["id"], kind="action_item")
    found = {(r["check"], r["target"]) for r in items}
    for planted in PLANTED:
        if planted["kind"] == "broken_external_link":
            assert ("broken_external_link", planted["target"].replace("{port}", port)) in found, planted["name"]
        elif planted["kind"] in ("broken_internal_link", "redirect", "redirect_loop"):
            assert (planted["kind"], f"{site.url}{planted['target']}") in found, planted["name"]
    gone = next(r for r in items if r["target"].endswith("/gone"))
    assert "HTTP 410" in gone["detail"] and "/about" in gone["detail"]
    links = (await all_results(client, team.member, run["id"], kind="extracted"))[0]["data"]
    assert all(link["ms"] >= 0 for link in links) and any(not link["internal"] for link in links)
    assert not {"/admin/", "/cart"} & set(httpx.get(f"{site.url}/_demo/hits").json())


@pytest.mark.parametrize("path, why", [("/no-such-page", "HTTP 404"), ("/feeds/catalog.json", "not an HTML page"),
                                       ("/loop-a", "redirect loop")])
async def test_an_unusable_start_url_fails_the_run_and_refunds(factory, site, path, why):
    _, workspace_id, run = await run_agent(factory, "seo-audit", {"start_url": f"{site.url}{path}"}, scope=5)
    assert run["status"] == states.FAILED and why in run["error_message"]
    assert run["error_message"].startswith("the start URL")
    assert run["credits_refunded"] == run["credits_reserved"]
    await assert_books_balance(workspace_id)


async def test_an_unreachable_site_fails_clearly(factory):
    _, _, run = await run_agent(factory, "link-checker", {"start_url": "http://127.0.0.1:1/"}, scope=5)
    assert run["status"] == states.FAILED and "could not be loaded: ConnectError" in run["error_message"]


async def test_test_mode_crawls_one_page_and_records_no_findings(client, factory, site):
    team, _, run = await run_agent(factory, "seo-audit", {"start_url": f"{site.url}/"}, mode="test")
    assert run["status"] == states.COMPLETED and run["credits_charged"] == 0
    assert await all_results(client, team.member, run["id"]) == []


async def test_two_applies_at_once_push_a_change_once(client, factory, site):
    import asyncio

    team, _, run = await run_agent(factory, "seo-audit", {"start_url": f"{site.url}/"}, scope=10)
    rec = next(r for r in await all_results(client, team.member, run["id"], kind="recommendation"))
    await client.post(f"{API}/results/{rec['id']}/approve", headers=team.member.bearer)
    await client.post(f"{API}/connectors", headers=team.admin.bearer,
                      json={"name": "Demo shop", "base_url": site.url, "secret": site.token})
    both = await asyncio.gather(*(client.post(f"{API}/executions/{run['id']}/apply", json={"result_ids": [rec["id"]]},
                                              headers=person.bearer) for person in (team.member, team.admin)))
    outcomes = sorted(r.json()["results"][0]["outcome"] for r in both)
    assert outcomes.count("applied") == 1 and set(outcomes) <= {"applied", "already_applied", "skipped"}, outcomes
    assert len(httpx.get(f"{site.url}/api/changes", headers=site.auth).json()["changes"]) == 1
