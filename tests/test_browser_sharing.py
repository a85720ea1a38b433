"""In Debian chromium: a member shares a finished run with a teammate from its Share page and makes a
password-protected link; someone with only the link opens it in a fresh browser, gives the password and
sees the results, with no way to change them. The console shows only the wrong password's 401."""

from __future__ import annotations

import re

import pytest

from agentledger.agents import launch, runner
from agentledger.platform.database import atomic
from agentledger.platform.scoping import resolve_scope
from tests.support import agents  # noqa: F401 - registers test-results
from tests.support.browser import chromium, sign_in_with, watched_page
from tests.test_browser import SHOTS

pytestmark = pytest.mark.browser


async def test_share_with_a_teammate_and_open_a_link_in_chromium(live_url, factory):
    team = await factory.team()
    sam = await factory.user("sam@acme.example", "Sam Second")
    await factory.member("acme", sam)
    await factory.credits("acme", 100)
    async with atomic():
        run = await launch.start(await resolve_scope("acme", team.member.id), launch.Request("test-results", {}))
    await runner.run_execution(run["id"])
    SHOTS.mkdir(parents=True, exist_ok=True)
    async with chromium() as browser:
        page, problems = await watched_page(browser)
        await sign_in_with(page, live_url, team.member)
        await page.goto(f"{live_url}/w/acme/executions/{run['id']}")
        await page.get_by_role("link", name="Share").click()
        await page.get_by_label("Share with").select_option(label="Sam Second · sam@acme.example")
        await page.get_by_role("button", name="Share", exact=True).click()
        await page.get_by_text("Stop sharing").wait_for()
        await page.get_by_label("Password").fill("a password for the client")
        await page.get_by_label("Expires after (days)").fill("3")
        await page.get_by_role("button", name="Create link").click()
        link = await page.get_by_label("Shared link").input_value()
        assert re.fullmatch(rf"{live_url}/s/sl_[\w-]{{43}}", link)
        await page.screenshot(path=str(SHOTS / "share.png"), full_page=True)

        visitor, visitor_problems = await watched_page(browser)
        await visitor.goto(link)
        await visitor.get_by_label("Password").fill("not it at all")
        await visitor.get_by_role("button", name="Open").click()
        await visitor.get_by_role("alert").filter(has_text="wrong password").wait_for()
        await visitor.get_by_label("Password").fill("a password for the client")
        await visitor.get_by_role("button", name="Open").click()
        await visitor.get_by_text("72 of 100 checks pass.").wait_for()
        assert await visitor.get_by_text("About Northwind Outfitters").count() == 1
        assert await visitor.get_by_role("button", name="Approve selected").count() == 0
        await visitor.wait_for_load_state("load")  # the text arrives before the chart images finish loading
        charts = visitor.locator("img.chart")
        assert await charts.count() >= 1
        assert await charts.evaluate_all("imgs => imgs.every(i => i.complete && i.naturalWidth > 0)")
        await visitor.screenshot(path=str(SHOTS / "shared-link.png"), full_page=True)
        assert problems == []
        assert visitor_problems == ["Failed to load resource: the server responded with a status of 401 (Unauthorized)"]
