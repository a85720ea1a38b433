"""The "Run an agent" form is drawn from the agent's input schema: fields with labels, help and limits,
pre-filled for the connected site, errors next to their field in words (all at once), a raw JSON box,
and the same estimate the API and "Run again" give, including content-writer's count of products that
need copy."""

from __future__ import annotations

import re

from agentledger.platform.connectors import service as connectors
from agentledger.platform.database import atomic
from agentledger.platform.executions.tables import Execution
from agentledger.platform.scoping import resolve_scope
from tests.support.demo_site import site  # noqa: F401 - the demo shop fixture
from tests.support.factories import csrf_from
from tests.support.fixtures import sign_in

NEW = "/w/acme/executions/new"


async def _signed_in(client, factory, credits: int = 100, connect: str | None = None):
    team = await factory.team()
    await factory.credits("acme", credits)
    if connect:
        async with atomic():
            await connectors.create(await resolve_scope("acme", team.admin.id), "Shop", connect,
                                    "token-1234-abcdef-long")
    assert (await sign_in(client, team.member.email, team.member.password)).status_code == 303
    return team


def _field_block(html: str, name: str) -> str:
    """The markup of one field: from its input to the next field."""
    start = html.index(f'name="in.{name}"')
    end = html.find('<div class="field', start)
    return html[start:end if end != -1 else None]


async def test_the_form_follows_the_agents_schema_and_the_connected_site(client, factory):
    await _signed_in(client, factory, connect="http://127.0.0.1:8")
    page = await client.get(f"{NEW}?agent=seo-audit")
    assert page.status_code == 200
    html = page.text
    assert 'name="in.start_url" value="http://127.0.0.1:8/"' in html and 'type="url"' in html
    assert ">Start URL<" in html and "The page the crawl starts from" in html  # label and help from the schema
    assert re.search(r'name="in.concurrency" value="4" type="number" min="1" max="8"', html)
    assert 'name="inputs"' in html and "Raw JSON" in html
    assert "Holds up to <strong>55 credits</strong> for 50 items" in html  # base 5 + 50 pages by default
    writer = (await client.get(f"{NEW}?agent=content-writer")).text
    assert 'name="in.catalog_url" value="http://127.0.0.1:8/feeds/catalog.json"' in writer
    assert re.search(r'name="in.only_thin" value="true"\s+checked', writer)  # products that need copy, by default
    assert re.search(r"<select id=\"in-tone\" name=\"in.tone\"[^>]*><option>concise</option>", writer)
    checker = (await client.get(f"{NEW}?agent=url-check")).text
    assert re.search(r'<textarea id="in-urls" name="in.urls"[^>]*>http://127.0.0.1:8/</textarea>', checker)


async def test_every_error_stands_next_to_its_field_in_words_and_the_values_stay(client, factory):
    await _signed_in(client, factory)
    token = csrf_from((await client.get(f"{NEW}?agent=seo-audit")).text)
    response = await client.post("/w/acme/executions", data={
        "_csrf_token": token, "agent": "seo-audit", "in.start_url": "", "in.concurrency": "lots",
        "in.timeout_seconds": "7.5", "scope": "ten", "mode": "live"})
    assert response.status_code == 422
    html = response.text
    assert "Start URL is required" in _field_block(html, "start_url")
    assert "Pages at once must be a whole number" in _field_block(html, "concurrency")
    assert "Scope must be a whole number of items" in html
    assert 'name="in.timeout_seconds" value="7.5"' in html and 'value="ten"' in html  # kept as typed
    assert await Execution.count() == 0
    too_many = await client.post("/w/acme/executions", data={
        "_csrf_token": token, "agent": "seo-audit", "in.start_url": "http://127.0.0.1:9/", "in.concurrency": "9",
        "in.timeout_seconds": "10", "scope": "", "mode": "live"})
    assert too_many.status_code == 422  # the agent's own limit, worded next to the field
    assert "Pages at once must be at most 8" in _field_block(too_many.text, "concurrency")


async def test_a_filled_form_starts_the_run_with_typed_inputs(client, factory):
    await _signed_in(client, factory)
    token = csrf_from((await client.get(f"{NEW}?agent=url-check")).text)
    started = await client.post("/w/acme/executions", data={
        "_csrf_token": token, "agent": "url-check", "in.urls": "http://127.0.0.1:9/a\n\n http://127.0.0.1:9/b ",
        "in.timeout_seconds": "5", "scope": "", "mode": "live"})
    assert started.status_code == 303 and started.headers["location"].startswith("/w/acme/executions/")
    run = await Execution.select().first()
    assert run["inputs"] == '{"urls": ["http://127.0.0.1:9/a", "http://127.0.0.1:9/b"], "timeout_seconds": 5.0}' \
        or run["inputs"] == {"urls": ["http://127.0.0.1:9/a", "http://127.0.0.1:9/b"], "timeout_seconds": 5.0}
    assert (run["scope"], run["credits_reserved"]) == (2, 3)


async def test_raw_json_is_there_for_power_users(client, factory):
    await _signed_in(client, factory)
    token = csrf_from((await client.get(f"{NEW}?agent=seo-audit")).text)
    bad = await client.post("/w/acme/executions", data={
        "_csrf_token": token, "agent": "seo-audit", "use_raw": "1", "inputs": "{not json", "scope": "1",
        "mode": "test"})
    assert bad.status_code == 422 and "inputs must be JSON" in bad.text
    good = await client.post("/w/acme/executions", data={
        "_csrf_token": token, "agent": "seo-audit", "use_raw": "1", "in.start_url": "",
        "inputs": '{"start_url": "http://127.0.0.1:9/"}', "scope": "1", "mode": "test"})
    assert good.status_code == 303
    for hostile in ("[" * 100_000, '{"start_url": "http://x.example/\u0000"}', '{"a": ' * 5_000 + "1" + "}" * 5_000):
        refused = await client.post("/w/acme/executions", data={
            "_csrf_token": token, "agent": "seo-audit", "use_raw": "1", "inputs": hostile, "scope": "1",
            "mode": "test"})
        assert refused.status_code == 422, hostile[:20]
    nul = await client.get(f"{NEW}/estimate", params={"agent": "seo-audit", "in.start_url": "http://x.example/\x00"})
    assert nul.status_code == 422  # refused at the boundary; the page keeps its last estimate


async def test_the_estimate_follows_the_form_as_it_is_typed(client, factory):
    await _signed_in(client, factory, credits=9_740)
    estimate = await client.get(f"{NEW}/estimate", params={
        "agent": "url-check", "in.urls": "http://127.0.0.1:9/a\nhttp://127.0.0.1:9/b", "mode": "live"})
    assert estimate.status_code == 200
    assert "Holds up to <strong>3 credits</strong> for 2 items; 9,740 available" in estimate.text
    waiting = await client.get(f"{NEW}/estimate", params={"agent": "url-check", "in.urls": "", "mode": "live"})
    assert "No estimate yet: URLs is required" in waiting.text
    free = await client.get(f"{NEW}/estimate", params={"agent": "url-check", "in.urls": "http://x.example/",
                                                       "mode": "test"})
    assert "A test run: nothing is reserved" in free.text


async def test_content_writer_says_how_many_products_need_copy_and_holds_for_them(client, factory, site):  # noqa: F811
    team = await _signed_in(client, factory, connect=site.url)
    page = (await client.get(f"{NEW}?agent=content-writer")).text
    found = re.search(r"for (\d+) items \((\d+) of the (\d+) products need copy\)", page)
    assert found, page[page.find("data-estimate"):][:400]
    thin, of = int(found.group(2)), int(found.group(3))
    assert int(found.group(1)) == thin and 0 < thin < of
    api = await client.post("/api/v1/workspaces/acme/executions/estimate", headers=team.member.bearer, json={
        "agent": "content-writer", "inputs": {"catalog_url": f"{site.url}/feeds/catalog.json"}})
    assert (api.json()["scope"], api.json()["estimate"]) == (thin, 2 + 3 * thin)  # the same figure
    assert api.json()["note"] == f"{thin} of the {of} products need copy"
    token = csrf_from(page)
    started = await client.post("/w/acme/executions", data={
        "_csrf_token": token, "agent": "content-writer", "in.catalog_url": f"{site.url}/feeds/catalog.json",
        "in.only_thin": "true", "in.tone": "friendly", "in.product_ids": "", "scope": "", "mode": "live"})
    assert started.status_code == 303
    run = await Execution.select().first()
    assert (run["scope"], run["credits_reserved"]) == (thin, 2 + 3 * thin)


async def test_the_agents_api_carries_titles_and_help_in_the_input_schema(client, factory):
    team = await factory.team()
    agents = (await client.get("/api/v1/workspaces/acme/agents", headers=team.member.bearer)).json()["items"]
    seo = next(a for a in agents if a["name"] == "seo-audit")
    props = next(iter(seo["input_schema"]["$defs"].values()))["properties"]
    assert props["start_url"]["title"] == "Start URL" and "crawl" in props["start_url"]["description"]


async def test_a_runs_trigger_is_shown_in_full(client, factory):
    from agentledger.agents import scheduling

    team = await factory.team()
    await factory.credits("acme", 100)
    await factory.token("acme", team.member, name="ci-nightly")
    started = await client.post("/api/v1/workspaces/acme/executions", headers=team.member.bearer,
                                json={"agent": "noop", "inputs": {}, "scope": 1})
    read = (await client.get(f"/api/v1/workspaces/acme/executions/{started.json()['id']}",
                             headers=team.member.bearer)).json()
    assert read["trigger"] == "API · token ci-nightly (Max Member)"
    async with atomic():
        member = await resolve_scope("acme", team.member.id)
        schedule = await scheduling.create(member, name="Nightly audit", agent="noop", inputs={}, scope=None,
                                           mode="live", cron="0 3 * * *")
        fired = await scheduling.run_now(member, schedule["id"])
    assert (await sign_in(client, team.member.email, team.member.password)).status_code == 303
    page = (await client.get(f"/w/acme/executions/{fired['id']}")).text
    assert "<dd data-trigger>Schedule · Nightly audit (Max Member)</dd>" in page
