"""OIDC sign-in against a real provider (oidc-provider-mock) on 127.0.0.1: code + PKCE S256,
state and nonce checked, accounts matched by verified email and then by subject."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from oidc_provider_mock import run_server_in_thread

from agentledger.platform.tables import User
from tests.support.factories import csrf_from
from tests.support.fixtures import sign_in


@pytest.fixture
def provider(override_settings):
    with run_server_in_thread() as server:
        issuer = f"http://localhost:{server.server_port}"
        override_settings(OIDC_ISSUER=issuer, OIDC_CLIENT_ID="agentledger", OIDC_CLIENT_SECRET="s3cret",
                          OIDC_DISPLAY_NAME="Acme SSO")
        yield issuer


@pytest.fixture
async def sso_client(provider):
    from agentledger.web.app import create_app

    transport = httpx.ASGITransport(app=create_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as client:
        yield client


def set_identity(issuer: str, sub: str, **claims) -> None:
    httpx.put(f"{issuer}/users/{sub}", json=claims).raise_for_status()


async def start(client) -> str:
    page = await client.get("/login")
    assert "Continue with Acme SSO" in page.text
    response = await client.post("/auth/oidc/start", data={"_csrf_token": csrf_from(page.text)})
    assert response.status_code == 303
    return response.headers["location"]


def authorize(url: str, sub: str) -> str:
    """Act as the person at the provider: pick the subject and answer the redirect to our callback."""
    response = httpx.post(url, data={"sub": sub})
    assert response.status_code in (302, 303), response.text[:300]
    return response.headers["location"]


def callback_path(location: str) -> str:
    parts = urlsplit(location)
    return f"{parts.path}?{parts.query}"


async def test_sign_in_with_oidc_uses_pkce_state_and_nonce(provider, sso_client, factory):
    person = await factory.user("sam@acme.example", "Sam")
    set_identity(provider, "sam-123", email="sam@acme.example", email_verified=True, name="Sam S")
    url = await start(sso_client)
    query = parse_qs(urlsplit(url).query)
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) >= 43
    assert query["state"][0] and query["nonce"][0] and query["response_type"] == ["code"]
    assert query["redirect_uri"] == ["http://127.0.0.1:8000/auth/oidc/callback"]

    back = await sso_client.get(callback_path(authorize(url, "sam-123")))
    assert back.status_code == 303 and back.headers["location"] == "/"
    me = (await sso_client.get("/api/v1/me")).json()
    assert me["user"]["id"] == str(person.id) and me["auth"] == "session"
    linked = await User.select(User.oidc_subject).where(User.id == person.id).first()
    assert linked["oidc_subject"] == "sam-123"


async def test_a_linked_identity_signs_in_even_after_the_email_changes(provider, sso_client, factory):
    person = await factory.user("kim@acme.example", "Kim")
    set_identity(provider, "kim-1", email="kim@acme.example", email_verified=True)
    await sso_client.get(callback_path(authorize(await start(sso_client), "kim-1")))
    set_identity(provider, "kim-1", email="kim.new@acme.example", email_verified=True)
    sso_client.cookies.clear()
    back = await sso_client.get(callback_path(authorize(await start(sso_client), "kim-1")))
    assert back.status_code == 303
    assert (await sso_client.get("/api/v1/me")).json()["user"]["id"] == str(person.id)


async def test_a_forged_state_is_refused(provider, sso_client, factory):
    await factory.user("sam@acme.example", "Sam")
    set_identity(provider, "sam-123", email="sam@acme.example", email_verified=True)
    location = authorize(await start(sso_client), "sam-123")
    forged = location.replace("state=", "state=x")
    response = await sso_client.get(callback_path(forged), headers={"accept": "application/json"})
    assert response.status_code == 400 and "start again" in response.json()["message"]
    assert (await sso_client.get("/api/v1/me")).status_code == 401


async def test_a_callback_cannot_be_replayed(provider, sso_client, factory):
    await factory.user("sam@acme.example", "Sam")
    set_identity(provider, "sam-123", email="sam@acme.example", email_verified=True)
    location = callback_path(authorize(await start(sso_client), "sam-123"))
    assert (await sso_client.get(location)).status_code == 303
    again = await sso_client.get(location, headers={"accept": "application/json"})
    assert again.status_code == 400


async def test_unknown_or_unverified_people_are_not_signed_in(provider, sso_client, factory):
    set_identity(provider, "stranger", email="stranger@example.com", email_verified=True)
    response = await sso_client.get(callback_path(authorize(await start(sso_client), "stranger")),
                                    headers={"accept": "application/json"})
    assert response.status_code == 403 and "ask a workspace admin to invite you" in response.json()["message"]
    await factory.user("eve@acme.example", "Eve")
    set_identity(provider, "eve", email="eve@acme.example", email_verified=False)
    response = await sso_client.get(callback_path(authorize(await start(sso_client), "eve")),
                                    headers={"accept": "application/json"})
    assert response.status_code == 403 and "verified email" in response.json()["message"]
    assert await User.count().where(User.oidc_subject.is_not_null()) == 0


async def test_an_identity_without_email_verified_is_refused(provider, sso_client, factory):
    await factory.user("mo@acme.example", "Mo")
    set_identity(provider, "mo", email="mo@acme.example")  # no email_verified claim at all
    response = await sso_client.get(callback_path(authorize(await start(sso_client), "mo")),
                                    headers={"accept": "application/json"})
    assert response.status_code == 403 and "verified email" in response.json()["message"]


async def test_a_bad_authorization_code_is_a_clear_403(provider, sso_client, factory):
    await factory.user("sam@acme.example", "Sam")
    set_identity(provider, "sam-123", email="sam@acme.example", email_verified=True)
    location = authorize(await start(sso_client), "sam-123")
    forged = re.sub(r"code=[^&]+", "code=not-a-real-code", location)
    response = await sso_client.get(callback_path(forged), headers={"accept": "application/json"})
    assert response.status_code == 403 and "refused" in response.json()["message"]


async def test_linking_by_email_takes_the_account_back_from_whoever_set_its_password(
        provider, sso_client, app, factory):
    """Someone holding an invitation link may have created the account with a password of their own;
    the verified owner's first single sign-on removes that password and ends those sessions."""
    squatter = await factory.user("owner@acme.example", "Not The Owner")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as other:
        assert (await sign_in(other, squatter.email, squatter.password)).status_code == 303
        set_identity(provider, "owner", email="owner@acme.example", email_verified=True)
        assert (await sso_client.get(callback_path(authorize(await start(sso_client), "owner")))).status_code == 303
        assert (await other.get("/api/v1/me")).status_code == 401
        other.cookies.clear()
        assert (await sign_in(other, squatter.email, squatter.password)).status_code == 401


async def test_an_account_linked_to_one_identity_is_not_relinked_to_another(provider, sso_client, factory):
    await factory.user("pat@acme.example", "Pat")
    set_identity(provider, "pat-1", email="pat@acme.example", email_verified=True)
    await sso_client.get(callback_path(authorize(await start(sso_client), "pat-1")))
    sso_client.cookies.clear()
    set_identity(provider, "pat-2", email="pat@acme.example", email_verified=True)
    response = await sso_client.get(callback_path(authorize(await start(sso_client), "pat-2")),
                                    headers={"accept": "application/json"})
    assert response.status_code == 403 and "another single sign-on identity" in response.json()["message"]
