"""Accepting an invitation through the pages: new account, existing account, single use, expiry."""

from __future__ import annotations

from datetime import timedelta

from agentledger.platform import invitations, workspaces
from agentledger.platform.clock import now
from agentledger.platform.database import atomic
from agentledger.platform.scoping import resolve_scope
from agentledger.platform.tables import Invitation, User
from tests.support.factories import csrf_from
from tests.support.fixtures import sign_in


async def invite(admin, email: str, role: str = "member") -> str:
    async with atomic():
        _, link = await invitations.invite(await resolve_scope("acme", admin.id), email, role)
    return "/invitations/" + link.rsplit("/", 1)[1]


async def test_a_new_person_creates_an_account_and_joins(client, factory):
    team = await factory.team()
    path = await invite(team.admin, "newbie@example.com", "admin")
    page = await client.get(path)
    assert page.status_code == 200 and "Join Acme" in page.text and "Create your account" in page.text
    joined = await client.post(f"{path}/signup", data={"name": "Nina Newbie", "password": "long enough pw!",
                                                       "_csrf_token": csrf_from(page.text)})
    assert joined.status_code == 303 and joined.headers["location"] == "/w/acme/executions"
    me = (await client.get("/api/v1/me")).json()
    assert me["user"]["email"] == "newbie@example.com"
    assert [(w["slug"], w["role"]) for w in me["workspaces"]] == [("acme", "admin")]


async def test_an_invitation_works_once(client, factory):
    team = await factory.team()
    path = await invite(team.admin, "once@example.com")
    page = await client.get(path)
    await client.post(f"{path}/signup", data={"name": "Once", "password": "long enough pw!",
                                              "_csrf_token": csrf_from(page.text)})
    again = await client.get(path)
    assert again.status_code == 410 and "was accepted" in again.text


async def test_a_short_password_is_explained_and_nothing_is_written(client, factory):
    team = await factory.team()
    path = await invite(team.admin, "weak@example.com")
    page = await client.get(path)
    response = await client.post(f"{path}/signup", data={"name": "Weak", "password": "short",
                                                         "_csrf_token": csrf_from(page.text)})
    assert response.status_code == 422 and "at least 10 characters" in response.text
    assert not await User.exists().where(User.email == "weak@example.com")
    assert (await Invitation.select(Invitation.accepted_at).first())["accepted_at"] is None


async def test_an_existing_account_signs_in_then_accepts(client, factory):
    team = await factory.team()
    path = await invite(team.admin, team.outsider.email)
    page = await client.get(path)
    assert f"/login?next={path}" in page.text
    await sign_in(client, team.outsider.email, team.outsider.password, next=path)
    page = await client.get(path)
    accepted = await client.post(f"{path}/accept", data={"_csrf_token": csrf_from(page.text)})
    assert accepted.status_code == 303
    assert [w.slug for w in await workspaces.workspaces_of(team.outsider.id)] == ["acme", "globex"]


async def test_someone_else_cannot_use_the_link(client, factory):
    team = await factory.team()
    path = await invite(team.admin, "intended@example.com")
    await sign_in(client, team.outsider.email, team.outsider.password)
    page = await client.get(path)
    assert "Sign out and sign in as intended@example.com" in page.text
    response = await client.post(f"{path}/accept", data={"_csrf_token": csrf_from(page.text)})
    assert response.status_code == 403 and "this invitation is for intended@example.com" in response.text
    assert [w.slug for w in await workspaces.workspaces_of(team.outsider.id)] == ["globex"]


async def test_expired_and_revoked_and_unknown_links(client, factory):
    team = await factory.team()
    path = await invite(team.admin, "late@example.com")
    await Invitation.update({Invitation.expires_at: now() - timedelta(minutes=1)}).where(
        Invitation.email == "late@example.com")
    expired = await client.get(path)
    assert expired.status_code == 410 and "expired" in expired.text
    revoked_path = await invite(team.admin, "gone@example.com")
    async with atomic():
        invitation = await Invitation.select(Invitation.id).where(Invitation.email == "gone@example.com").first()
        await invitations.revoke(await resolve_scope("acme", team.admin.id), invitation["id"])
    assert (await client.get(revoked_path)).status_code == 410
    assert (await client.get("/invitations/inv_not-a-real-token")).status_code == 404


async def test_reinviting_replaces_the_pending_link(client, factory):
    team = await factory.team()
    first = await invite(team.admin, "twice@example.com")
    second = await invite(team.admin, "twice@example.com")
    assert (await client.get(first)).status_code == 410
    assert (await client.get(second)).status_code == 200
