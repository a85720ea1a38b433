"""A member in Debian chromium works through real results: filters the recommendations of an SEO audit,
selects them all, approves and applies them to the demo shop, then edits generated copy and approves
the review of a content-writer run. Charts load as images; the console stays clean."""

from __future__ import annotations

import re

import httpx
import pytest

from agentledger.agents import launch, runner
from agentledger.agents.demo_site.catalog import PRODUCT_BY_SLUG
from agentledger.agents.demo_site.planted import PLANTED
from agentledger.platform.database import atomic
from agentledger.platform.executions.tables import Execution
from agentledger.platform.scoping import resolve_scope
from tests.support.browser import chromium, sign_in_with, watched_page
from tests.test_browser import SHOTS

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("clean_site")]
THIN = [e["path"] for e in PLANTED if e["kind"] == "thin_content"]


async def run_now(person, agent: str, inputs: dict, scope: int) -> str:
    async with atomic():
        run = await launch.start(await resolve_scope("acme", person.id), launch.Request(agent, inputs, scope))
    await runner.run_execution(run["id"])
    return str(run["id"])


async def test_approve_apply_and_review_in_chromium(live_url, factory, site):
    team = await factory.team()
    await factory.credits("acme", 1000)
    async with atomic():
        from agentledger.platform.connectors import service as connectors

        await connectors.create(await resolve_scope("acme", team.admin.id), "Demo shop", site.url, site.token)
    audit = await run_now(team.member, "seo-audit", {"start_url": f"{site.url}/"}, 60)
    writer = await run_now(team.member, "content-writer", {"catalog_url": f"{site.url}/feeds/catalog.json",
                                                           "only_thin": True}, 2)
    SHOTS.mkdir(parents=True, exist_ok=True)
    async with chromium() as browser:
        page, problems = await watched_page(browser)
        await sign_in_with(page, live_url, team.member)
        await page.wait_for_url(re.compile(r"/w/acme/executions$"))
        runs = page.locator("tr[data-run]")
        assert await runs.count() == 2
        await page.get_by_role("navigation", name="Status").get_by_role("link", name="Running").click()
        await page.wait_for_url(re.compile(r"tab=running"))
        assert await runs.count() == 1 and "content-writer" in await runs.first.inner_text()
        await page.get_by_role("navigation", name="Status").get_by_role("link", name="All").click()
        await page.get_by_role("form", name="Filters").get_by_label("Agent").select_option("seo-audit")
        await page.get_by_role("form", name="Filters").get_by_role("button", name="Apply").click()
        await page.wait_for_url(re.compile(r"agent=seo-audit"))
        assert await runs.count() == 1 and "partial" in await runs.first.inner_text()
        filters = page.get_by_role("form", name="Filters")
        await filters.locator("details.picker > summary").click()  # the status picker, left open
        await filters.get_by_label("partial").check()
        apply = filters.get_by_role("button", name="Apply")
        for width in range(360, 1300, 40):  # wherever the filter bar wraps, the open list leaves Apply free
            await page.set_viewport_size({"width": width, "height": 900})
            box, button = await filters.locator("details.picker > div").bounding_box(), await apply.bounding_box()
            assert box["x"] + box["width"] <= button["x"] or button["x"] + button["width"] <= box["x"] or \
                box["y"] + box["height"] <= button["y"] or button["y"] + button["height"] <= box["y"], \
                f"at {width} px the open status list covers the Apply button"
        await page.set_viewport_size({"width": 390, "height": 900})
        await apply.click(timeout=5000)
        await page.wait_for_url(re.compile(r"status=partial"))
        assert await runs.count() == 1 and await filters.locator("details.picker > summary").inner_text() == "partial"
        await page.set_viewport_size({"width": 1280, "height": 900})
        await page.screenshot(path=SHOTS / "list-filtered.png")
        await page.get_by_role("link", name="seo-audit").click()
        await page.get_by_text("SEO score").wait_for()
        chart = page.locator("img.chart").first
        await chart.scroll_into_view_if_needed()
        assert await chart.evaluate("img => img.decode().then(() => img.naturalWidth)") > 0  # the SVG loaded

        check = page.locator("li.step").filter(has_text="check")
        await check.locator("summary").first.click()
        output = check.locator("details.part").filter(has_text="Output")
        assert await output.locator(".view-ui").is_visible()
        await output.get_by_role("button", name="UI / Raw").click()
        raw = output.locator("pre.view-raw")
        assert await raw.is_visible() and '"findings"' in await raw.inner_text()
        await output.get_by_role("button", name="UI / Raw").click()
        assert await output.locator(".view-ui").is_visible() and not await raw.is_visible()

        await page.get_by_label("Priority").select_option("high")
        await page.get_by_role("button", name="Filter").click()
        rows = page.locator("table.recs tbody tr")
        high = await rows.count()
        assert high >= 6 and await page.locator("table.recs .prio.medium").count() == 0
        await page.get_by_label("Select all").check()
        await page.get_by_role("button", name="Approve selected").click()
        await page.wait_for_url(re.compile(rf"/executions/{audit}"))
        await page.get_by_label("Priority").select_option("high")
        await page.get_by_label("Status").select_option("approved")
        await page.get_by_role("button", name="Filter").click()
        assert await rows.count() == high
        await page.get_by_label("Select all").check()
        await page.get_by_role("button", name="Apply selected").click()
        await page.get_by_role("status").filter(has_text=f"{high} applied, 0 failed").wait_for()
        await page.screenshot(path=SHOTS / "run-applied.png", full_page=False)
        for label, suffix, magic in (("PDF", ".pdf", b"%PDF"), ("CSV", ".zip", b"PK"), ("JSON", ".json", b"{")):
            async with page.expect_download() as waiting:
                await page.locator(".downloads").get_by_role("link", name=label).click()
            download = await waiting.value
            assert download.suggested_filename.endswith(suffix), download.suggested_filename
            assert open(await download.path(), "rb").read(4).startswith(magic)
        assert "<title>About | Northwind Outfitters</title>" in httpx.get(f"{site.url}/about").text

        await page.goto(f"{live_url}/w/acme/executions/{writer}")
        await page.get_by_role("heading", name=re.compile("Review needed")).wait_for()
        first_thin = PRODUCT_BY_SLUG[THIN[0].rsplit("/", 1)[1]].name  # only_thin picked the planted ones
        assert first_thin in await page.locator("section#content").inner_text()
        first = page.locator("section#content textarea").first
        await first.fill("Edited in the browser: a warm, packable layer for every trip.")
        await page.locator("section#content").get_by_role("button", name="Save edit").first.click()
        await page.get_by_text("version 2").wait_for()
        await page.get_by_label("Comment").fill("Looks good")
        await page.get_by_role("button", name="Approve and continue").click()
        await page.get_by_text("queued").first.wait_for()
        assert await page.get_by_role("heading", name=re.compile("Review needed")).count() == 0
        await page.screenshot(path=SHOTS / "run-reviewed.png", full_page=False)
        assert problems == [], problems
    row = await Execution.select(Execution.status).where(Execution.id == writer).first()
    assert row["status"] == "queued"
