"""Defects found in review, each pinned by a test: markup injection, control characters, races,
throttling under concurrency, session renewal, failing after-commit hooks."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest

from agentledger.platform import invitations, workspaces
from agentledger.platform.database import atomic, on_commit
from agentledger.platform.errors import Conflict, Forbidden
from agentledger.platform.scoping import resolve_scope
from agentledger.platform.tables import Invitation, Workspace
from tests.support.factories import csrf_from
from tests.support.fixtures import sign_in

EVIL = "x');alert(document.domain);('"


async def test_pages_have_no_inline_script_and_send_a_content_security_policy(client, factory):
    team = await factory.team()
    evil = await factory.user("evil@acme.example", EVIL)
    await factory.member("acme", evil)
    await factory.token("acme", evil, name=EVIL)
    await sign_in(client, team.admin.email, team.admin.password)
    for path in ("/w/acme/members", "/w/acme/tokens"):
        page = await client.get(path)
        assert not re.search(r"\son[a-z]+=", page.text), f"inline event handler on {path}"
        assert EVIL not in page.text  # the quote is escaped wherever the name is shown
        policy = page.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
        assert page.headers["x-content-type-options"] == "nosniff"
        assert page.headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/workspaces/acme/tokens", {"name": "a\u0000b"}),
        ("/api/v1/workspaces/acme/tokens", {"name": "line\nbreak"}),
        ("/api/v1/workspaces/acme/invitations", {"email": "a\u0000b@example.com"}),
    ],
)
async def test_control_characters_are_a_422_not_a_500(client, factory, path, body):
    team = await factory.team()
    response = await client.post(path, json=body, headers=team.admin.bearer)
    assert response.status_code == 422, response.text
    assert response.json()["field"] in {"name", "email"}


async def test_control_characters_in_sign_in_and_urls_are_handled(client, factory):
    await factory.team()
    page = await client.get("/login")
    response = await client.post("/login", data={"email": "a\x00b@example.com", "password": "whatever it is",
                                                 "next": "/", "_csrf_token": csrf_from(page.text)})
    assert response.status_code == 422 and "email cannot contain NUL characters" in response.text  # at the boundary
    assert (await client.get("/api/v1/workspaces/a%00b/members")).status_code in (401, 404)


async def test_a_slug_with_a_trailing_newline_is_refused(client, factory):
    team = await factory.team()
    await sign_in(client, team.member.email, team.member.password)
    page = await client.get("/workspaces")
    response = await client.post("/api/v1/workspaces", json={"slug": "acme2\n", "name": "Acme 2"},
                                 headers={"x-csrftoken": csrf_from(page.text)})
    assert response.status_code == 422 and response.json()["field"] == "slug"
    assert await Workspace.count() == 2


async def test_names_with_line_breaks_are_refused(factory):
    owner = await factory.user()
    with pytest.raises(Exception) as raised:
        async with atomic():
            await workspaces.create_workspace("lines", "Evil\nBcc: x@example.com", owner.id)
    assert getattr(raised.value, "status_code", None) == 422


async def test_concurrent_creates_of_one_slug_give_one_workspace_and_a_409(factory):
    owner = await factory.user()

    async def create() -> str:
        try:
            async with atomic():
                await workspaces.create_workspace("race", "Race", owner.id)
            return "created"
        except Conflict:
            return "conflict"

    results = await asyncio.gather(*(create() for _ in range(6)))
    assert sorted(set(results)) == ["conflict", "created"] and results.count("created") == 1


async def test_concurrent_invitations_leave_one_live_link(factory):
    team = await factory.team()
    scope = await resolve_scope("acme", team.admin.id)

    async def invite() -> None:
        try:
            async with atomic():
                await invitations.invite(scope, "dup@example.com", "member")
        except Conflict:
            pass

    await asyncio.gather(*(invite() for _ in range(6)))
    live = await Invitation.count().where((Invitation.email == "dup@example.com") & Invitation.revoked_at.is_null())
    assert live == 1


async def test_a_demoted_admin_cannot_act_on_a_stale_role(factory):
    team = await factory.team()
    await factory.member("acme", second := await factory.user("second@acme.example"), "admin")
    stale = await resolve_scope("acme", second.id)  # read while still admin
    async with atomic():
        await workspaces.change_role(await resolve_scope("acme", team.admin.id), second.id, "member")
    with pytest.raises(Forbidden):
        async with atomic():
            await workspaces.change_role(stale, team.member.id, "admin")


async def test_parallel_wrong_passwords_cannot_outrun_the_throttle(app, factory):
    team = await factory.team()
    transport = httpx.ASGITransport(app=app)

    async def attempt() -> int:
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as c:
            page = await c.get("/login")
            response = await c.post("/login", data={"email": team.member.email, "password": "wrong password!",
                                                    "next": "/", "_csrf_token": csrf_from(page.text)})
            return response.status_code

    statuses = await asyncio.gather(*(attempt() for _ in range(20)))
    assert statuses.count(401) <= 5 and statuses.count(429) >= 15


async def test_an_active_session_keeps_its_cookie_fresh(client, factory):
    team = await factory.team()
    await sign_in(client, team.member.email, team.member.password)
    page = await client.get("/w/acme/executions")
    cookie = next(h for h in page.headers.get_list("set-cookie") if h.startswith("session="))
    assert "Max-Age=1209600" in cookie


async def test_a_failing_after_commit_hook_does_not_undo_or_hide_the_commit(factory):
    owner = await factory.user()
    ran = []

    def broken() -> None:
        raise ConnectionError("redis is down")

    async with atomic():
        await workspaces.create_workspace("kept", "Kept", owner.id)
        on_commit(broken)
        on_commit(lambda: ran.append("second hook"))
    assert await Workspace.exists().where(Workspace.slug == "kept")
    assert ran == ["second hook"]
