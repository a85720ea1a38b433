"""Delivery keeps its word: a refused connection, a timeout-like drop and a 4xx answer are retried with
backoff; a 5xx is failed at once with the server's words; out of attempts is failed too; the Emails page
shows each with its error, and "send again" sends the same message (same Message-ID)."""

from __future__ import annotations

import asyncio

import pytest

from agentledger.notifications import sender
from agentledger.notifications.tables import EmailOutbox
from agentledger.platform import invitations
from agentledger.platform.database import atomic, fetch
from agentledger.platform.embedded import free_port
from agentledger.platform.scoping import resolve_scope
from tests.support.factories import csrf_from
from tests.support.fixtures import sign_in
from tests.support.smtp import smtp_server


async def invite(team, email: str = "dana@example.com"):
    async with atomic():
        await invitations.invite(await resolve_scope("acme", team.admin.id), email, "member")
    return (await EmailOutbox.select(EmailOutbox.id).where(EmailOutbox.to_email == email).first())["id"]


async def row(outbox_id) -> dict:
    return (await fetch("SELECT attempts, last_error, sent_at, failed_at, next_attempt_at, claimed_until "
                        "FROM email_outbox WHERE id = {}", outbox_id))[0]


async def expire_backoff(outbox_id) -> None:
    """The backoff is over (as if its time had come)."""
    await fetch("UPDATE email_outbox SET claimed_until = now() - interval '1 second' WHERE id = {}", outbox_id)


async def test_a_refused_connection_is_retried_with_backoff_then_sent(factory, override_settings):
    team = await factory.team()
    override_settings(SMTP_HOST="127.0.0.1", SMTP_PORT=str(free_port()), SMTP_STARTTLS="false")  # nobody listens
    outbox_id = await invite(team)
    first = await sender.deliver(outbox_id)
    assert first.outcome == "retry" and first.retry_in == 30 and "Connection refused" in first.error
    assert (await sender.deliver(outbox_id)).outcome == "skipped"  # held until its next try
    await expire_backoff(outbox_id)
    assert (await sender.deliver(outbox_id)).retry_in == 60  # doubled
    with smtp_server() as (inbox, port):
        override_settings(SMTP_PORT=str(port))
        await expire_backoff(outbox_id)
        assert (await sender.deliver(outbox_id)).sent
        await asyncio.to_thread(inbox.wait_for, 1)
    state = await row(outbox_id)
    assert state["attempts"] == 3 and state["sent_at"] is not None and state["failed_at"] is None


async def test_a_4xx_answer_is_retried_and_a_5xx_answer_fails_with_the_servers_words(factory, override_settings):
    team = await factory.team()
    with smtp_server() as (inbox, port):
        override_settings(SMTP_HOST="127.0.0.1", SMTP_PORT=str(port), SMTP_STARTTLS="false")
        later = await invite(team, "later@example.com")
        never = await invite(team, "never@example.com")
        inbox.answer = "451 4.3.0 Mailbox busy, try later"
        busy = await sender.deliver(later)
        assert busy.outcome == "retry" and busy.error == "451 4.3.0 Mailbox busy, try later"
        inbox.answer = "550 5.1.1 No such user here"
        gone = await sender.deliver(never)
        assert gone.outcome == "failed" and gone.error == "550 5.1.1 No such user here"
        assert (await row(never))["failed_at"] is not None
        inbox.answer = "250 OK"
        await expire_backoff(later)
        assert (await sender.deliver(later)).sent
        assert (await sender.deliver(never)).outcome == "skipped"  # failed stays failed until sent again
    assert [m["To"] for m in inbox.messages] == ["later@example.com"]


async def test_out_of_attempts_is_failed_and_the_sweep_leaves_it(factory, override_settings):
    team = await factory.team()
    override_settings(SMTP_HOST="127.0.0.1", SMTP_PORT=str(free_port()), SMTP_STARTTLS="false")
    outbox_id = await invite(team)
    outcomes = []
    for _ in range(sender.MAX_ATTEMPTS):
        outcomes.append((await sender.deliver(outbox_id)).outcome)
        await expire_backoff(outbox_id)
    assert outcomes == ["retry"] * (sender.MAX_ATTEMPTS - 1) + ["failed"]
    state = await row(outbox_id)
    assert state["attempts"] == sender.MAX_ATTEMPTS and "Connection refused" in state["last_error"]
    assert outbox_id not in await sender.stranded()


async def test_the_emails_page_shows_the_failure_and_send_again_sends_the_same_message(factory, client,
                                                                                        override_settings):
    team = await factory.team()
    with smtp_server() as (inbox, port):
        override_settings(SMTP_HOST="127.0.0.1", SMTP_PORT=str(port), SMTP_STARTTLS="false")
        outbox_id = await invite(team)
        inbox.answer = "554 5.7.1 Rejected by policy"
        assert (await sender.deliver(outbox_id)).outcome == "failed"
        await sign_in(client, team.admin.email, team.admin.password)
        listing = await client.get("/w/acme/emails?status=failed")
        assert listing.status_code == 200 and "554 5.7.1 Rejected by policy" in listing.text
        assert "dana@example.com" in listing.text
        assert "dana@example.com" not in (await client.get("/w/acme/emails?status=sent")).text
        page = await client.get(f"/w/acme/emails/{outbox_id}")
        assert "Send again" in page.text and "List-Unsubscribe" in page.text
        from agentledger.notifications.preferences import unsubscribe_token
        token = unsubscribe_token("dana@example.com", "invitation")
        assert token not in page.text and "/unsubscribe/(the recipient&#39;s own signed link)" in page.text
        body = await client.get(f"/w/acme/emails/{outbox_id}/body.html")
        assert "sandbox" in body.headers["content-security-policy"] and "Join Acme" in body.text
        assert token not in body.text  # the admin reads the message, not the recipient's key
        assert body.headers["x-frame-options"] == "SAMEORIGIN"
        inbox.answer = "250 OK"
        again = await client.post(f"/w/acme/emails/{outbox_id}/resend", data={"_csrf_token": csrf_from(page.text)})
        assert again.status_code == 303
        assert (await sender.deliver(outbox_id)).sent
        [mail] = await asyncio.to_thread(inbox.wait_for, 1)
    message_id = (await fetch("SELECT message_id FROM email_outbox WHERE id = {}", outbox_id))[0]["message_id"]
    assert mail["Message-ID"] == message_id
    twice = await client.post(f"/w/acme/emails/{outbox_id}/resend", data={"_csrf_token": csrf_from(page.text)})
    assert twice.status_code == 409  # sent: nothing to send again


@pytest.mark.parametrize("who", ["member", "outsider"])
async def test_members_cannot_see_the_emails_and_strangers_get_404(factory, client, who):
    team = await factory.team()
    outbox_id = await invite(team)
    person = getattr(team, who)
    for path in ("/api/v1/workspaces/acme/emails", f"/api/v1/workspaces/acme/emails/{outbox_id}"):
        answer = await client.get(path, headers=person.bearer)
        assert answer.status_code == (403 if who == "member" else 404), answer.text


async def test_a_sender_killed_after_the_server_took_the_message_resends_it_with_the_same_message_id(
        factory, override_settings):
    """The worker is killed (kill -9) at exactly that point: the server has the message, and the row does
    not say so yet. After the lease the sweep sends it again, once, under the same Message-ID."""
    import threading

    from agentledger.notifications.tasks import sweep_outbox
    from tests.support.processes import kill_9, start_worker, worker

    team = await factory.team()
    with smtp_server() as (inbox, port):
        override_settings(SMTP_HOST="127.0.0.1", SMTP_PORT=str(port), SMTP_STARTTLS="false", EMAIL_LEASE_SECONDS="2")
        process = start_worker(threads=1)
        killed = threading.Event()

        def die_before_the_answer(_message) -> None:
            if not killed.is_set():
                kill_9(process)  # the server holds the message; its "250" never reaches the sender
                killed.set()

        inbox.on_data = die_before_the_answer
        try:
            outbox_id = await invite(team)
            assert await asyncio.to_thread(killed.wait, 60), "the worker never sent the email"
        finally:
            if process.poll() is None:
                kill_9(process)
        inbox.on_data = None
        state = await row(outbox_id)
        assert state["sent_at"] is None and state["attempts"] == 0 and len(inbox.messages) == 1
        assert await sender.stranded() == []  # the dead sender's lease still holds it
        await asyncio.sleep(2.2)
        with worker():
            assert await sweep_outbox.run_here() == 1
            await asyncio.to_thread(inbox.wait_for, 2)
            for _ in range(50):
                if (await row(outbox_id))["sent_at"] is not None:
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(1)  # the killed worker's own message, handed back, finds it sent
    first, second = inbox.messages
    assert len(inbox.messages) == 2 and first["Message-ID"] == second["Message-ID"]
    assert (await row(outbox_id))["sent_at"] is not None


async def test_a_5xx_about_our_setup_is_retried_not_failed(factory, override_settings):
    """Refused at MAIL FROM (a relay that does not accept our sender): fixable on our side, so retried."""
    team = await factory.team()
    with smtp_server() as (inbox, port):
        override_settings(SMTP_HOST="127.0.0.1", SMTP_PORT=str(port), SMTP_STARTTLS="false")
        outbox_id = await invite(team)
        inbox.mail_answer = "553 5.7.1 Sender address rejected: not owned by you"
        refused = await sender.deliver(outbox_id)
        assert refused.outcome == "retry" and refused.error == "553 5.7.1 Sender address rejected: not owned by you"
        inbox.mail_answer = "250 OK"
        await expire_backoff(outbox_id)
        assert (await sender.deliver(outbox_id)).sent
        await asyncio.to_thread(inbox.wait_for, 1)


async def test_an_email_left_unsent_for_days_is_failed_and_can_be_sent_again(factory, override_settings):
    from datetime import timedelta

    from agentledger.notifications import emails
    from agentledger.platform.scoping import resolve_scope as scope_of

    team = await factory.team()
    outbox_id = await invite(team)  # no SMTP server set up: it stays pending
    await fetch("UPDATE email_outbox SET created_at = created_at - {}::interval WHERE id = {}",
                sender.GIVE_UP_AFTER + timedelta(hours=1), outbox_id)
    assert await sender.stranded() == []
    state = await row(outbox_id)
    assert state["failed_at"] is not None and "gave up" in state["last_error"]
    with smtp_server() as (inbox, port):
        override_settings(SMTP_HOST="127.0.0.1", SMTP_PORT=str(port), SMTP_STARTTLS="false")
        async with atomic():
            await emails.resend(await scope_of("acme", team.admin.id), outbox_id)
        await sender.stranded()  # the sweep: the resent one is due now, not given up again
        assert (await row(outbox_id))["failed_at"] is None
        assert (await sender.deliver(outbox_id)).sent


async def test_a_row_queued_before_headers_were_stored_still_goes_out_with_its_message_id(factory, override_settings):
    team = await factory.team()
    with smtp_server() as (inbox, port):
        override_settings(SMTP_HOST="127.0.0.1", SMTP_PORT=str(port), SMTP_STARTTLS="false")
        outbox_id = await invite(team)
        await fetch("UPDATE email_outbox SET headers = jsonb_build_object(), message_id = '<legacy.1@agentledger>' "
                    "WHERE id = {}", outbox_id)
        assert (await sender.deliver(outbox_id)).sent
        [mail] = await asyncio.to_thread(inbox.wait_for, 1)
    assert mail["Message-ID"] == "<legacy.1@agentledger>"


async def test_a_line_break_in_a_header_fails_the_email_instead_of_injecting(factory, override_settings):
    team = await factory.team()
    with smtp_server() as (inbox, port):
        override_settings(SMTP_HOST="127.0.0.1", SMTP_PORT=str(port), SMTP_STARTTLS="false")
        outbox_id = await invite(team)
        await fetch("UPDATE email_outbox SET subject = {} WHERE id = {}", "Hi\r\nBcc: victim@example.com", outbox_id)
        delivery = await sender.deliver(outbox_id)
    assert delivery.outcome == "failed" and "line break" in delivery.error and inbox.messages == []


async def test_a_subject_goes_out_readable_and_a_non_ascii_one_encoded(factory, override_settings):
    team = await factory.team()
    with smtp_server() as (inbox, port):
        override_settings(SMTP_HOST="127.0.0.1", SMTP_PORT=str(port), SMTP_STARTTLS="false")
        plain = await invite(team, "plain@example.com")
        accented = await invite(team, "accent@example.com")
        await fetch("UPDATE email_outbox SET subject = 'Équipe Zürich: 5 000 crédits' WHERE id = {}", accented)
        for outbox_id in (plain, accented):
            assert (await sender.deliver(outbox_id)).sent
        await asyncio.to_thread(inbox.wait_for, 2)
    raw = {m["To"]: m for m in inbox.messages}
    assert raw["plain@example.com"]["Subject"] == "You're invited to Acme on agentledger"
    wire = next(b for b in inbox.raw if b"plain@example.com" in b)
    assert b"\r\nSubject: You're invited to Acme on agentledger\r\n" in wire  # not an encoded word
    assert raw["accent@example.com"]["Subject"] == "Équipe Zürich: 5 000 crédits"
