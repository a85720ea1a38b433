"""The API checks a request in one order: who is calling first (401 for nobody, whatever else is wrong),
then what they sent. And a query parameter a list does not know is a 422 naming it, never ignored."""

from __future__ import annotations

from uuid import UUID

import pytest

from tests.support.fixtures import sign_in

NOBODY = UUID("00000000-0000-4000-8000-000000000001")  # a run id (fixed: xdist workers must collect the same ids)

# (method, url, request keywords, what an admin's token gets today, the field it names)
BAD_REQUESTS = [
    ("GET", f"/api/v1/workspaces/acme/executions/{NOBODY}/export", {}, 422, "format"),  # format missing
    ("GET", f"/api/v1/workspaces/acme/executions/{NOBODY}/export?format=docx", {}, 422, "format"),
    ("GET", "/api/v1/workspaces/acme/executions?limit=many", {}, 422, "limit"),
    ("GET", "/api/v1/workspaces/acme/executions?since=yesterday", {}, 422, "since"),
    ("GET", "/api/v1/workspaces/acme/members?cursor=not-a-cursor", {}, 422, "cursor"),
    ("POST", "/api/v1/workspaces/acme/executions",
     {"content": b'{"agent": ', "headers": {"content-type": "application/json"}}, 400, None),
    ("POST", "/api/v1/workspaces/acme/tokens", {"content": b"name=ci", "headers": {"content-type": "text/plain"}},
     415, None),
    ("POST", "/api/v1/workspaces/acme/tokens", {"json": {}}, 422, "name"),
]


@pytest.mark.parametrize(("method", "url", "send", "today", "field"), BAD_REQUESTS,
                         ids=[f"{m} {u.split('acme')[1]} {s.get('content', '')!r}" for m, u, s, *_ in BAD_REQUESTS])
async def test_nobody_gets_401_before_any_parameter_is_checked(client, factory, method, url, send, today, field):
    team = await factory.team()
    anonymous = await client.request(method, url, **send)
    assert anonymous.status_code == 401, anonymous.text
    assert anonymous.json() == {"error": "not_authenticated", "field": None,
                                "message": "sign in first, or send 'Authorization: Bearer <API token>'"}
    revoked = await client.request(method, url, **{**send, "headers": {**send.get("headers", {}),
                                                                       "Authorization": "Bearer al_not-a-token"}})
    assert revoked.status_code == 401 and revoked.json()["error"] == "not_authenticated"
    signed = await client.request(method, url, **{**send, "headers": {**send.get("headers", {}), **team.admin.bearer}})
    assert signed.status_code == today, signed.text
    assert set(signed.json()) == {"error", "message", "field"} and signed.json()["field"] == field


async def test_the_api_reference_stays_open_to_everyone_where_the_readme_says(client):
    schema = await client.get("/api/v1/schema/openapi.json")
    assert schema.status_code == 200 and schema.json()["info"]["title"] == "agentledger API"
    for path in ("/api/v1/schema/swagger", "/api/v1/schema/redoc", "/api/v1/schema/openapi.yaml"):
        assert (await client.get(path)).status_code == 200, path
    for path in ("/redoc", "/openapi.json", "/openapi.yaml"):
        assert (await client.get(path)).status_code == 404, path


LISTS = [
    "/api/v1/workspaces/acme/executions",
    "/api/v1/workspaces/acme/ledger",
    "/api/v1/workspaces/acme/members",
    "/api/v1/workspaces/acme/tokens",
    "/api/v1/workspaces/acme/invitations",
    "/api/v1/workspaces/acme/schedules",
    "/api/v1/workspaces/acme/agents",
]


@pytest.mark.parametrize("url", LISTS)
async def test_an_unknown_query_parameter_is_a_422_naming_it(client, factory, url):
    team = await factory.team()
    typo = await client.get(url, params={"stauts": "failed"}, headers=team.admin.bearer)
    assert typo.status_code == 422, typo.text
    assert typo.json() == {"error": "invalid", "message": "unknown query parameter 'stauts'", "field": "stauts"}
    assert (await client.get(url, params={"stauts": "failed"})).status_code == 401  # nobody: still 401 first


@pytest.mark.parametrize("url", [u for u in LISTS if not u.endswith(("/agents", "/schedules"))])
async def test_cursor_and_limit_stay_accepted(client, factory, url):
    team = await factory.team()
    page = await client.get(url, params={"limit": 5}, headers=team.admin.bearer)
    assert page.status_code == 200, page.text
    assert "items" in page.json()


async def test_a_list_takes_the_parameters_it_declares_and_names_the_first_it_does_not(client, factory):
    team = await factory.team()
    url = "/api/v1/workspaces/acme/executions"
    known = await client.get(url, params=[("status", "failed"), ("status", "completed"), ("agent", "noop"),
                                          ("since", "2026-01-01T00:00:00Z")], headers=team.member.bearer)
    assert known.status_code == 200, known.text
    two = await client.get(url, params=[("agent", "noop"), ("colour", "red"), ("size", "xl")],
                           headers=team.member.bearer)
    assert two.status_code == 422 and two.json()["field"] == "colour"
    results = await client.get(f"{url}/{NOBODY}/results", params={"knd": "score"}, headers=team.member.bearer)
    assert results.status_code == 422 and results.json()["field"] == "knd"


async def test_pages_are_not_affected(client, factory):
    team = await factory.team()
    await sign_in(client, team.member.email, team.member.password)
    page = await client.get("/w/acme/executions", params={"utm_source": "mail"})
    assert page.status_code == 200
