"""Every kind of email, as chromium renders its HTML part at 600 px (a desktop client's reading pane)
and 375 px (a phone): nothing runs off the side, the main link is there, and the footer says why the
reader got it with an unsubscribe link. The screenshots are kept under .data/screenshots/ to look at."""

from __future__ import annotations

from pathlib import Path
from uuid import uuid4

import pytest

from agentledger.notifications import emails, outbox
from agentledger.notifications.preferences import CATEGORIES
from agentledger.platform.scoping import Scope
from tests.support.browser import chromium

SHOTS = Path(__file__).resolve().parents[1] / ".data" / "screenshots" / "emails"


@pytest.mark.pure
async def test_every_email_fits_600_and_375_px_with_its_footer(override_settings):
    override_settings(BASE_URL="https://ledger.example.com")
    SHOTS.mkdir(parents=True, exist_ok=True)
    scope = Scope(uuid4(), "acme", "Acme", uuid4(), "admin")
    samples = emails._samples(scope)
    async with chromium() as browser:
        for name in CATEGORIES:
            mail = outbox.render(name, samples[name], "dana@example.com")
            for width in (600, 375):
                page = await browser.new_page(viewport={"width": width, "height": 800})
                await page.set_content(mail.html)
                await page.screenshot(path=SHOTS / f"{name}-{width}.png", full_page=True)
                assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), (name, width)
                footer = await page.locator("td.footer").inner_text()
                assert "You get this email because" in footer and "Unsubscribe" in footer, name
                assert await page.locator("a[href^='https://ledger.example.com/']").count() >= 2, name
                await page.close()


@pytest.mark.browser
async def test_an_admin_finds_a_failed_email_reads_it_and_sends_it_again(live_url, factory, override_settings):
    from agentledger.notifications import sender
    from agentledger.notifications.tables import EmailOutbox
    from agentledger.platform import invitations
    from agentledger.platform.database import atomic
    from agentledger.platform.scoping import resolve_scope
    from tests.support.browser import sign_in_with, watched_page
    from tests.support.smtp import smtp_server

    shots = SHOTS.parent
    team = await factory.team()
    with smtp_server() as (inbox, port):
        override_settings(SMTP_HOST="127.0.0.1", SMTP_PORT=str(port), SMTP_STARTTLS="false", BASE_URL=live_url)
        async with atomic():
            await invitations.invite(await resolve_scope("acme", team.admin.id), "dana@example.com", "member")
        outbox_id = (await EmailOutbox.select(EmailOutbox.id).first())["id"]
        inbox.answer = "550 5.1.1 dana@example.com: no such mailbox"
        assert (await sender.deliver(outbox_id)).outcome == "failed"
        async with chromium() as browser:
            page, problems = await watched_page(browser)
            await sign_in_with(page, live_url, team.admin)
            await page.get_by_role("link", name="Emails").click()
            await page.wait_for_url(f"{live_url}/w/acme/emails")
            row = page.locator("tbody tr").first
            assert "no such mailbox" in await row.inner_text() and "failed" in await row.inner_text()
            await page.screenshot(path=shots / "emails.png", full_page=True)
            await page.set_viewport_size({"width": 390, "height": 844})
            await page.screenshot(path=shots / "emails-mobile.png", full_page=True)
            await page.set_viewport_size({"width": 1280, "height": 900})
            await row.get_by_role("link").click()
            await page.wait_for_url(f"{live_url}/w/acme/emails/{outbox_id}")
            await page.frame_locator("iframe.email-frame").get_by_text("Join Acme on agentledger").wait_for()
            assert "List-Unsubscribe" in await page.locator("main").inner_text()
            await page.screenshot(path=shots / "email.png", full_page=True)
            await page.set_viewport_size({"width": 390, "height": 844})
            await page.screenshot(path=shots / "email-mobile.png", full_page=True)
            assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            await page.set_viewport_size({"width": 1280, "height": 900})
            inbox.answer = "250 OK"
            await page.get_by_role("button", name="Send again").click()
            await page.get_by_text("Sent again").wait_for()
            assert "pending" in await page.locator("dl.facts").first.inner_text()
            assert (await sender.deliver(outbox_id)).sent
            await page.reload()
            assert "sent" in await page.locator("dl.facts").first.inner_text()
            assert await page.get_by_role("button", name="Send again").count() == 0

            await page.goto(f"{live_url}/w/acme/emails/previews")
            await page.get_by_role("link", name="weekly digest").click()
            await page.frame_locator("iframe.email-frame").get_by_text("Credits by agent").wait_for()
            await page.screenshot(path=shots / "email-previews.png", full_page=True)

            await page.get_by_role("link", name="Notifications").click()
            await page.wait_for_url(f"{live_url}/settings/notifications")
            await page.get_by_label("A run failed or timed out").uncheck()
            await page.get_by_label("Time zone").select_option("Asia/Tokyo")
            await page.get_by_role("button", name="Save").click()
            await page.get_by_text("Your notification preferences are saved.").wait_for()
            assert not await page.get_by_label("A run failed or timed out").is_checked()
            await page.screenshot(path=shots / "notification-settings.png", full_page=True)
            await page.set_viewport_size({"width": 390, "height": 844})
            await page.screenshot(path=shots / "notification-settings-mobile.png", full_page=True)
            assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            assert problems == []
    assert len(inbox.messages) == 1
