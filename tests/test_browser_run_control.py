"""Pressing the run page's buttons in Debian chromium, as a person would, with a real worker and a slow
site: Cancel ends the run within a second with everything on the page agreeing (status, buttons,
credits, steps), Pause shows "pausing…" then "paused" and frees the worker, Resume finishes the run, and
the Running tab lets rows enter and leave live. Panels the person opened stay open."""

from __future__ import annotations

import pytest

from agentledger.agents import launch
from agentledger.platform.database import atomic
from agentledger.platform.scoping import resolve_scope
from tests.support.books import wait_for_status
from tests.support.browser import chromium, sign_in_with, watched_page
from tests.support.processes import web_server, worker
from tests.support.site import site as slow_site
from tests.test_browser import SHOTS

pytestmark = pytest.mark.browser


def _has(selector: str, text: str) -> str:
    return f"() => (document.querySelector({selector!r})?.textContent || '').includes({text!r})"


async def test_cancel_and_pause_keep_their_word_on_the_page(factory):
    team = await factory.team()
    await factory.credits("acme", 200)
    scope = await resolve_scope("acme", team.member.id)
    with web_server() as live_url, slow_site() as site, worker({"RUN_HEARTBEAT_SECONDS": "0.5"}):
        async with atomic():
            doomed = await launch.start(scope, launch.Request(
                "url-check", {"urls": [f"{site}/slow?ms=20000&c={n}" for n in range(1, 41)]}))  # none ends first
        await wait_for_status(doomed["id"], ("running",), timeout=20)
        async with chromium() as browser:
            page, problems = await watched_page(browser)
            page.on("dialog", lambda dialog: dialog.accept())
            await sign_in_with(page, live_url, team.member)
            await page.wait_for_url(f"{live_url}/w/acme/executions")
            running_tab = await browser.new_page()
            await running_tab.context.add_cookies(await page.context.cookies())
            await running_tab.goto(f"{live_url}/w/acme/executions?tab=running")
            all_tab = await browser.new_page()
            await all_tab.context.add_cookies(await page.context.cookies())
            await all_tab.goto(f"{live_url}/w/acme/executions")
            await running_tab.locator(f'tr[data-run="{doomed["id"]}"]').wait_for(timeout=5000)

            await page.goto(f"{live_url}/w/acme/executions/{doomed['id']}")
            await page.get_by_role("button", name="Cancel").click()
            await page.wait_for_function(_has("[data-run-status]", "canceled"), timeout=3000)
            facts = await page.locator(".facts").inner_text()  # everything came with the status, together
            assert "0 charged · 41 refunded" in facts and "Nothing was processed" in facts
            assert "Finished\n—" not in facts
            assert await page.get_by_role("button", name="Cancel").count() == 0
            assert await page.get_by_role("button", name="Pause").count() == 0
            assert await page.get_by_role("link", name="Resume where it stopped").count() == 1
            assert "skipped" in await page.locator('li[data-step="1-2"]').inner_text()
            await page.screenshot(path=SHOTS / "run-canceled.png", full_page=True)
            await running_tab.wait_for_function(  # the canceled run leaves the Running tab by itself
                f"() => !document.querySelector('tr[data-run=\"{doomed['id']}\"]')", timeout=5000)

            async with atomic():
                paused_run = await launch.start(scope, launch.Request(
                    "url-check", {"urls": [f"{site}/slow?ms=700&p={n}" for n in range(1, 31)]}))
            await running_tab.locator(f'tr[data-run="{paused_run["id"]}"]').wait_for(timeout=5000)  # it enters
            await all_tab.locator(f'tr[data-run="{paused_run["id"]}"]').wait_for(timeout=5000)  # here too, at once
            assert await all_tab.locator("[data-new-runs]").is_hidden()
            await wait_for_status(paused_run["id"], ("running",), timeout=20)
            await page.goto(f"{live_url}/w/acme/executions/{paused_run['id']}")
            await page.get_by_role("button", name="Pause").click()
            await page.wait_for_function(_has("[data-run-status]", "paused"), timeout=5000)
            assert await page.get_by_role("button", name="Resume").count() == 1
            assert await page.get_by_role("button", name="Pause").count() == 0
            assert "paused, not counting" in await page.locator("[data-duration]").inner_text()
            await page.screenshot(path=SHOTS / "run-paused.png", full_page=True)
            async with atomic():  # the paused run holds no worker: two more runs get both threads
                others = [await launch.start(scope, launch.Request("noop", {}, 2)) for _ in range(2)]
            for other in others:
                assert (await wait_for_status(other["id"], timeout=20))["status"] == "completed"
            assert (await wait_for_status(paused_run["id"], ("paused",), timeout=1))["status"] == "paused"
            await page.get_by_role("button", name="Resume").click()
            await page.wait_for_function(_has("[data-run-status]", "running"), timeout=10000)
            await page.locator("details.inputs summary").click()  # panels the person opens while it runs,
            await page.locator("details.log-card summary").click()  # or closes, stay as they were left
            await page.wait_for_function(_has("[data-run-status]", "completed"), timeout=30000)
            assert await page.locator("details.inputs").get_attribute("open") is not None
            assert await page.locator("details.log-card").get_attribute("open") is None
            facts = await page.locator(".facts").inner_text()
            assert "31 charged · 0 refunded" in facts and "30 of 30 items processed" in facts
            assert problems == [], problems
