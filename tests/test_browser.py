"""A person in Debian chromium: signs in through the page, invites a teammate, creates a token."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.browser import chromium, watched_page

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parents[1] / ".data" / "screenshots"


async def test_sign_in_invite_and_create_a_token_in_chromium(live_url, factory):
    team = await factory.team()
    SHOTS.mkdir(parents=True, exist_ok=True)
    async with chromium() as browser:
        page, problems = await watched_page(browser, height=800)
        await page.goto(f"{live_url}/w/acme/executions")  # a page behind sign-in: the form keeps where to return
        assert page.url == f"{live_url}/login?next=/w/acme/executions"
        assert await page.locator('input[name="next"]').input_value() == "/w/acme/executions"
        await page.screenshot(path=SHOTS / "login.png")

        await page.get_by_label("Email").fill(team.admin.email)
        await page.get_by_label("Password").fill("wrong password!")
        await page.get_by_role("button", name="Sign in").click()
        await page.get_by_role("alert").filter(has_text="wrong email or password").wait_for()
        problems.clear()  # the 401 of that wrong password is expected

        await page.get_by_label("Password").fill(team.admin.password)
        await page.get_by_role("button", name="Sign in").click()
        await page.wait_for_url(re.compile(r"/w/acme/executions$"))
        await page.get_by_role("heading", name="No runs yet").wait_for()
        await page.screenshot(path=SHOTS / "executions.png")

        await page.get_by_role("navigation", name="Sections").get_by_role("link", name="Members").click()
        await page.get_by_label("Email").fill("teammate@example.com")
        await page.get_by_role("button", name="Send invitation").click()
        link = await page.get_by_label("Invitation link").input_value()
        assert re.match(rf"{re.escape(live_url)}/invitations/inv_\S+", link)
        await page.screenshot(path=SHOTS / "members.png", full_page=True)

        await page.get_by_role("navigation", name="Sections").get_by_role("link", name="API tokens").click()
        await page.get_by_label("Token name").fill("deploy script")
        await page.get_by_role("button", name="Create token").click()
        token = await page.get_by_label("New API token").input_value()
        assert token.startswith("al_")
        await page.screenshot(path=SHOTS / "tokens.png", full_page=True)

        dialogs: list[str] = []

        async def answer(dialog):
            dialogs.append(dialog.message)
            await (dialog.dismiss() if len(dialogs) == 1 else dialog.accept())

        page.on("dialog", answer)
        row = page.get_by_role("row").filter(has_text="deploy script")
        await row.get_by_role("button", name="Revoke").click()  # dismissed: nothing happens
        await row.get_by_role("button", name="Revoke").click()  # accepted
        await page.get_by_role("row").filter(has_text="deploy script").get_by_text("revoked").wait_for()
        assert dialogs == ["Revoke deploy script? Scripts using it stop working."] * 2
        assert problems == [], problems  # no CSP violations or script errors

        mobile = await browser.new_page(viewport={"width": 390, "height": 844})
        await mobile.goto(f"{live_url}/login")
        await mobile.screenshot(path=SHOTS / "login-mobile.png")
        assert await mobile.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

        await page.get_by_role("button", name="Sign out").click()
        await page.wait_for_url(re.compile(r"/login$"))
