"""The run form in Debian chromium: choosing an agent loads its fields, the estimate follows what is
typed, and a missing field is named next to it; at 390 px the form still fits."""

from __future__ import annotations

import pytest

from tests.support.browser import chromium, sign_in_with, watched_page
from tests.support.processes import web_server
from tests.test_browser import SHOTS

pytestmark = pytest.mark.browser


async def test_the_run_form_follows_the_agent_and_the_estimate_follows_the_typing(factory):
    team = await factory.team()
    await factory.credits("acme", 9_740)
    with web_server() as live_url:
        async with chromium() as browser:
            page, problems = await watched_page(browser)
            await sign_in_with(page, live_url, team.member)
            await page.wait_for_url(f"{live_url}/w/acme/executions")
            await page.get_by_role("link", name="Run an agent").first.click()
            await page.wait_for_url(f"{live_url}/w/acme/executions/new")
            await page.get_by_label("Agent").select_option("url-check")
            await page.wait_for_url("**/executions/new?agent=url-check")
            await page.get_by_label("URLs").fill("http://127.0.0.1:9/a\nhttp://127.0.0.1:9/b")
            estimate = page.locator("[data-estimate]")
            await page.wait_for_function(
                "() => document.querySelector('[data-estimate]').textContent.includes('3 credits for 2 items')",
                timeout=5000)
            assert "9,740 available" in await estimate.inner_text()
            await page.screenshot(path=SHOTS / "run-form.png", full_page=True)
            await page.get_by_label("Agent").select_option("seo-audit")
            await page.wait_for_url("**/executions/new?agent=seo-audit")
            await page.get_by_label("Start URL").fill("")
            await page.get_by_role("button", name="Start run").click()
            error = page.locator("#in-start-url-error")
            await error.wait_for(timeout=5000)
            assert await error.inner_text() == "Start URL is required"
            assert await page.get_by_label("Start URL").get_attribute("aria-invalid") == "true"
            await page.set_viewport_size({"width": 390, "height": 844})
            await page.screenshot(path=SHOTS / "run-form-390.png", full_page=True)
            width = await page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, width  # nothing pushes the page sideways
            refused = "the server responded with a status of 422"  # the form page itself answers 422, by design
            assert [p for p in problems if refused not in p] == [], problems
