"""The demo seed: Acme (an admin and a member) and Globex (its own admin), with one API token each,
10,000 credits per workspace, and both workspaces connected to the demo shop (its connector is renewed
at every start, since the shop's address and token can change).

Idempotent: a second ``./run demo`` on the same ``.data/`` reuses the people, passwords and tokens in
``.data/demo.json``; if that file was lost, passwords are reset and fresh tokens made.
"""

from __future__ import annotations

import contextlib
import json
import secrets
from pathlib import Path
from typing import Any

from agentledger.billing import ledger
from agentledger.billing.tables import LedgerTransfer
from agentledger.platform import accounts, demo_history, tokens, workspaces
from agentledger.platform.connectors import service as connectors
from agentledger.platform.database import atomic
from agentledger.platform.errors import Conflict
from agentledger.platform.scoping import resolve_scope
from agentledger.platform.security import hash_password
from agentledger.platform.tables import User, Workspace
from agentledger.platform.validation import origin

PEOPLE = [
    {"email": "alice@acme.example", "name": "Alice Admin", "workspace": "acme", "role": "admin"},
    {"email": "bob@acme.example", "name": "Bob Member", "workspace": "acme", "role": "member"},
    {"email": "gina@globex.example", "name": "Gina Globex", "workspace": "globex", "role": "admin"},
]
WORKSPACES = {"acme": "Acme", "globex": "Globex"}
DEMO_CREDITS = 10_000
DEMO_CONNECTOR = "Demo shop"


async def _still_valid(saved: dict[str, Any]) -> bool:
    for person in saved.get("users", []):
        if await tokens.authenticate_token(person.get("token", "")) is None:
            return False
    return len(saved.get("users", [])) == len(PEOPLE)


async def _ensure_person(person: dict[str, str], password: str) -> Any:
    account = await accounts.find_by_email(person["email"])
    if account is None:
        return await accounts.create_user(person["email"], person["name"], password)
    await User.update({User.password_hash: hash_password(password)}).where(User.id == account.id)
    return account


async def _seed_credits() -> None:
    """Each demo workspace gets its credits once (the grant's key makes it so)."""
    for slug in WORKSPACES:
        if not await LedgerTransfer.exists().where(LedgerTransfer.key == f"demo-seed:{slug}"):
            workspace = await Workspace.select(Workspace.id).where(Workspace.slug == slug).first()
            await ledger.grant(workspace["id"], DEMO_CREDITS, actor_id=None, memo="demo seed", key=f"demo-seed:{slug}")


async def _connect_demo_site(url: str, token: str) -> None:
    for person in PEOPLE:
        if person["role"] != "admin":
            continue
        account = await accounts.find_by_email(person["email"])
        admin = await resolve_scope(person["workspace"], account.id)
        for connector in await connectors.list_all(admin):  # ours, or one a person made for the shop (any name)
            if connector["name"] == DEMO_CONNECTOR or origin(connector["base_url"]) == origin(url):
                await connectors.delete(admin, connector["id"])
        await connectors.create(admin, DEMO_CONNECTOR, url, token)


async def seed(demo_file: Path, url: str, demo_site: tuple[str, str] | None = None) -> dict[str, Any]:
    """``demo_site`` is the shop's (url, connector token)."""
    data = await _people(demo_file, url)
    acme = await Workspace.select(Workspace.id).where(Workspace.slug == "acme").first()
    team = [(await accounts.find_by_email(p["email"])).id for p in PEOPLE if p["workspace"] == "acme"]
    await demo_history.seed_history(acme["id"], team)  # once: a year of runs and purchases behind today
    async with atomic():
        await _seed_credits()
        if demo_site:
            await _connect_demo_site(*demo_site)
    data = {**data, "url": url, "demo_site": demo_site[0] if demo_site else None}
    demo_file.write_text(json.dumps(data, indent=2))
    demo_file.chmod(0o600)
    return data


async def _people(demo_file: Path, url: str) -> dict[str, Any]:
    if demo_file.exists():
        saved = json.loads(demo_file.read_text())
        if await _still_valid(saved):
            return saved
    users = []
    async with atomic():
        for person in PEOPLE:
            password = secrets.token_urlsafe(9)
            account = await _ensure_person(person, password)
            slug = person["workspace"]
            if not await Workspace.exists().where(Workspace.slug == slug):
                await workspaces.create_workspace(slug, WORKSPACES[slug], account.id)
            else:
                with contextlib.suppress(Conflict):
                    workspace = await Workspace.select(Workspace.id).where(Workspace.slug == slug).first()
                    await workspaces.add_member(workspace["id"], account.id, person["role"], actor_id=None)
            _, token = await tokens.create_token(await resolve_scope(slug, account.id), "demo")
            users.append({**person, "password": password, "token": token})
    return {"url": url, "users": [{k: u[k] for k in ("email", "password", "workspace", "role", "token", "name")}
                                  for u in users]}
