"""Retention in Chromium, as people press it: an admin previews and saves the policy, a member finds an
archived run, asks for it back, an admin approves on the Requests list, and the run is back. Pages at
1280 and 390 px and the restore emails at 600 and 375 px are kept under .data/screenshots/retention."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from uuid import uuid4

import pytest

from agentledger.notifications import outbox
from agentledger.platform.clock import now
from agentledger.platform.database import atomic, fetch
from agentledger.platform.retention.tasks import restore_run
from tests.support import agents  # noqa: F401 - registers the test agents
from tests.support.browser import chromium, sign_in_with, watched_page
from tests.test_exports import finished_run

SHOTS = Path(__file__).resolve().parents[1] / ".data" / "screenshots" / "retention"
FITS = "document.documentElement.scrollWidth <= window.innerWidth"


@pytest.mark.browser
async def test_a_member_gets_an_archived_run_back_through_an_admin(live_url, factory):
    SHOTS.mkdir(parents=True, exist_ok=True)
    team, _, run_id = await finished_run(factory)
    async with atomic():
        await fetch("UPDATE executions SET finished_at = {} WHERE id = {}", now() - timedelta(days=200), run_id)
    async with chromium() as browser:
        admin, problems = await watched_page(browser)
        await sign_in_with(admin, live_url, team.admin)
        await admin.goto(f"{live_url}/w/acme/settings/retention")
        await admin.get_by_label("Completed and partial runs").fill("180")
        await admin.get_by_role("button", name="Preview").click()
        await admin.get_by_text("1 run would be archived by the next pass").wait_for()
        await admin.get_by_role("button", name="Save").click()
        await admin.get_by_text("The retention policy is saved.").wait_for()
        await admin.get_by_text("1 run will be archived by the next pass").wait_for()
        await admin.screenshot(path=SHOTS / "policy-1280.png", full_page=True)

        await admin.goto(f"{live_url}/w/acme/executions/{run_id}")
        admin.on("dialog", lambda dialog: dialog.accept())
        await admin.get_by_role("button", name="Archive now").click()
        await admin.locator("[data-archived]").wait_for()

        member, member_problems = await watched_page(browser)
        await sign_in_with(member, live_url, team.member)
        await member.goto(f"{live_url}/w/acme/executions")
        badge = member.locator(f'tr[data-run="{run_id}"] .badge.archived')
        assert (await badge.inner_text()).startswith("archived ")
        await member.screenshot(path=SHOTS / "list-1280.png")
        await member.locator(f'tr[data-run="{run_id}"] .run-link a').click()
        await member.locator("[data-archived]").wait_for()
        await member.screenshot(path=SHOTS / "archived-run-1280.png", full_page=True)
        await member.get_by_role("button", name="Ask to restore").click()
        await member.get_by_text("waiting for an admin").wait_for()

        await admin.goto(f"{live_url}/w/acme/settings/retention")
        row = admin.locator('tr[data-request="pending"]')
        assert "Max Member" in await row.inner_text()
        await row.get_by_role("button", name="Approve").click()
        await admin.locator('tr[data-request="approved"]').wait_for()
        [request] = await fetch("SELECT id FROM restore_requests")
        assert await restore_run.run_here(str(request["id"])) == "done"  # the job a worker runs

        await member.reload()
        await member.get_by_role("button", name="Run again").or_(member.get_by_role("link", name="Run again")).wait_for()
        assert await member.locator("[data-archived]").count() == 0
        assert "A sturdy pack." in await member.content()  # its results are back

        for width, height in ((390, 844),):
            phone, phone_problems = await watched_page(browser, width, height)
            await sign_in_with(phone, live_url, team.admin)
            await phone.goto(f"{live_url}/w/acme/settings/retention")
            await phone.screenshot(path=SHOTS / f"policy-{width}.png", full_page=True)
            assert await phone.evaluate(FITS), await phone.evaluate(
                "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > "
                "window.innerWidth + 1).slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + "
                "Math.round(e.getBoundingClientRect().right))")
            await phone.goto(f"{live_url}/w/acme/executions/{run_id}")
            await phone.get_by_role("button", name="Archive now").wait_for()
            phone.on("dialog", lambda dialog: dialog.accept())
            await phone.get_by_role("button", name="Archive now").click()
            await phone.locator("[data-archived]").wait_for()
            await phone.screenshot(path=SHOTS / f"archived-run-{width}.png", full_page=True)
            assert await phone.evaluate(FITS)
            assert phone_problems == []
        assert problems == [] and member_problems == []


@pytest.mark.pure
async def test_the_restore_emails_fit_600_and_375_px(override_settings):
    override_settings(BASE_URL="https://ledger.example.com")
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = {"name": "Max", "agent": "seo-audit", "workspace": "Acme",
               "link": f"https://ledger.example.com/w/acme/executions/{uuid4()}"}
    async with chromium() as browser:
        for name, error, declined_by in (("back", None, None),
                                         ("failed", "the archived copy of this run is missing from storage", None),
                                         ("declined", None, "Ada Admin")):
            mail = outbox.render("run_restored", {**context, "error": error, "declined_by": declined_by},
                                 "max@example.com")
            assert ("could not be restored" in mail.subject) == bool(error)
            assert ("was declined" in mail.subject) == bool(declined_by)
            assert "List-Unsubscribe" not in mail.headers  # asked for, like a password reset
            for width in (600, 375):
                page = await browser.new_page(viewport={"width": width, "height": 800})
                await page.set_content(mail.html)
                await page.screenshot(path=SHOTS / f"email-{name}-{width}.png", full_page=True)
                assert await page.evaluate(FITS), (name, width)
                assert await page.locator("a[href^='https://ledger.example.com/w/acme/executions/']").count() >= 1
                await page.close()
