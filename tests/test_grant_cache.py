"""The API-token grant cache never outlives a revocation, a removal or a role change, across processes."""

from __future__ import annotations

import time

import httpx
import pytest

from agentledger.platform import tokens, workspaces
from agentledger.platform.database import atomic
from agentledger.platform.grant_cache import GrantCache
from agentledger.platform.scoping import resolve_scope
from tests.support.processes import web_server


def wait_for_status(url: str, headers: dict[str, str], status: int, timeout: float = 3.0) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if httpx.get(url, headers=headers).status_code == status:
            return time.monotonic() - started
        time.sleep(0.02)
    raise AssertionError(f"{url} did not answer {status} within {timeout}s")


async def test_a_revocation_elsewhere_reaches_a_running_server_at_once(factory):
    team = await factory.team()
    with web_server() as url:
        for _ in range(3):  # the server now holds the grant in its cache
            assert httpx.get(f"{url}/api/v1/me", headers=team.member.bearer).status_code == 200
        scope = await resolve_scope("acme", team.member.id)
        token_id = (await tokens.list_tokens(scope)).items[0].id
        async with atomic():  # this process is "another replica"
            await tokens.revoke_token(scope, token_id)
        assert wait_for_status(f"{url}/api/v1/me", team.member.bearer, 401) < 1.0


async def test_a_role_change_elsewhere_reaches_a_running_server_at_once(factory):
    team = await factory.team()
    invitations_url = "/api/v1/workspaces/acme/invitations"
    with web_server() as url:
        assert httpx.get(f"{url}{invitations_url}", headers=team.member.bearer).status_code == 403
        async with atomic():
            await workspaces.change_role(await resolve_scope("acme", team.admin.id), team.member.id, "admin")
        assert wait_for_status(f"{url}{invitations_url}", team.member.bearer, 200) < 1.0
        async with atomic():
            await workspaces.change_role(await resolve_scope("acme", team.admin.id), team.member.id, "member")
        assert wait_for_status(f"{url}{invitations_url}", team.member.bearer, 403) < 1.0


@pytest.mark.pure
def test_the_cache_is_off_without_a_live_subscription_and_ignores_stale_reads():
    cache = GrantCache()
    cache.ttl = 30
    cache.put("k", "grant", cache.generation)
    assert cache.get("k") is None  # not listening: nothing is cached
    cache.listening = True
    read_at = cache.generation
    cache.clear()  # an invalidation arrives while a request is reading the database
    cache.put("k", "stale grant", read_at)
    assert cache.get("k") is None
    cache.put("k", "fresh grant", cache.generation)
    assert cache.get("k") == "fresh grant"
    cache.ttl = 0
    cache.clear()
    cache.put("k", "grant", cache.generation)
    assert cache.get("k") is None  # GRANT_CACHE_SECONDS=0
