"""The people API: /me, members and roles, invitations, tokens, and the errors a client can cause."""

from __future__ import annotations

from agentledger.notifications.tables import EmailOutbox
from agentledger.platform.tables import ApiToken, Invitation, Membership


async def test_me_lists_workspaces_with_role(client, factory):
    team = await factory.team()
    await factory.member("globex", team.member, "admin")
    # a session sees every workspace; the member's token (made for acme) sees only acme
    response = await client.get("/api/v1/me", headers=team.member.bearer)
    assert response.status_code == 200
    body = response.json()
    assert body["user"]["email"] == "member@acme.example"
    assert body["auth"] == "token"
    assert [(w["slug"], w["role"]) for w in body["workspaces"]] == [("acme", "member")]


async def test_token_of_one_workspace_cannot_reach_another(client, factory):
    team = await factory.team()
    await factory.member("globex", team.member)
    response = await client.get("/api/v1/workspaces/globex/members", headers=team.member.bearer)
    assert response.status_code == 404


async def test_admin_changes_roles_but_never_removes_the_last_admin(client, factory):
    team = await factory.team()
    h = team.admin.bearer
    demote_self = await client.patch(f"/api/v1/workspaces/acme/members/{team.admin.id}", json={"role": "member"},
                                     headers=h)
    assert demote_self.status_code == 409
    assert "last admin" in demote_self.json()["message"]
    remove_self = await client.delete(f"/api/v1/workspaces/acme/members/{team.admin.id}", headers=h)
    assert remove_self.status_code == 409

    promoted = await client.patch(f"/api/v1/workspaces/acme/members/{team.member.id}", json={"role": "admin"},
                                  headers=h)
    assert promoted.status_code == 200 and promoted.json()["role"] == "admin"
    # now there are two admins: the first may step down
    stepped_down = await client.patch(f"/api/v1/workspaces/acme/members/{team.admin.id}",
                                      json={"role": "member"}, headers=h)
    assert stepped_down.status_code == 200


async def test_member_cannot_manage_members(client, factory):
    team = await factory.team()
    response = await client.patch(f"/api/v1/workspaces/acme/members/{team.admin.id}", json={"role": "member"},
                                  headers=team.member.bearer)
    assert response.status_code == 403
    assert response.json() == {"error": "forbidden", "message": "only workspace admins can do this", "field": None}


async def test_removing_a_member_revokes_their_tokens(client, factory):
    team = await factory.team()
    response = await client.delete(f"/api/v1/workspaces/acme/members/{team.member.id}", headers=team.admin.bearer)
    assert response.status_code == 204
    assert not await Membership.exists().where(Membership.user == team.member.id)
    assert (await client.get("/api/v1/me", headers=team.member.bearer)).status_code == 401


async def test_invitation_is_stored_with_outbox_row_and_link_shown_once(client, factory):
    team = await factory.team()
    response = await client.post("/api/v1/workspaces/acme/invitations",
                                 json={"email": "New.Person@Example.com", "role": "member"}, headers=team.admin.bearer)
    assert response.status_code == 201
    body = response.json()
    assert body["email"] == "new.person@example.com" and body["status"] == "pending"
    token = body["accept_url"].rsplit("/", 1)[1]
    assert len(token) >= 40
    stored = await Invitation.select(Invitation.token_hash).first()
    assert token not in stored["token_hash"]  # only the digest is kept
    mail = await EmailOutbox.select().first()
    assert mail["to_email"] == "new.person@example.com"
    assert body["accept_url"] in mail["body_text"] and "Acme" in mail["subject"]
    listed = (await client.get("/api/v1/workspaces/acme/invitations", headers=team.admin.bearer)).json()
    assert listed["items"][0]["accept_url"] is None and listed["next_cursor"] is None


async def test_bad_invitations_write_nothing(client, factory):
    team = await factory.team()
    h = team.admin.bearer
    bad_email = await client.post("/api/v1/workspaces/acme/invitations", json={"email": "not-an-email"}, headers=h)
    assert bad_email.status_code == 422 and bad_email.json()["field"] == "email"
    duplicate = await client.post("/api/v1/workspaces/acme/invitations", json={"email": "member@acme.example"},
                                  headers=h)
    assert duplicate.status_code == 409 and "already a member" in duplicate.json()["message"]
    bad_role = await client.post("/api/v1/workspaces/acme/invitations", json={"email": "x@example.com",
                                                                             "role": "owner"}, headers=h)
    assert bad_role.status_code == 422 and bad_role.json()["field"] == "role"
    assert await Invitation.count() == 0
    assert await EmailOutbox.count() == 0


async def test_request_errors_have_one_shape(client, factory):
    team = await factory.team()
    h = team.admin.bearer
    url = "/api/v1/workspaces/acme/tokens"
    malformed = await client.post(url, content=b'{"name": ', headers={**h, "content-type": "application/json"})
    assert malformed.status_code == 400 and malformed.json()["error"] == "bad_request"
    missing = await client.post(url, json={}, headers=h)
    assert missing.status_code == 422 and missing.json()["field"] == "name"
    unknown_field = await client.post(url, json={"name": "ci", "admin": True}, headers=h)
    assert unknown_field.status_code == 422 and unknown_field.json()["field"] == "admin"
    wrong_type = await client.post(url, content=b"name=ci", headers={**h, "content-type": "text/plain"})
    assert wrong_type.status_code == 415 and "application/json" in wrong_type.json()["message"]
    huge = await client.post(url, json={"name": "x" * (1024 * 1024 + 10)}, headers=h)
    assert huge.status_code == 413 and huge.json()["error"] == "payload_too_large"
    nowhere = await client.get("/api/v1/nothing-here", headers=h)
    assert nowhere.status_code == 404 and set(nowhere.json()) == {"error", "message", "field"}
    assert await ApiToken.count() == 3  # only the team's own


async def test_tokens_are_shown_once_stored_hashed_and_revocable(client, factory):
    team = await factory.team()
    created = await client.post("/api/v1/workspaces/acme/tokens", json={"name": "CI"}, headers=team.member.bearer)
    assert created.status_code == 201
    body = created.json()
    plain = body["token"]
    assert plain.startswith("al_") and len(plain) >= 3 + 43  # 256 bits, base64url
    assert body["prefix"] == plain[:10]
    row = await ApiToken.select(ApiToken.token_hash).where(ApiToken.id == body["id"]).first()
    assert plain not in row["token_hash"]
    listed = (await client.get("/api/v1/workspaces/acme/tokens", headers=team.member.bearer)).json()["items"]
    assert {t["name"] for t in listed} == {"CI", "test"} and all(t["token"] is None for t in listed)
    used = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {plain}"})
    assert used.status_code == 200
    after = (await client.get("/api/v1/workspaces/acme/tokens", headers=team.member.bearer)).json()["items"]
    assert next(t for t in after if t["name"] == "CI")["last_used_at"] is not None
    revoked = await client.delete(f"/api/v1/workspaces/acme/tokens/{body['id']}", headers=team.member.bearer)
    assert revoked.status_code == 204
    refused = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {plain}"})
    assert refused.status_code == 401 and "revoked" in refused.json()["message"]


async def test_members_see_only_their_tokens_admins_see_all(client, factory):
    team = await factory.team()
    mine = (await client.get("/api/v1/workspaces/acme/tokens", headers=team.member.bearer)).json()["items"]
    assert {t["user_email"] for t in mine} == {"member@acme.example"}
    everyone = (await client.get("/api/v1/workspaces/acme/tokens", headers=team.admin.bearer)).json()["items"]
    assert {t["user_email"] for t in everyone} == {"member@acme.example", "admin@acme.example"}
    admin_token = next(t for t in everyone if t["user_email"] == "admin@acme.example")
    hidden = await client.delete(f"/api/v1/workspaces/acme/tokens/{admin_token['id']}", headers=team.member.bearer)
    assert hidden.status_code == 404


async def test_openapi_schema_documents_the_api(client):
    schema = (await client.get("/api/v1/schema/openapi.json")).json()
    assert "/api/v1/me" in schema["paths"]
    assert "/api/v1/workspaces/{ws}/members" in schema["paths"]
    assert "bearer" in schema["components"]["securitySchemes"]


async def test_lists_page_newest_first_with_cursors(client, factory):
    team = await factory.team()
    names = [f"token {n}" for n in range(7)]
    for name in names:
        created = await client.post("/api/v1/workspaces/acme/tokens", json={"name": name}, headers=team.member.bearer)
        assert created.status_code == 201
    seen, cursor = [], None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/api/v1/workspaces/acme/tokens", params=params, headers=team.member.bearer)).json()
        assert len(page["items"]) <= 3
        seen += [t["name"] for t in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [*reversed(names), "test"]  # newest first, every token once


async def test_bad_paging_parameters_are_422_naming_them(client, factory):
    team = await factory.team()
    h = team.admin.bearer
    for params, field in (({"limit": 0}, "limit"), ({"limit": 251}, "limit"), ({"limit": "many"}, "limit"),
                          ({"cursor": "not-a-cursor"}, "cursor")):
        response = await client.get("/api/v1/workspaces/acme/members", params=params, headers=h)
        assert response.status_code == 422, (params, response.text)
        assert response.json()["field"] == field
