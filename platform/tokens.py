"""Personal API tokens, one workspace each. Stored as SHA-256 digests; the plain token is shown once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import msgspec

from agentledger.platform import audit
from agentledger.platform.clock import now
from agentledger.platform.database import fetch
from agentledger.platform.errors import NotFound
from agentledger.platform.grant_cache import announce_change, cache
from agentledger.platform.pagination import ALL, Page, PageRequest, keyset
from agentledger.platform.scoping import Scope, in_workspace
from agentledger.platform.security import digest, new_token
from agentledger.platform.tables import ApiToken
from agentledger.platform.validation import single_line

TOKEN_PREFIX = "al"
LAST_USED_RESOLUTION = timedelta(minutes=1)  # write last_used_at at most this often per token


class TokenInfo(msgspec.Struct, frozen=True):
    """An API token as its owner sees it (never its secret). Also the API's shape: ``schemas.TokenOut`` is
    this plus the plain token of the response that creates it, so the fields are declared here once."""

    id: UUID
    name: str
    prefix: str
    user_id: UUID
    user_email: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


@dataclass(slots=True)
class TokenGrant:
    """What an API token grants: its owner, acting in the token's workspace."""

    token_id: UUID
    last_used_at: Any
    email: str
    name: str
    scope: Scope


async def token_grant(token_hash: str) -> TokenGrant | None:
    """The live token with this digest, its active owner and their membership, in one query (this runs
    on every API call). A token whose owner left the workspace grants nothing."""
    rows = await fetch(
        "SELECT t.id, t.last_used_at, u.id AS user_id, u.email, u.name, m.role, w.id AS workspace_id, "
        "w.slug, w.name AS workspace_name "
        "FROM api_tokens t JOIN memberships m USING (\"user\", workspace) JOIN users u ON u.id = t.\"user\" "
        "JOIN workspaces w ON w.id = t.workspace "
        "WHERE t.token_hash = {} AND t.revoked_at IS NULL AND u.is_active",
        token_hash,
    )
    if not rows:
        return None
    r = rows[0]
    scope = Scope(r["workspace_id"], r["slug"], r["workspace_name"], r["user_id"], r["role"])
    return TokenGrant(r["id"], r["last_used_at"], r["email"], r["name"], scope)


def check_token_name(name: str) -> str:
    return single_line(name, "name", label="token name", max_length=80)


async def create_token(scope: Scope, name: str) -> tuple[TokenInfo, str]:
    """A new token for the caller in this workspace; answers its info and the plain token (shown once)."""
    name = check_token_name(name)
    plain = new_token(TOKEN_PREFIX)
    rows = await ApiToken.insert(
        ApiToken(workspace=scope.workspace_id, user=scope.user_id, name=name, prefix=plain[:10],
                 token_hash=digest(plain))
    ).returning(ApiToken.id)
    await audit.record("token.created", workspace_id=scope.workspace_id, actor_id=scope.user_id,
                       target=str(rows[0]["id"]), name=name)
    return (await _get(scope, rows[0]["id"])), plain


_FIELDS = (
    ApiToken.id, ApiToken.name, ApiToken.prefix, ApiToken.user.id.as_alias("user_id"),
    ApiToken.user.email.as_alias("user_email"), ApiToken.created_at, ApiToken.last_used_at, ApiToken.revoked_at,
)


def _info(row: dict) -> TokenInfo:
    return TokenInfo(**row)


def _visible(scope: Scope):  # admins see every token in the workspace, members their own
    where = in_workspace(ApiToken, scope)
    return where if scope.is_admin else where & (ApiToken.user == scope.user_id)


async def _get(scope: Scope, token_id: UUID) -> TokenInfo:
    row = await ApiToken.select(*_FIELDS).where(_visible(scope) & (ApiToken.id == token_id)).first()
    if row is None:
        raise NotFound("token not found")
    return _info(row)


async def list_tokens(scope: Scope, request: PageRequest = ALL) -> Page[TokenInfo]:
    """Tokens, newest first: the caller's own, or everyone's for admins."""
    rows, next_cursor = await keyset(ApiToken.select(*_FIELDS).where(_visible(scope)), ApiToken, request)
    return Page([_info(r) for r in rows], next_cursor)


async def revoke_token(scope: Scope, token_id: UUID) -> TokenInfo:
    token = await _get(scope, token_id)
    if token.revoked_at is None:
        await ApiToken.update({ApiToken.revoked_at: now()}).where(_visible(scope) & (ApiToken.id == token_id))
        announce_change()
        await audit.record("token.revoked", workspace_id=scope.workspace_id, actor_id=scope.user_id,
                           target=str(token_id))
    return await _get(scope, token_id)


async def authenticate_token(plain: str) -> TokenGrant | None:
    """What a live token grants (revoked tokens, deactivated owners and former members: None).
    Served from the grant cache when it can be; ``last_used_at`` is written at most once a minute."""
    if not plain.startswith(f"{TOKEN_PREFIX}_") or len(plain) > 200:
        return None
    key = digest(plain)
    grant = cache.get(key)
    if grant is None:
        generation = cache.generation
        grant = await token_grant(key)
        if grant is None:
            return None
        cache.put(key, grant, generation)
    moment = now()
    if grant.last_used_at is None or moment - grant.last_used_at > LAST_USED_RESOLUTION:
        grant.last_used_at = moment
        await ApiToken.update({ApiToken.last_used_at: moment}).where(ApiToken.id == grant.token_id)
    return grant
