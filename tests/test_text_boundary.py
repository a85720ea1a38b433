"""Text that PostgreSQL cannot store (NUL) and JSON too deep to decode are refused at the boundary, once
for every request, with a 4xx naming the field: never a 500 and never a traceback in the log."""

from __future__ import annotations

import logging

from agentledger.agents import launch, runner
from agentledger.platform.database import atomic
from agentledger.platform.scoping import resolve_scope
from tests.support import agents  # noqa: F401 - registers test-review
from tests.support.factories import csrf_from
from tests.support.fixtures import sign_in

API = "/api/v1/workspaces/acme"


async def test_a_nul_anywhere_in_a_json_body_is_a_422_naming_its_field(client, factory):
    team = await factory.team()
    await factory.credits("acme", 100)
    async with atomic():
        run = await launch.start(await resolve_scope("acme", team.member.id), launch.Request("test-review", {}))
    await runner.run_execution(run["id"])
    review = await client.post(f"{API}/executions/{run['id']}/review", headers=team.member.bearer,
                               json={"decision": "approve", "comment": "fine\u0000"})
    assert review.status_code == 422, review.text
    assert review.json() == {"error": "invalid", "message": "comment cannot contain NUL characters",
                             "field": "comment"}
    nested = await client.post(f"{API}/executions", headers=team.member.bearer,
                               json={"agent": "url-check", "inputs": {"urls": ["http://x.example/\u0000"]}})
    assert nested.status_code == 422 and nested.json()["field"] == "inputs.urls[0]"


async def test_a_nul_in_a_query_or_a_form_is_a_422_on_the_api_and_the_pages(client, factory):
    team = await factory.team()
    api = await client.get(f"{API}/executions", params={"agent": "\x00"}, headers=team.member.bearer)
    assert api.status_code == 422 and api.json()["field"] == "agent"
    assert (await sign_in(client, team.member.email, team.member.password)).status_code == 303
    page = await client.get("/w/acme/executions", params={"agent": "\x00"})
    assert page.status_code == 422 and "agent cannot contain NUL characters" in page.text
    token = csrf_from((await client.get("/w/acme/executions/new?agent=seo-audit")).text)
    form = await client.post("/w/acme/executions", data={"_csrf_token": token, "agent": "seo-audit",
                                                         "in.start_url": "http://x.example/\x00", "mode": "live"})
    assert form.status_code == 422


async def test_json_nested_too_deeply_is_a_400_with_one_short_log_line(client, factory, caplog):
    team = await factory.team()
    deep = b"[" * 5000 + b"]" * 5000
    headers = {**team.member.bearer, "content-type": "application/json"}
    with caplog.at_level(logging.INFO):
        response = await client.post(f"{API}/executions", content=deep, headers=headers)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "bad_request" and "nested too deeply" in response.json()["message"]
    assert not any(r.exc_info for r in caplog.records)  # no traceback per request
    anonymous = await client.post(f"{API}/executions", content=deep, headers={"content-type": "application/json"})
    assert anonymous.status_code == 401
