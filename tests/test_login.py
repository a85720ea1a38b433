"""Password sign-in: sessions in Redis, rotation, sign-out, throttling, cookie flags and CSRF."""

from __future__ import annotations

import httpx

from tests.support.factories import csrf_from
from tests.support.fixtures import sign_in


def session_id(response: httpx.Response) -> str:
    cookie = session_cookie(response)
    assert cookie, "no session cookie set"
    return cookie.split(";")[0].split("=", 1)[1]


def session_cookie(response: httpx.Response, name: str = "session") -> str | None:
    for header in response.headers.get_list("set-cookie"):
        if header.startswith(f"{name}="):
            return header
    return None


async def test_sign_in_sets_an_httponly_lax_session_and_redirects(client, factory):
    team = await factory.team()
    response = await sign_in(client, team.member.email, team.member.password, next="/w/acme/members")
    assert response.status_code == 303
    assert response.headers["location"] == "/w/acme/members"
    cookie = session_cookie(response)
    assert cookie and "HttpOnly" in cookie and "samesite=lax" in cookie.lower() and "Secure" not in cookie
    me = (await client.get("/api/v1/me")).json()
    assert me["auth"] == "session" and me["user"]["email"] == team.member.email


async def test_sign_in_never_redirects_off_site(client, factory):
    team = await factory.team()
    response = await sign_in(client, team.member.email, team.member.password, next="//evil.example/x")
    assert response.headers["location"] == "/"


async def test_session_id_is_rotated_on_sign_in(client, factory):
    team = await factory.team()
    await client.get("/login")
    client.cookies.set("session", "f" * 64, domain="127.0.0.1", path="/")  # a planted session id
    first_id = session_id(await sign_in(client, team.member.email, team.member.password))
    assert first_id != "f" * 64
    second_id = session_id(await sign_in(client, team.member.email, team.member.password))
    assert second_id != first_id
    client.cookies.delete("session")
    client.cookies.set("session", first_id, domain="127.0.0.1", path="/")
    assert (await client.get("/api/v1/me")).status_code == 401  # the old session is gone


async def test_sign_out_kills_the_session(client, factory):
    team = await factory.team()
    old = session_id(await sign_in(client, team.member.email, team.member.password))
    page = await client.get("/w/acme/executions")
    response = await client.post("/logout", data={"_csrf_token": csrf_from(page.text)})
    assert response.status_code == 303 and response.headers["location"] == "/login"
    cleared = response.headers["set-cookie"].lower()  # the browser drops the cookie now, not in 14 days
    assert "max-age=0" in cleared and "max-age=1209600" not in cleared
    client.cookies.delete("session")
    client.cookies.set("session", old, domain="127.0.0.1", path="/")
    assert (await client.get("/api/v1/me")).status_code == 401


async def test_removing_a_member_ends_their_sessions(app, client, factory):
    team = await factory.team()
    await sign_in(client, team.member.email, team.member.password)
    assert (await client.get("/api/v1/me")).status_code == 200
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:8000") as admin:
        removed = await admin.delete(f"/api/v1/workspaces/acme/members/{team.member.id}", headers=team.admin.bearer)
        assert removed.status_code == 204
    assert (await client.get("/api/v1/me")).status_code == 401
    assert (await client.get("/w/acme/executions")).headers["location"].startswith("/login")


async def test_wrong_password_and_unknown_account_get_the_same_answer(client, factory):
    team = await factory.team()
    wrong = await sign_in(client, team.member.email, "not the password")
    unknown = await sign_in(client, "nobody@example.com", "whatever it is")
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert "wrong email or password" in response.text
        assert session_cookie(response) is None


async def test_five_wrong_passwords_lock_the_account_for_fifteen_minutes(client, factory):
    team = await factory.team()
    for _ in range(5):
        assert (await sign_in(client, team.member.email, "not the password")).status_code == 401
    locked = await sign_in(client, team.member.email, team.member.password)
    assert locked.status_code == 429
    assert "try again in 15 minutes" in locked.text
    assert 890 <= int(locked.headers["retry-after"]) <= 900
    # other accounts are unaffected
    assert (await sign_in(client, team.admin.email, team.admin.password)).status_code == 303


async def test_forms_need_the_csrf_token(client, factory):
    team = await factory.team()
    await client.get("/login")
    response = await client.post("/login", data={"email": team.member.email, "password": team.member.password})
    assert response.status_code == 403


async def test_cookie_writes_to_the_api_need_csrf_but_bearer_tokens_do_not(client, factory):
    team = await factory.team()
    await sign_in(client, team.member.email, team.member.password)
    no_csrf = await client.post("/api/v1/workspaces/acme/tokens", json={"name": "x"})
    assert no_csrf.status_code == 403
    page = await client.get("/w/acme/tokens")
    with_csrf = await client.post("/api/v1/workspaces/acme/tokens", json={"name": "x"},
                                  headers={"x-csrftoken": csrf_from(page.text)})
    assert with_csrf.status_code == 201
    client.cookies.clear()
    bearer = await client.post("/api/v1/workspaces/acme/tokens", json={"name": "y"}, headers=team.member.bearer)
    assert bearer.status_code == 201


async def test_https_base_url_makes_cookies_secure_with_host_prefix(override_settings, factory):
    override_settings(BASE_URL="https://agentledger.example.com")
    from agentledger.web.app import create_app

    team = await factory.team()
    transport = httpx.ASGITransport(app=create_app())
    async with httpx.AsyncClient(transport=transport, base_url="https://agentledger.example.com") as client:
        page = await client.get("/login")
        csrf_cookie = page.headers["set-cookie"]
        assert csrf_cookie.startswith("__Host-csrftoken=") and "Secure" in csrf_cookie and "HttpOnly" in csrf_cookie
        response = await client.post("/login", data={"email": team.member.email, "password": team.member.password,
                                                     "next": "/", "_csrf_token": csrf_from(page.text)})
        cookie = session_cookie(response, "__Host-session")
        assert response.status_code == 303
        assert cookie and "Secure" in cookie and "HttpOnly" in cookie and "Path=/" in cookie
        assert "Domain" not in cookie
