"""The shop's change API, through which the platform pushes approved fixes, and the test-only controls.

``/api/*`` needs ``Authorization: Bearer <token>``. ``/_demo/*`` needs nothing: it exists so tests can
inject connector faults, read which paths were fetched (robots checks) and reset the shop.
Injected faults hit ``POST /api/changes`` only, and nothing is applied while one is set, so a test can
still read ``GET /api/changes`` to see that a failed push changed nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
from typing import Any
from urllib.parse import urlsplit

from litestar import Request, Response, get, post

from agentledger.agents.demo_site.catalog import PRODUCT_BY_ID
from agentledger.agents.demo_site.pages import current, default_head
from agentledger.agents.demo_site.state import FAULTS, SiteState

LIMITS = {"title": 120, "meta_description": 320, "description": 5000}
TIMEOUT_SECONDS = 30


def _error(status: int, message: str, **extra: Any) -> Response:
    return Response({"error": message, **extra}, status_code=status)


def _denied(request: Request, token: str) -> Response | None:
    given = request.headers.get("authorization", "")
    if hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return None
    return _error(401, "missing or wrong bearer token")


def resolve(target: str) -> str | None:
    """The page path a target names: a path, an absolute URL on this shop, or a product id like P001."""
    if target in PRODUCT_BY_ID:
        return PRODUCT_BY_ID[target].path
    path = urlsplit(target).path if "://" in target else target
    for candidate in (path, path + "/"):
        if candidate in default_head():
            return candidate
    return None


def page_fields(site: SiteState, path: str) -> dict:
    fields = {"path": path, "title": current(site, path, "title"),
              "meta_description": current(site, path, "meta_description")}
    if path.startswith("/products/"):
        fields["description"] = current(site, path, "description")
    return fields


async def _hang(request: Request) -> None:
    """Answer nothing for TIMEOUT_SECONDS, or until the caller gives up and hangs up."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(TIMEOUT_SECONDS):
            while (await request.receive())["type"] != "http.disconnect":
                pass


async def _json_object(request: Request) -> dict | None:
    try:
        body = json.loads(await request.body() or b"null")
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _check(body: dict) -> Response | None:
    """422 for a malformed change, naming the problem; None when the body is well formed."""
    target, name, value = body.get("target"), body.get("field"), body.get("value")
    if not isinstance(target, str) or not target:
        return _error(422, "target must be a page path or a product id", field="target")
    if name not in LIMITS:
        return _error(422, f"field must be one of {', '.join(LIMITS)}", field="field")
    if not isinstance(value, str) or not value.strip():
        return _error(422, "value must be a non-empty string", field="value")
    if len(value) > LIMITS[name]:
        return _error(422, f"{name} is longer than {LIMITS[name]} characters", field="value")
    return None


@post("/api/changes", status_code=200)
async def push_change(request: Request, site: SiteState, token: str) -> Response:
    if denied := _denied(request, token):
        return denied
    if site.fault == "401":
        return _error(401, "token revoked (injected fault)")
    if site.fault == "500":
        return _error(500, "internal error (injected fault)")
    if site.fault == "timeout":
        await _hang(request)
        return _error(504, "timed out (injected fault)")
    body = await _json_object(request)
    if body is None:
        return _error(422, "body must be a JSON object with target, field and value")
    if problem := _check(body):
        return problem
    path = resolve(body["target"])
    if path is None:
        return _error(404, f"no page or product {body['target']!r}", field="target")
    if body["field"] == "description" and not path.startswith("/products/"):
        return _error(422, "description can only be changed on a product", field="field")
    key = request.headers.get("idempotency-key")
    if key and (earlier := site.find_by_key(key)):
        return Response(earlier)
    before = current(site, path, body["field"])
    return Response(site.record(target=body["target"], path=path, name=body["field"], before=before,
                                after=body["value"], key=key))


@get("/api/changes")
async def list_changes(request: Request, site: SiteState, token: str) -> Response:
    return _denied(request, token) or Response({"changes": site.changes})


@get("/api/pages")
async def show_page(request: Request, site: SiteState, token: str, path: str | None = None) -> Response:
    if denied := _denied(request, token):
        return denied
    if not path:
        return _error(422, "give ?path=/some/page", field="path")
    resolved = resolve(path)
    if resolved is None:
        return _error(404, f"no page {path!r}", field="path")
    return Response(page_fields(site, resolved))


@post("/_demo/faults", status_code=200)
async def set_fault(request: Request, site: SiteState) -> Response:
    body = await _json_object(request)
    if body is None or body.get("connector") not in FAULTS:
        return _error(422, 'send {"connector": null | "500" | "timeout" | "401"}', field="connector")
    site.fault = body["connector"]
    return Response({"connector": site.fault})


@get("/_demo/faults")
async def show_fault(site: SiteState) -> Response:
    return Response({"connector": site.fault})


@get("/_demo/hits")
async def show_hits(site: SiteState) -> Response:
    return Response(dict(site.hits))


@post("/_demo/reset", status_code=200)
async def reset(site: SiteState) -> Response:
    site.reset()
    return Response({"reset": True})


HANDLERS = [push_change, list_changes, show_page, set_fault, show_fault, show_hits, reset]
