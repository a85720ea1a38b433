"""Server-rendered pages: what members and admins see and can do."""

from __future__ import annotations

import re

from agentledger.platform.tables import ApiToken, Membership
from tests.support.factories import csrf_from
from tests.support.fixtures import sign_in


async def test_sign_in_lands_on_the_executions_page_with_the_workspace_switcher(client, factory):
    team = await factory.team()
    await factory.member("globex", team.member)
    await sign_in(client, team.member.email, team.member.password)
    home = await client.get("/", follow_redirects=True)
    assert home.url.path == "/w/acme/executions"
    assert "No runs yet" in home.text
    assert 'href="/w/globex/executions"' in home.text  # the switcher lists both workspaces
    assert 'aria-current="page"' in home.text


async def test_admin_invites_from_the_members_page_and_sees_the_link_once(client, factory):
    team = await factory.team()
    await sign_in(client, team.admin.email, team.admin.password)
    page = await client.get("/w/acme/members")
    assert "Invite someone" in page.text and "Max Member" in page.text
    created = await client.post("/w/acme/invitations", data={"email": "pat@example.com", "role": "member",
                                                             "_csrf_token": csrf_from(page.text)})
    assert created.status_code == 200
    link = re.search(r'value="(http://127\.0\.0\.1:8000/invitations/[^"]+)"', created.text)
    assert link, "the invitation link is shown"
    again = await client.get("/w/acme/members")
    assert "pat@example.com" in again.text and link.group(1) not in again.text


async def test_members_see_the_team_but_no_admin_controls(client, factory):
    team = await factory.team()
    await sign_in(client, team.member.email, team.member.password)
    page = await client.get("/w/acme/members")
    assert "Ada Admin" in page.text
    assert "Invite someone" not in page.text and "<select" not in page.text
    assert "Leave" in page.text


async def test_the_last_admin_is_told_why_they_cannot_step_down(client, factory):
    team = await factory.team()
    await sign_in(client, team.admin.email, team.admin.password)
    page = await client.get("/w/acme/members")
    response = await client.post(f"/w/acme/members/{team.admin.id}/role",
                                 data={"role": "member", "_csrf_token": csrf_from(page.text)})
    assert response.status_code == 409 and "last admin" in response.text
    role = await Membership.select(Membership.role).where(Membership.user == team.admin.id).first()
    assert role["role"] == "admin"


async def test_tokens_page_shows_a_new_token_once_and_revokes(client, factory):
    team = await factory.team()
    await sign_in(client, team.member.email, team.member.password)
    page = await client.get("/w/acme/tokens")
    created = await client.post("/w/acme/tokens", data={"name": "laptop", "_csrf_token": csrf_from(page.text)})
    plain = re.search(r'value="(al_[^"]+)"', created.text).group(1)
    assert (await client.get("/api/v1/me", headers={"Authorization": f"Bearer {plain}"})).status_code == 200
    listing = await client.get("/w/acme/tokens")
    assert plain not in listing.text and plain[:10] in listing.text
    token = await ApiToken.select(ApiToken.id).where(ApiToken.name == "laptop").first()
    revoked = await client.post(f"/w/acme/tokens/{token['id']}/revoke", data={"_csrf_token": csrf_from(page.text)})
    assert revoked.status_code == 303
    assert (await client.get("/api/v1/me", headers={"Authorization": f"Bearer {plain}"})).status_code == 401


async def test_create_a_workspace_from_the_page(client, factory):
    team = await factory.team()
    await sign_in(client, team.member.email, team.member.password)
    page = await client.get("/workspaces")
    taken = await client.post("/workspaces", data={"slug": "acme", "name": "Again",
                                                  "_csrf_token": csrf_from(page.text)})
    assert taken.status_code == 409 and "taken" in taken.text
    bad = await client.post("/workspaces", data={"slug": "Not OK!", "name": "X", "_csrf_token": csrf_from(page.text)})
    assert bad.status_code == 422 and "lowercase" in bad.text
    made = await client.post("/workspaces", data={"slug": "side-project", "name": "Side project",
                                                 "_csrf_token": csrf_from(page.text)})
    assert made.status_code == 303 and made.headers["location"] == "/w/side-project/executions"


async def test_unknown_pages_get_a_friendly_404(client, factory):
    team = await factory.team()
    await sign_in(client, team.member.email, team.member.password)
    response = await client.get("/w/globex/members")
    assert response.status_code == 404 and "Not found" in response.text and "workspace &#39;globex&#39; not found" in response.text
    nowhere = await client.get("/no/such/page")
    assert nowhere.status_code == 404 and "<html" in nowhere.text
