"""Watching runs live in Debian chromium: the run page and the list follow a run from queued to
completed without anyone reloading (Server-Sent Events), steps and progress appear as they happen."""

from __future__ import annotations

import re

import pytest

from agentledger.agents import launch
from agentledger.platform.database import atomic
from agentledger.platform.scoping import resolve_scope
from tests.support.browser import chromium, sign_in_with, watched_page
from tests.support.processes import web_server, worker
from tests.support.site import site as slow_site
from tests.test_browser import SHOTS

pytestmark = pytest.mark.browser


async def test_a_run_progresses_live_on_its_page_and_in_the_list(factory):
    team = await factory.team()
    await factory.credits("acme", 100)
    with web_server() as live_url, slow_site() as site:
        urls = [f"{site}/slow?ms=4000&n={n}" for n in range(12)]  # two rounds of 8, 4 s each: time to watch it
        async with atomic():
            run = await launch.start(await resolve_scope("acme", team.member.id),
                                     launch.Request("url-check", {"urls": urls}))
            audit = await launch.start(await resolve_scope("acme", team.member.id),  # a run with results
                                       launch.Request("seo-audit", {"start_url": f"{site}/"}, 1))
        async with chromium() as browser:
            page, problems = await watched_page(browser)
            await sign_in_with(page, live_url, team.member)
            await page.wait_for_url(f"{live_url}/w/acme/executions")
            listing = await browser.new_page()
            await listing.context.add_cookies(await page.context.cookies())
            await listing.goto(f"{live_url}/w/acme/executions")
            row_status = listing.locator(f'tr[data-run="{run["id"]}"] .status')
            assert "queued" in await row_status.inner_text()
            await page.goto(f"{live_url}/w/acme/executions/{run['id']}")
            status = page.locator("[data-run-status]")
            assert "queued" in await status.inner_text()
            with worker({"RUN_HEARTBEAT_SECONDS": "0.2"}):
                await page.wait_for_function(
                    "() => document.querySelector('[data-run-status]').textContent.includes('running')", timeout=20000)
                await page.locator('li[data-step="1-2"]').filter(has_text="check").wait_for(timeout=20000)
                await page.wait_for_function(  # items, log lines (with their time) and the list's count, live
                    "() => !document.querySelector('[data-items-so-far]').textContent.startsWith('0 of')",
                    timeout=20000)
                assert "of 12 so far" in await page.locator("[data-items-so-far]").inner_text()
                await page.wait_for_function(  # the duration ticks from the moment the run started
                    "() => document.querySelector('[data-duration]').textContent.trim() !== '—'", timeout=5000)
                await page.locator("ol.log li time").first.wait_for(timeout=20000)
                assert re.fullmatch(r"\d\d:\d\d:\d\d\.\d{3}", await page.locator("ol.log li time").first.inner_text())
                await listing.wait_for_function(
                    f"() => !document.querySelector('tr[data-run=\"{run['id']}\"] [data-items]').textContent"
                    ".startsWith('0 /')", timeout=20000)
                await page.screenshot(path=SHOTS / "run-live.png")
                await page.get_by_text("✓ completed").first.wait_for(timeout=30000)
                await listing.wait_for_function(
                    f"() => document.querySelector('tr[data-run=\"{run['id']}\"] .status')"
                    ".textContent.includes('completed')", timeout=20000)
                row = listing.locator(f'tr[data-run="{run["id"]}"]')
                assert await row.locator("[data-items]").inner_text() == "12 / 12"  # as a reload would show it
                assert await row.locator("[data-credits]").inner_text() == "13"  # charged, no longer "held"
                preview = listing.locator(f'tr[data-run="{audit["id"]}"] [data-preview]')
                await listing.wait_for_function(  # the audit's results preview arrives with its end
                    f"() => document.querySelector('tr[data-run=\"{audit['id']}\"] [data-preview]')"
                    ".textContent.includes('score')", timeout=20000)
                live_preview = await preview.inner_text()
                await listing.reload()
                assert await preview.inner_text() == live_preview  # what a reload shows
            assert "12 processed" in await page.locator(".facts").inner_text()
            assert problems == [], problems
