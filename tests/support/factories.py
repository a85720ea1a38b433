"""Build test data through the services (never raw inserts), so tests exercise the real rules."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from uuid import UUID

from agentledger.platform import accounts, tokens, workspaces
from agentledger.platform.database import atomic
from agentledger.platform.scoping import Scope, resolve_scope
from agentledger.platform.tables import Workspace

PASSWORD = "a long enough password"
_n = itertools.count(1)


@dataclass
class Person:
    id: UUID
    email: str
    name: str
    password: str
    token: str | None = None

    @property
    def bearer(self) -> dict[str, str]:
        assert self.token, "call factory.token(...) first"
        return {"Authorization": f"Bearer {self.token}"}


class Factory:
    async def user(self, email: str | None = None, name: str | None = None, password: str = PASSWORD) -> Person:
        n = next(_n)
        email = email or f"user{n}@example.com"
        async with atomic():
            account = await accounts.create_user(email, name or f"User {n}", password)
        return Person(account.id, account.email, account.name, password)

    async def workspace(self, slug: str, owner: Person, name: str | None = None) -> Scope:
        async with atomic():
            await workspaces.create_workspace(slug, name or slug.title(), owner.id)
        return await resolve_scope(slug, owner.id)

    async def member(self, slug: str, person: Person, role: str = "member") -> Scope:
        async with atomic():
            row = await Workspace.select(Workspace.id).where(Workspace.slug == slug).first()
            await workspaces.add_member(row["id"], person.id, role, actor_id=None)
        return await resolve_scope(slug, person.id)

    async def token(self, slug: str, person: Person, name: str = "test") -> str:
        async with atomic():
            _, plain = await tokens.create_token(await resolve_scope(slug, person.id), name)
        person.token = plain
        return plain

    async def credits(self, slug: str, amount: int) -> UUID:
        """Grant ``amount`` credits to workspace ``slug``; answers the workspace id."""
        from agentledger.billing import ledger

        row = await Workspace.select(Workspace.id).where(Workspace.slug == slug).first()
        async with atomic():
            await ledger.grant(row["id"], amount, actor_id=None, memo="test")
        return row["id"]

    async def team(self) -> "Team":
        """Acme (admin + member) and Globex (its own admin), each with an API token."""
        admin = await self.user("admin@acme.example", "Ada Admin")
        member = await self.user("member@acme.example", "Max Member")
        outsider = await self.user("admin@globex.example", "Olga Outsider")
        await self.workspace("acme", admin, "Acme")
        await self.member("acme", member)
        await self.workspace("globex", outsider, "Globex")
        for slug, person in (("acme", admin), ("acme", member), ("globex", outsider)):
            await self.token(slug, person)
        return Team(admin, member, outsider)


@dataclass
class Team:
    admin: Person
    member: Person
    outsider: Person


def csrf_from(html: str) -> str:
    match = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF field"
    return match.group(1)
