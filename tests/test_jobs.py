"""Jobs are enqueued after commit (never on rollback) and run on a real Dramatiq worker."""

from __future__ import annotations

import asyncio

import pytest

from agentledger.notifications.tables import EmailOutbox
from agentledger.platform import invitations
from agentledger.platform.broker import broker
from agentledger.platform.database import atomic
from tests.support.processes import worker
from tests.support.smtp import smtp_server


def queued(queue: str = "email") -> int:
    return broker.client.hlen(f"{broker.namespace}:{queue}.msgs")


async def test_a_job_is_sent_only_after_commit(factory):
    team = await factory.team()
    admin = await factory_scope(team.admin)
    async with atomic():
        await invitations.invite(admin, "later@example.com", "member")
        assert queued() == 0  # still inside the transaction: a worker could not see the row yet
    assert queued() == 1


async def test_a_rolled_back_change_sends_nothing(factory):
    team = await factory.team()
    admin = await factory_scope(team.admin)
    with pytest.raises(RuntimeError):
        async with atomic():
            await invitations.invite(admin, "never@example.com", "member")
            raise RuntimeError("something failed after the invitation was written")
    assert queued() == 0
    assert await EmailOutbox.count() == 0


async def test_a_worker_delivers_the_invitation_email(client, factory, override_settings):
    with smtp_server() as (inbox, port):
        settings = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port), "SMTP_STARTTLS": "false",
                    "MAIL_FROM": "agentledger <robot@example.com>"}
        override_settings(**settings)
        team = await factory.team()
        with worker(settings):
            response = await client.post("/api/v1/workspaces/acme/invitations",
                                         json={"email": "dana@example.com", "role": "admin"}, headers=team.admin.bearer)
            assert response.status_code == 201
            link = response.json()["accept_url"]
            messages = await asyncio.to_thread(inbox.wait_for, 1)
    mail = messages[0]
    assert mail["To"] == "dana@example.com"
    assert mail["From"] == "agentledger <robot@example.com>"
    assert mail["Subject"] == "You're invited to Acme on agentledger"
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert link in text and link in html and "as an admin" in text
    row = await EmailOutbox.select(EmailOutbox.sent_at, EmailOutbox.attempts).first()
    assert row["sent_at"] is not None and row["attempts"] == 1


async def factory_scope(person):
    from agentledger.platform.scoping import resolve_scope

    return await resolve_scope("acme", person.id)
