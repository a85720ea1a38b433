"""Password-protected links to one run, for people outside the workspace (a client, an agency).

A link carries 256 random bits and is stored only as its SHA-256; its password as argon2id. Opening it
asks for the password (wrong ones lock that address out of the link, many from everywhere the whole link,
until whoever made it or an admin unlocks it: see ``lockout``), then shows the run's results read-only and
offers the PDF and CSV downloads, until the link expires, is revoked, the run is deleted, or whoever made
the link leaves the workspace. The link reads the run with its creator's rights, through the same
visibility rule as everyone else.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from uuid import UUID

from agentledger.platform import audit
from agentledger.platform.accounts import check_password
from agentledger.platform.clock import now
from agentledger.platform.config import get_settings
from agentledger.platform.errors import Forbidden, Invalid, NotAuthenticated, NotFound
from agentledger.platform.executions import repository as executions
from agentledger.platform.scoping import Scope, scope_for
from agentledger.platform.security import digest, hash_password, new_token, verify_password
from agentledger.platform.sharing import lockout, repository

TOKEN_PREFIX = "sl"
DEFAULT_DAYS = 14
MAX_DAYS = 90
GONE = "this link has expired or was revoked; ask whoever sent it for a new one"


@dataclass(frozen=True, slots=True)
class Link:
    id: UUID
    execution_id: UUID
    prefix: str
    created_by_name: str | None
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    opened_at: datetime | None
    opens: int
    created_by: UUID | None = None
    failures: lockout.Standing = field(default_factory=lambda: lockout.Standing(0, None, None, 0))

    @property
    def active(self) -> bool:
        return self.revoked_at is None and self.expires_at > now()

    def managed_by(self, scope: Scope) -> bool:
        """Who may lift its lockout: whoever made it (they know whom it was sent to) or an admin."""
        return scope.is_admin or self.created_by == scope.user_id


@dataclass(frozen=True, slots=True)
class Viewing:
    """An unlocked link: the run it shows and the rights it reads it with."""

    link_id: UUID
    execution_id: UUID
    scope: Scope
    expires_at: datetime


def url(token: str) -> str:
    return f"{get_settings().public_url}/s/{token}"


async def create(scope: Scope, execution_id: UUID, password: str, days: int = DEFAULT_DAYS) -> tuple[Link, str]:
    """A new link for a run the caller may change; answers it and the token (shown once)."""
    await executions.get(scope, execution_id, to_act=True)
    check_password(password)
    if not 1 <= days <= MAX_DAYS:
        raise Invalid(f"a link lasts 1 to {MAX_DAYS} days", field="expires_in_days")
    token = new_token(TOKEN_PREFIX)
    link_id = await repository.add_link(scope, execution_id, digest(token), token[:10], hash_password(password), days)
    await audit.record("execution.link.create", workspace_id=scope.workspace_id, actor_id=scope.user_id,
                       target=str(execution_id), link=str(link_id), days=days)
    return await _get(scope, execution_id, link_id), token


async def _get(scope: Scope, execution_id: UUID, link_id: UUID) -> Link:
    row = await repository.link(scope, execution_id, link_id)
    if row is None:
        raise NotFound("link not found")
    return (await _with_failures([Link(**row)]))[0]


async def _with_failures(found: list[Link]) -> list[Link]:
    figures = await lockout.standing([k.id for k in found])
    return [replace(k, failures=figures[k.id]) for k in found]


async def links(scope: Scope, run: dict[str, Any]) -> list[Link]:
    """The run's links, newest first, for whoever may change it; ``run`` is the row ``executions.get``
    gave the caller."""
    if not executions.may_act(scope, run):
        raise Forbidden("only whoever started the run or an admin can see its links")
    return await _with_failures([Link(**row) for row in await repository.links_of(scope, run["id"])])


async def revoke(scope: Scope, execution_id: UUID, link_id: UUID) -> Link:
    """End a link now; revoking it again changes nothing."""
    await executions.get(scope, execution_id, to_act=True)
    link = await _get(scope, execution_id, link_id)
    if link.revoked_at is None:
        await repository.revoke_link(scope, link_id)
        await audit.record("execution.link.revoke", workspace_id=scope.workspace_id, actor_id=scope.user_id,
                           target=str(execution_id), link=str(link_id))
    return await _get(scope, execution_id, link_id)


async def lift_lockout(scope: Scope, execution_id: UUID, link_id: UUID) -> tuple[Link, lockout.Standing]:
    """Let every address try the link's password again (the owner heard from the recipient); answers the
    link and its wrong passwords as they stood before."""
    await executions.get(scope, execution_id)
    link = await _get(scope, execution_id, link_id)
    if not link.managed_by(scope):
        raise Forbidden("only whoever made this link or an admin can unlock it")
    await audit.record("execution.link.unlock", workspace_id=scope.workspace_id, actor_id=scope.user_id,
                       target=str(execution_id), link=str(link_id), failures=link.failures.failures,
                       was_locked=link.failures.locked, sources_locked=link.failures.sources_locked)
    await lockout.clear(link_id)  # last: should it fail, the audit row rolls back with the request
    return await _get(scope, execution_id, link_id), link.failures


async def _live(token: str) -> dict | None:
    """The link behind a token while it works: not expired or revoked, its run not deleted."""
    if not token.startswith(f"{TOKEN_PREFIX}_") or len(token) > 100:
        return None
    return await repository.live_link(digest(token))


async def viewing(token: str) -> Viewing:
    """What a working link shows (404 once it does not work, for whatever reason)."""
    link = await _live(token)
    scope = await scope_for(link["workspace"], link["created_by"]) if link else None
    if link is None or scope is None:
        raise NotFound(GONE)
    await executions.get(scope, link["execution"])  # still visible to whoever made the link
    return Viewing(link["id"], link["execution"], scope, link["expires_at"])


async def unlock(token: str, password: str, client_host: str | None) -> Viewing:
    """Check the password (locked out per address and per link, see ``lockout``); counts the opening.
    ``client_host``: the address the request came from, as the server saw it."""
    link = await _live(token)
    if link is None:
        raise NotFound(GONE)
    source = lockout.source_of(client_host)
    await lockout.reserve(link["id"], source)
    if not verify_password(link["password_hash"], password):
        raise NotAuthenticated("wrong password; ask whoever sent the link for it")
    await lockout.forgive(link["id"], source)
    shown = await viewing(token)
    await repository.count_opening(link["id"])
    await audit.record("execution.link.open", workspace_id=link["workspace"], actor_id=None,
                       target=str(link["execution"]), link=str(link["id"]))
    return shown
