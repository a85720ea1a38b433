"""Connectors: configured by admins, used by whoever applies an approved change.

A change to a page goes through the connector whose base URL has the page's origin. The wire format
(``POST {base_url}/api/changes`` with a bearer token) is the demo site's; each push carries an
``Idempotency-Key`` so a site that honours it never applies one change twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

import httpx

from agentledger.platform import audit, net
from agentledger.platform.config import get_settings
from agentledger.platform.connectors import secrets
from agentledger.platform.connectors.tables import Connector
from agentledger.platform.database import duplicates_conflict
from agentledger.platform.errors import Invalid, NotFound
from agentledger.platform.scoping import Scope, in_workspace
from agentledger.platform.validation import check_url, origin, single_line

PUBLIC = (Connector.id, Connector.name, Connector.kind, Connector.base_url, Connector.secret_hint,
          Connector.created_at)


async def create(scope: Scope, name: str, base_url: str, secret: str) -> dict[str, Any]:
    scope.require_admin()
    name = single_line(name, "name", label="name", max_length=80)
    secret = single_line(secret, "secret", label="secret", max_length=4096)
    if len(secret) < 12:
        raise Invalid("the secret must be at least 12 characters (use the site's API token)", field="secret")
    try:
        check_url(base_url)
        await net.check_reachable(base_url)  # a name that resolves, and not into a network we may not reach
    except ValueError as error:
        raise Invalid(str(error), field="base_url") from None
    except httpx.HTTPError as error:
        raise Invalid(f"base_url: {error}", field="base_url") from None
    async with duplicates_conflict("this workspace already has a connector for that site", field="base_url"):
        rows = await Connector.insert(Connector(
            workspace=scope.workspace_id, name=name, base_url=origin(base_url), created_by=scope.user_id,
            secret_ciphertext=secrets.encrypt(secret), secret_hint=secret[-4:] if len(secret) >= 20 else "",  # a hint never gives away much of it
        )).returning(*PUBLIC)
    await audit.record("connector.create", workspace_id=scope.workspace_id, actor_id=scope.user_id,
                       target=str(rows[0]["id"]), base_url=rows[0]["base_url"])
    return rows[0]


async def list_all(scope: Scope) -> list[dict[str, Any]]:
    return await Connector.select(*PUBLIC).where(in_workspace(Connector, scope)).order_by(Connector.name)


async def delete(scope: Scope, connector_id: UUID) -> None:
    scope.require_admin()
    rows = await Connector.delete().where(in_workspace(Connector, scope) & (Connector.id == connector_id)).returning(
        Connector.id)
    if not rows:
        raise NotFound("connector not found")
    await audit.record("connector.delete", workspace_id=scope.workspace_id, actor_id=scope.user_id,
                       target=str(connector_id))


async def for_target(scope: Scope, target: str) -> dict[str, Any] | None:
    return await Connector.select().where(
        in_workspace(Connector, scope) & (Connector.base_url == origin(target))).first()


@dataclass(frozen=True, slots=True)
class Pushed:
    ok: bool
    reason: str | None = None


def _reason(response: httpx.Response) -> str:
    try:
        body = response.json()
        detail = body.get("message") or body.get("error") or body.get("detail") if isinstance(body, dict) else None
    except ValueError:
        detail = None
    return f"the site answered HTTP {response.status_code}" + (f": {str(detail)[:300]}" if detail else "")


async def push(connector: dict[str, Any], target: str, field: str, value: str, idempotency_key: str) -> Pushed:
    """Send one change; any failure (refused, 4xx, 5xx, timeout) is reported, never raised."""
    parts = urlsplit(target)
    path = parts.path or "/"
    timeout = get_settings().connector_timeout_seconds
    try:
        token = secrets.decrypt(connector["secret_ciphertext"])
        async with net.client(timeout=timeout) as client:  # the same address guard as agents
            response = await client.post(
                f"{connector['base_url']}/api/changes", json={"target": path, "field": field, "value": value},
                headers={"authorization": f"Bearer {token}", "idempotency-key": idempotency_key})
    except secrets.SecretUnreadable as error:
        return Pushed(False, error.message)
    except net.BlockedAddress as error:
        return Pushed(False, str(error))
    except httpx.TimeoutException:
        return Pushed(False, f"the site did not answer within {timeout:g} s")
    except httpx.HTTPError as error:
        return Pushed(False, f"could not reach the site: {type(error).__name__}: {error}"[:300])
    if response.status_code >= 300:
        return Pushed(False, _reason(response))
    return Pushed(True)
