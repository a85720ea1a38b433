"""A person who forgot their password, in Debian chromium: the sign-in page's link, the form, the email
(sent by a real worker through a real SMTP server), the link, a new password, signed in; the account
page at desktop and phone widths; the email itself rendered at both widths."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from agentledger.platform import accounts
from tests.support.browser import chromium, sign_in_with, watched_page
from tests.support.processes import worker
from tests.support.smtp import smtp_server

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parents[1] / ".data" / "screenshots"
NEW_PASSWORD = "my fresh new password"


async def test_forgot_password_email_link_new_password_signed_in(live_url, factory):
    SHOTS.mkdir(parents=True, exist_ok=True)
    person = await factory.user("ruth@example.com", "Ruth Reset")
    with smtp_server() as (inbox, port), worker({"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port),
                                                 "SMTP_STARTTLS": "false"}):
        async with chromium() as browser:
            laptop, _ = await watched_page(browser)  # signed in elsewhere: the reset signs it out
            await sign_in_with(laptop, live_url, person)
            await laptop.wait_for_url(re.compile(r"/workspaces$"))
            await laptop.get_by_role("link", name="Account").click()
            await laptop.wait_for_url(f"{live_url}/account")
            desk, _ = await watched_page(browser)
            await sign_in_with(desk, live_url, person)
            await desk.wait_for_url(re.compile(r"/workspaces$"))
            await laptop.reload()
            sessions = laptop.locator("li[data-session]")
            assert await sessions.count() == 2 and "this browser" in await sessions.first.inner_text()
            await laptop.screenshot(path=SHOTS / "account-two-sessions.png", full_page=True)
            await laptop.set_viewport_size({"width": 390, "height": 844})
            await laptop.screenshot(path=SHOTS / "account-two-sessions-mobile.png", full_page=True)
            assert await laptop.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

            page, problems = await watched_page(browser)
            await page.goto(f"{live_url}/login")
            await page.get_by_role("link", name="Forgot your password?").click()
            await page.wait_for_url(f"{live_url}/forgot")
            await page.get_by_label("Email").fill(person.email)
            await page.get_by_role("button", name="Send me a reset link").click()
            await page.get_by_role("heading", name="Check your email").wait_for()
            await page.screenshot(path=SHOTS / "forgot-sent.png")

            mail = (await asyncio.to_thread(inbox.wait_for, 1, 60))[0]
            html = mail.get_body(("html",)).get_content()
            link = re.search(rf"{re.escape(live_url)}/reset/\S+", mail.get_body(("plain",)).get_content()).group(0)
            preview = await browser.new_page(viewport={"width": 1280, "height": 700})
            await preview.set_content(html)
            await preview.screenshot(path=SHOTS / "email-password-reset.png", full_page=True)
            await preview.set_viewport_size({"width": 390, "height": 700})
            await preview.screenshot(path=SHOTS / "email-password-reset-mobile.png", full_page=True)
            assert await preview.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            assert await preview.get_by_role("link", name="Choose a new password").get_attribute("href") == link

            await page.goto(link)
            await page.get_by_role("heading", name="Choose a new password").wait_for()
            await page.get_by_label("New password (10 characters or more)").fill(NEW_PASSWORD)
            await page.get_by_label("New password again").fill(NEW_PASSWORD + " typo")
            await page.get_by_role("button", name="Set new password and sign in").click()
            await page.get_by_text("the two new passwords are not the same").wait_for()
            problems.clear()  # the 422 of that typo is expected
            await page.screenshot(path=SHOTS / "reset-error.png")
            await page.get_by_label("New password (10 characters or more)").fill(NEW_PASSWORD)
            await page.get_by_label("New password again").fill(NEW_PASSWORD)
            await page.get_by_role("button", name="Set new password and sign in").click()

            await page.wait_for_url(f"{live_url}/account?done=reset")
            await page.get_by_text("Your new password is set and you are signed in.").wait_for()
            assert await page.locator("li[data-session]").count() == 1
            assert "this browser" in await page.locator("li[data-session]").first.inner_text()
            await page.screenshot(path=SHOTS / "account.png", full_page=True)
            await page.set_viewport_size({"width": 390, "height": 844})
            await page.reload()
            await page.screenshot(path=SHOTS / "account-mobile.png", full_page=True)
            assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            assert problems == [], problems

            for elsewhere in (laptop, desk):  # both signed out by the reset
                await elsewhere.goto(f"{live_url}/account")
                await elsewhere.wait_for_url(re.compile(r"/login\?next=/account$"))

            await page.goto(link)  # the link worked once
            await page.get_by_role("heading", name="This link no longer works").wait_for()
            await page.screenshot(path=SHOTS / "reset-used-mobile.png")
    assert await accounts.authenticate(person.email, NEW_PASSWORD) is not None
