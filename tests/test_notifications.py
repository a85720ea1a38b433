"""Notifications as a domain: each event kind reaches the right people in its template, through a real
SMTP server (aiosmtpd on 127.0.0.1); an event emitted twice is queued and mailed once; a rolled-back
change queues nothing; an unknown kind is refused by name."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from uuid import uuid4

import asyncpg
import pytest

from agentledger.agents import launch, runner
from agentledger.notifications import repository, sender
from agentledger.notifications import service as notifications
from agentledger.notifications.tables import EmailOutbox
from agentledger.platform import invitations, passwords
from agentledger.platform.broker import broker
from agentledger.platform.clock import now
from agentledger.platform.database import atomic, fetch
from agentledger.platform.executions import reviews, states
from agentledger.platform.scoping import resolve_scope
from tests.support import agents  # noqa: F401 - registers test-review

API = "/api/v1/workspaces/acme/executions"


def delivery_jobs() -> int:
    return broker.client.hlen(f"{broker.namespace}:email.msgs")


async def deliver_all(inbox) -> list:
    """Hand every unsent row to the real sender, and answer what the SMTP server received."""
    sent = 0
    for row in await EmailOutbox.select(EmailOutbox.id).where(EmailOutbox.sent_at.is_null()):
        sent += (await sender.deliver(row["id"])).sent
    if sent:
        await asyncio.to_thread(inbox.wait_for, sent)
    return inbox.messages


async def outbox() -> list[dict]:
    return await EmailOutbox.select(EmailOutbox.event, EmailOutbox.kind, EmailOutbox.to_email,
                                    EmailOutbox.dedupe_key).order_by(EmailOutbox.to_email)


async def review_run(factory, team, *, nobody_started: bool = False):
    """A test-review run that stopped at its review step; ``nobody_started``: its starter's link is gone
    (as for a run whose account was removed), so no one started it by hand."""
    await factory.credits("acme", 100)
    async with atomic():
        run = await launch.start(await resolve_scope("acme", team.member.id), launch.Request("test-review", {}))
    if nobody_started:
        await fetch("UPDATE executions SET started_by = NULL WHERE id = {}", run["id"])
    assert await runner.run_execution(run["id"]) == states.AWAITING_REVIEW
    return run


async def test_an_invitation_reaches_the_invitee(factory, mailbox):
    team = await factory.team()
    async with atomic():
        invitation, link = await invitations.invite(await resolve_scope("acme", team.admin.id), "dana@example.com",
                                                    "member")
    assert await outbox() == [{"event": "invited", "kind": "invitation", "to_email": "dana@example.com",
                               "dedupe_key": f"invited:{invitation.id}"}]
    [mail] = await deliver_all(mailbox)
    assert mail["To"] == "dana@example.com" and mail["Subject"] == "You're invited to Acme on agentledger"
    assert link in mail.get_body(("plain",)).get_content() and link in mail.get_body(("html",)).get_content()


async def test_a_password_reset_reaches_only_the_user(factory, mailbox):
    team = await factory.team()
    async with atomic():
        assert await passwords.send_reset_link(team.member.email, "127.0.0.1")
    [row] = await outbox()
    assert row["event"] == "password_reset" and row["to_email"] == team.member.email
    assert row["dedupe_key"].startswith("password_reset:")
    [mail] = await deliver_all(mailbox)
    assert mail["To"] == team.member.email and mail["Subject"] == "Reset your agentledger password"
    text = mail.get_body(("plain",)).get_content()
    assert "Hello Max Member," in text and "/reset/pwr_" in text


async def test_a_share_reaches_the_teammate(client, factory, mailbox):
    team = await factory.team()
    sam = await factory.user("sam@acme.example", "Sam Second")
    await factory.member("acme", sam)
    run = await review_run(factory, team)
    shared = await client.put(f"{API}/{run['id']}/shares/{sam.id}", headers=team.member.bearer)
    assert shared.status_code == 200, shared.text
    shares = [r for r in await outbox() if r["event"] == "run_shared"]
    assert [r["to_email"] for r in shares] == ["sam@acme.example"]
    assert shares[0]["kind"] == "run_shared" and shares[0]["dedupe_key"].startswith("run_shared:")
    mails = [m for m in await deliver_all(mailbox) if m["To"] == "sam@acme.example"]
    assert [m["Subject"] for m in mails] == ["Max Member shared a run with you: test-review"]
    body = mails[0].get_body(("plain",)).get_content()
    assert "Hello Sam Second," in body and f"/w/acme/executions/{run['id']}" in body


async def test_a_review_request_reaches_whoever_started_the_run(factory, mailbox):
    team = await factory.team()
    run = await review_run(factory, team)
    assert await outbox() == [{"event": "review_requested", "kind": "review_requested",
                               "to_email": team.member.email,
                               "dedupe_key": f"review_requested:{run['id']}:2:{team.member.email}"}]
    [mail] = await deliver_all(mailbox)
    assert mail["To"] == team.member.email and mail["Subject"] == "Review needed: Check the copy (test-review)"
    assert f"/w/acme/executions/{run['id']}" in mail.get_body(("plain",)).get_content()


async def test_a_review_request_for_a_run_nobody_started_goes_to_the_active_admins(factory, mailbox):
    team = await factory.team()
    second = await factory.user("bea@acme.example", "Bea Boss")
    await factory.member("acme", second, "admin")
    gone = await factory.user("zed@acme.example", "Zed Gone")
    await factory.member("acme", gone, "admin")
    await fetch("UPDATE users SET is_active = false WHERE id = {}", gone.id)
    await review_run(factory, team, nobody_started=True)
    assert [r["to_email"] for r in await outbox()] == ["admin@acme.example", "bea@acme.example"]
    mails = await deliver_all(mailbox)
    assert sorted(m["To"] for m in mails) == ["admin@acme.example", "bea@acme.example"]
    assert all(m["Subject"] == "Review needed: Check the copy (test-review)" for m in mails)


async def test_the_same_event_twice_queues_one_row_and_sends_one_mail(factory, mailbox):
    team = await factory.team()
    invitation_id = uuid4()
    facts = {"invitation_id": invitation_id, "email": "once@example.com", "role": "member",
             "link": "http://localhost/invitations/inv_x", "expires_at": now() + timedelta(hours=1)}
    workspace_id = (await resolve_scope("acme", team.admin.id)).workspace_id
    async with atomic():
        first = await notifications.emit("invited", workspace_id, **facts)
    async with atomic():
        second = await notifications.emit("invited", workspace_id, **facts)
    assert len(first) == 1 and second == []
    assert await EmailOutbox.count() == 1
    assert delivery_jobs() == 1  # no job for the row that was not inserted
    assert [m["To"] for m in await deliver_all(mailbox)] == ["once@example.com"]


async def test_a_review_asked_again_for_the_same_step_mails_once(factory, mailbox):
    team = await factory.team()
    run = await review_run(factory, team)
    async with atomic():  # a resumed attempt reaching the same review step again
        await reviews.request(run, 2, "Check the copy", "1 description")
    assert await EmailOutbox.count() == 1
    assert len(await deliver_all(mailbox)) == 1


async def test_a_rolled_back_transaction_queues_nothing(factory):
    team = await factory.team()
    scope = await resolve_scope("acme", team.admin.id)
    with pytest.raises(RuntimeError):
        async with atomic():
            assert len(await notifications.emit(
                "invited", scope.workspace_id, invitation_id=uuid4(), email="never@example.com", role="member",
                link="http://localhost/invitations/inv_y", expires_at=now() + timedelta(hours=1))) == 1
            raise RuntimeError("the change that caused the event failed")
    assert await EmailOutbox.count() == 0
    assert delivery_jobs() == 0


async def test_an_unknown_kind_is_refused_by_name(factory):
    team = await factory.team()
    scope = await resolve_scope("acme", team.admin.id)
    with pytest.raises(notifications.UnknownEvent, match="'run_finnished'.*run_finished"):
        async with atomic():
            await notifications.emit("run_finnished", scope.workspace_id, run={}, previous_status="running")
    assert await EmailOutbox.count() == 0


async def test_every_outbox_row_has_a_dedupe_key(factory):
    team = await factory.team()
    row = {"workspace": (await resolve_scope("acme", team.admin.id)).workspace_id, "kind": "invitation",
           "event": "invited", "dedupe_key": "", "to_email": "x@example.com", "subject": "s", "body_text": "t",
           "body_html": "", "message_id": "<x@example.com>", "headers": {}}
    with pytest.raises(asyncpg.CheckViolationError):
        async with atomic():
            await repository.insert([row])
