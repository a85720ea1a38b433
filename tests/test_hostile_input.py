"""Hostile input, table-driven from the app's own OpenAPI schema (issue 13, "bad-input suite of our own").

For every API operation the schema lists, each string field of its JSON body, each query parameter and
each path parameter gets hostile values: NUL and other control characters, lone surrogates and invalid
UTF-8, 1 MB strings, JSON nested 5,000 deep, wrong types, numbers beyond 64 bits and empty ids. Every
answer must be a 4xx with exactly ``{"error", "message", "field"}``, never a 5xx; and a refused request
writes nothing (no table gains or loses a row, and a refused create leaves its list as it was).

Why from the schema: an operation or field added later is covered without anyone remembering to add it
(a test fails when the schema has an operation the table cannot fill in). Schemathesis' random values
rarely hit these, so they are listed here. One test per operation (each test starts from an empty
database, so one per case would be slow); a failure names the operation, the field and the value.
The other parts of each request are valid and point at real rows (a run awaiting review, a content
result, a schedule, ...), so a hostile value meets the domain's own checks, not just a 404.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import httpx
import pytest

from agentledger.agents import launch, runner
from agentledger.platform.database import atomic, fetch
from agentledger.platform.retention import repository as retention_repository
from agentledger.platform.scoping import resolve_scope
from agentledger.web.app import MAX_BODY, create_app
from tests.support import agents  # noqa: F401 - registers test-results and test-review
from tests.support.factories import PASSWORD, csrf_from
from tests.support.fixtures import sign_in

SCHEMA_URL = "/api/v1/schema/openapi.json"


async def _served_schema() -> dict[str, Any]:
    """The document the app serves (read at collection, so each operation is a test of its own)."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app()), base_url="http://t") as c:
        response = await c.get(SCHEMA_URL)
    response.raise_for_status()
    return response.json()


SCHEMA: dict[str, Any] = asyncio.run(_served_schema())
METHODS = ("get", "post", "put", "patch", "delete")


def _operations(schema: dict[str, Any]) -> list[tuple[str, str]]:
    """The API's operations that take something hostile: a parameter or a body (not ``GET /me``)."""
    return sorted((method.upper(), path) for path, item in schema["paths"].items() for method, op in item.items()
                  if method in METHODS and path.startswith("/api/") and (op.get("parameters") or op.get("requestBody")))


OPERATIONS = _operations(SCHEMA)
ERROR_KEYS = {"error", "message", "field"}
MB = 1_000_000
URLS = {"urls": ["http://127.0.0.1:9/"]}

# Hostile values, by name. In a JSON body: the raw JSON text of the value (bytes, so lone surrogates and
# invalid UTF-8 can be sent at all). In a path or query: the percent-encoded text as it goes on the wire.
TEXT_JSON: dict[str, bytes] = {
    "nul": b'"a\\u0000b"',
    "ctl-01": b'"a\\u0001b"',
    "esc-1b": b'"a\\u001b[31mb"',
    "del-7f": b'"a\\u007fb"',
    "ls-2028": b'"a\\u2028b"',
    "lone-surrogate": b'"a\\ud800b"',
    "lone-low-surrogate": b'"\\udc00"',
    "cesu-bytes": b'"a\xed\xa0\x80b"',
    "invalid-utf8": b'"a\xffb"',
    "1mb": b'"' + b"x" * MB + b'"',
    "deep-array": b"[" * 5000 + b"]" * 5000,
    "deep-object": b'{"a":' * 5000 + b"1" + b"}" * 5000,
}
WRONG_FOR_STRING: dict[str, bytes] = {
    "number": b"1", "float": b"1.5", "array": b'["a"]', "object": b'{"a":"b"}', "bool": b"true", "null": b"null",
}
WRONG_FOR_INTEGER: dict[str, bytes] = {
    "2**64": str(2**64).encode(), "-2**63-1": str(-(2**63) - 1).encode(), "1e400": b"1e400", "-1e400": b"-1e400",
    "string": b'"1"', "float": b"1.5", "array": b"[1]", "object": b"{}", "bool": b"true",
}
WRONG_FOR_OBJECT: dict[str, bytes] = {
    "string": b'"a"', "number": b"1", "array": b"[]", "bool": b"true", "2**64": str(2**64).encode(),
    "nul-key": b'{"a\\u0000": 1}', "surrogate-key": b'{"\\ud800": 1}',
    "deep-array": TEXT_JSON["deep-array"], "deep-object": TEXT_JSON["deep-object"],
}
WIRE_TEXT: dict[str, str] = {
    "nul": "a%00b", "ctl-01": "a%01b", "esc-1b": "a%1B%5B31mb", "del-7f": "a%7Fb", "ls-2028": "a%E2%80%A8b",
    "cesu-surrogate": "a%ED%A0%80b", "invalid-utf8": "a%FFb",
    "60kb": "x" * 60_000,  # URLs: no server takes 1 MB in one (httpx refuses over 64 KiB)
}
WIRE_WRONG: dict[str, str] = {
    "empty": "", "2**64": str(2**64), "-2**63-1": str(-(2**63) - 1), "1e400": "1e400", "float": "1.5",
    "word": "abc", "array": "%5B%5D", "null": "null", "slash": "a%2Fb",
}
WHOLE_BODY: dict[str, bytes] = {
    "deep-array": TEXT_JSON["deep-array"], "deep-object": TEXT_JSON["deep-object"],
    "array": b"[]", "string": b'"a"', "number": b"1", "2**64": str(2**64).encode(), "1e400": b"1e400",
    "invalid-utf8": b'{"a": "\xff"}', "lone-surrogate": b'{"\\ud800": 1}', "truncated": b'{"a": ',
    "over-1mib": b'{"a": "' + b"x" * MAX_BODY + b'"}',
}


@dataclass(frozen=True)
class Case:
    where: str  # "path user_id", "query limit", "body inputs.urls[0]", "body"
    value: str  # the hostile value's name
    path: str  # the request path, with its query
    body: bytes | None


def _types(schema: dict[str, Any]) -> set[str]:
    """The JSON types a (resolved) schema allows, with ``format``/``enum`` marking constrained strings."""
    found: set[str] = set()
    for option in schema.get("oneOf") or schema.get("anyOf") or [schema]:
        kinds = option.get("type", [])
        for kind in [kinds] if isinstance(kinds, str) else kinds:
            constrained = kind == "string" and ("format" in option or "enum" in option or "enum" in schema)
            found.add("constrained" if constrained else kind)
    return found


def _wire_values(schema: dict[str, Any], location: str) -> dict[str, str]:
    """Text is hostile to every parameter; numbers, words and "" only to those that are not free text
    (``?agent=abc`` is a filter that matches nothing), and "" to every path parameter (an empty id)."""
    kinds = _types(schema)
    if not kinds & {"integer", "number", "boolean", "constrained"}:
        return {**WIRE_TEXT, "empty": ""} if location == "path" else dict(WIRE_TEXT)
    values = {**WIRE_TEXT, **WIRE_WRONG}
    if "null" in kinds:
        del values["null"]  # Litestar reads ?mode=null as no filter, as the schema's null allows
    if any(o.get("format") == "date-time" for o in schema.get("oneOf", [schema])):
        del values["float"]  # a number is a time too: seconds since 1970 (msgspec's reading of datetimes)
    return values


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = SCHEMA["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    options = [_resolve(o) for o in schema.get("oneOf", [])]
    objects = [o for o in options if o.get("type") == "object"]
    return objects[0] if objects else schema


def _body_values(schema: dict[str, Any]) -> dict[str, bytes]:
    kinds = _types(schema)
    values: dict[str, bytes] = {}
    if kinds & {"string", "constrained"}:
        values |= TEXT_JSON | WRONG_FOR_STRING
    if "integer" in kinds:
        values |= WRONG_FOR_INTEGER
    if "object" in kinds:
        values |= WRONG_FOR_OBJECT
    if "boolean" in kinds:
        values |= {"string": b'"true"', "number": b"2", "2**64": str(2**64).encode()}
    if "null" in kinds:
        values.pop("null", None)  # null is a value these fields take
    return values


PLACEHOLDER = "__hostile__"


def _with(body: Any, pointer: tuple[str | int, ...], raw: bytes) -> bytes:
    """``body`` as JSON with the value at ``pointer`` replaced by the raw JSON text ``raw``."""
    copy = json.loads(json.dumps(body))
    target = copy
    for step in pointer[:-1]:
        target = target[step]
    target[pointer[-1]] = PLACEHOLDER
    return json.dumps(copy).encode().replace(json.dumps(PLACEHOLDER).encode(), raw)


def cases(method: str, path: str, world: World) -> list[Case]:
    operation = SCHEMA["paths"][path][method.lower()]
    params = operation.get("parameters", [])
    real = {p["name"]: world.path_value(method, path, p["name"]) for p in params if p["in"] == "path"}
    required_query = {p["name"]: world.query_value(p) for p in params if p["in"] == "query" and p.get("required")}

    def url(path_values: dict[str, str], query: dict[str, str]) -> str:
        filled = re.sub(r"\{(\w+)\}", lambda m: path_values[m.group(1)], path)
        return filled + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")

    base_body = world.body(method, path) if "requestBody" in operation else None
    raw_base = json.dumps(base_body).encode() if base_body is not None else None
    found: list[Case] = []
    for p in params:
        for name, wire in _wire_values(p["schema"], p["in"]).items():
            if p["in"] == "path":
                if wire == "" and _collapses_to_another_route(method, path, p["name"]):
                    continue  # "/schedules/" is the list, a different operation
                found.append(Case(f"path {p['name']}", name, url({**real, p["name"]: wire}, required_query), raw_base))
            else:
                found.append(Case(f"query {p['name']}", name, url(real, {**required_query, p["name"]: wire}), raw_base))
    if base_body is not None:
        target = url(real, required_query)
        schema = _resolve(operation["requestBody"]["content"]["application/json"]["schema"])
        for pointer, field_schema in _fields(schema, base_body):
            shown = ".".join(str(s) if isinstance(s, str) else f"[{s}]" for s in pointer).replace(".[", "[")
            for name, raw in _body_values(field_schema).items():
                found.append(Case(f"body {shown}", name, target, _with(base_body, pointer, raw)))
        for name, raw in WHOLE_BODY.items():
            found.append(Case("body", name, target, raw))
    return found


def _fields(schema: dict[str, Any], body: Any) -> list[tuple[tuple[str | int, ...], dict[str, Any]]]:
    """Every property of the body's schema, and inside the baseline body its arrays' first items and its
    free-form objects' own string values (agent inputs: ``inputs.urls[0]``)."""
    found: list[tuple[tuple[str | int, ...], dict[str, Any]]] = []
    for name, prop in schema.get("properties", {}).items():
        found.append(((name,), prop))
        items = next((o["items"] for o in prop.get("oneOf", [prop]) if "items" in o), None)
        if items is not None:
            found.append(((name, 0), items))
            if name not in body:
                body[name] = [None]
        value = body.get(name)
        if isinstance(value, dict):
            for key, inner in value.items():
                if isinstance(inner, list) and inner and isinstance(inner[0], str):
                    found.append(((name, key, 0), {"type": "string"}))
                elif isinstance(inner, str):
                    found.append(((name, key), {"type": "string"}))
    return found


def _collapses_to_another_route(method: str, path: str, param: str) -> bool:
    """An empty id that turns the path into another operation's ("/schedules/" is the list; Litestar
    reads "/executions//events" as the workspace's stream)."""
    shorter = path.replace("/{" + param + "}", "")
    return method.lower() in SCHEMA["paths"].get(shorter, {})


def _bodies(world: World) -> dict[str, Any]:
    """A valid body for each request schema; each case spoils one field of it."""
    schedule = {"name": "Nightly", "agent": "url-check", "cron": "0 3 * * *", "inputs": URLS, "scope": 1,
                "mode": "test", "enabled": True}
    return {
        "WorkspaceIn": {"slug": "hostile", "name": "Hostile"},
        "RoleIn": {"role": "member"},
        "InvitationIn": {"email": "new@acme.example", "role": "member"},
        "TokenIn": {"name": "ci"},
        "StartIn": {"agent": "url-check", "inputs": URLS, "scope": 1, "mode": "test"},
        "RerunIn": {"inputs": URLS, "scope": 1, "mode": "test"},
        "ResultIdsIn": {"result_ids": [str(world.ids["recommendation"])]},
        "ReviewIn": {"decision": "approve", "comment": "looks right"},
        "ResultPatchIn": {"text": "New copy."},
        "ConnectorIn": {"name": "Shop two", "base_url": "http://127.0.0.1:9/two", "secret": "a secret long enough"},
        "ScheduleIn": schedule,
        "SchedulePatchIn": {k: v for k, v in schedule.items() if k != "agent"},
        "LinkIn": {"password": PASSWORD, "expires_in_days": 7},
        "CheckoutIn": {"pack": "starter"},
        "BillingAccountIn": {"billing_name": "Acme Corp", "billing_address": "1 Main St", "low_balance_threshold": 10},
        "WorkspaceSettingsIn": {"timezone": "Europe/Paris"},
        "PreferencesIn": {"run_finished_minutes": 10, "timezone": "Europe/Paris", "credit_threshold_credits": 50},
        "PolicyIn": {"completed_days": 400, "failed_days": 60, "auto_approve": True},
    }


class World:
    """Real rows for every path parameter, made through the services and the API."""

    def __init__(self, client, team) -> None:
        self.client, self.team, self.ids = client, team, {}
        self.headers = team.admin.bearer

    async def build(self, factory) -> World:
        await factory.credits("acme", 10_000)
        admin = await resolve_scope("acme", self.team.admin.id)
        async with atomic():
            results = await launch.start(admin, launch.Request("test-results", {}))
            review = await launch.start(admin, launch.Request("test-review", {}))
            queued = await launch.start(admin, launch.Request("url-check", URLS, mode="test"))
        for run in (results, review):
            await runner.run_execution(run["id"])
        self.ids |= {"results-run": results["id"], "review-run": review["id"], "queued-run": queued["id"],
                     "member": self.team.member.id}
        listed = await self.ok("GET", f"/api/v1/workspaces/acme/executions/{results['id']}/results?limit=50")
        for item in listed["items"]:
            self.ids.setdefault(item["kind"], item["id"])
        api = "/api/v1/workspaces/acme"
        self.ids["schedule"] = (await self.ok("POST", f"{api}/schedules", _bodies(self)["ScheduleIn"]))["id"]
        self.ids["connector"] = (await self.ok("POST", f"{api}/connectors", {
            "name": "Shop", "base_url": "http://127.0.0.1:9", "secret": "a secret long enough"}))["id"]
        self.ids["invitation"] = (await self.ok("POST", f"{api}/invitations", {"email": "old@acme.example"}))["id"]
        self.ids["email"] = (await fetch("SELECT id FROM email_outbox ORDER BY created_at LIMIT 1"))[0]["id"]
        # retention: an alert to dismiss, and a member's request to restore an archived run
        archived = (await self.ok("POST", f"{api}/executions", {"agent": "test-results", "inputs": {}}))["id"]
        await runner.run_execution(UUID(archived))
        await self.ok("POST", f"{api}/executions/{archived}/archive")
        self.ids["restore_request"] = (await self.ok("POST", f"{api}/executions/{archived}/restore"))["id"]
        async with atomic():
            await retention_repository.add_alert(admin.workspace_id, "storage_unavailable", "S3 was down", 1)
        self.ids["alert"] = (await fetch("SELECT id FROM retention_alerts"))[0]["id"]
        self.ids["token"] = (await self.ok("GET", f"{api}/tokens"))["items"][0]["id"]
        runs = f"{api}/executions/{results['id']}"
        self.ids["link"] = (await self.ok("POST", f"{runs}/links", {"password": PASSWORD}))["id"]
        await self.ok("PUT", f"{runs}/shares/{self.team.member.id}")
        return self

    async def ok(self, method: str, path: str, body: Any = None) -> Any:
        response = await self.client.request(method, path, json=body, headers=self.headers)
        assert response.is_success, (method, path, response.text)
        return response.json() if response.content else None

    def path_value(self, method: str, path: str, name: str) -> str:
        if name == "ws":
            return "acme"
        if name == "execution_id":
            key = "review-run" if path.endswith("/review") else "queued-run" if path.endswith("/rerun") else "results-run"
        elif name == "result_id":
            key = "artifact" if path.endswith("/download") else "content"
        elif name == "purchase_id":  # no purchase without Stripe: the other value of its paths is the hostile one
            return "00000000-0000-4000-8000-000000000001"
        else:
            key = {"user_id": "member", "invitation_id": "invitation", "token_id": "token", "link_id": "link",
                   "connector_id": "connector", "schedule_id": "schedule", "email_id": "email", "alert_id": "alert",
                   "request_id": "restore_request"}[name]
        return str(self.ids[key])

    def query_value(self, param: dict[str, Any]) -> str:
        return {"format": "json"}[param["name"]]

    def body(self, method: str, path: str) -> Any:
        schema = SCHEMA["paths"][path][method.lower()]["requestBody"]["content"]["application/json"]["schema"]
        name = next(o["$ref"] for o in schema.get("oneOf", [schema]) if "$ref" in o).rsplit("/", 1)[-1]
        return _bodies(self)[name]

    async def list_size(self, method: str, path: str) -> int | None:
        """How many rows the list a create adds to shows (None: the operation creates nothing)."""
        api, runs = "/api/v1/workspaces/acme", f"/api/v1/workspaces/acme/executions/{self.ids['results-run']}"
        if method == "POST" and path == "/api/v1/workspaces":
            return len((await self.ok("GET", "/api/v1/me"))["workspaces"])
        if path.endswith(("/links", "/shares/{user_id}")):
            sharing = await self.ok("GET", f"{runs}/sharing")
            return len(sharing["links"]) + len(sharing["people"])
        if method == "POST" and path.endswith(("/executions", "/rerun", "/resume-from-failed-step",
                                                  "/retry-failed-items", "/run")):
            return len((await self.ok("GET", f"{api}/executions?limit=250"))["items"])
        if method == "POST" and path.endswith(("/invitations", "/tokens", "/connectors", "/schedules")):
            listed = await self.ok("GET", api + path.rsplit("{ws}", 1)[1])
            return len(listed["items"] if isinstance(listed, dict) else listed)
        return None


async def row_counts() -> dict[str, int]:
    tables = [r["tablename"] for r in await fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
    sql = " UNION ALL ".join(f"SELECT '{t}' AS t, count(*) AS n FROM {t}" for t in tables)
    return {r["t"]: r["n"] for r in await fetch(sql)}


async def _send(client, method: str, case: Case, headers: dict[str, str]) -> Any:
    sent = {**headers, "content-type": "application/json"} if case.body is not None else headers
    try:
        return await asyncio.wait_for(client.request(method, case.path, content=case.body, headers=sent), 5)
    except TimeoutError:
        return None  # an event stream that opened: it was taken as valid


# Hostile values a field takes on purpose, each with its reason (a 2xx there is right).
ACCEPTED = {
    ("body text", "ls-2028"): "generated copy is free text: a line separator is a line break, as \\n is",
    ("body comment", "ls-2028"): "a review comment is free text, line breaks included",
    ("body billing_address", "ls-2028"): "an address is several lines: a line separator is a line break",
}


def _problem(response: Any, case: Case) -> str | None:
    if response is None:
        return "no answer in 5 s (a stream opened)"
    if (case.where, case.value) in ACCEPTED and response.status_code < 500:
        return None
    if response.is_success or response.is_redirect:
        return f"answered {response.status_code}"
    if response.status_code >= 500:
        return f"answered {response.status_code}: {response.text[:200]}"
    if case.value == "over-1mib" and response.status_code != 413:
        return f"answered {response.status_code}, not 413"
    try:
        body = response.json()
    except ValueError:
        return f"answered {response.status_code} without JSON: {response.text[:200]}"
    if not isinstance(body, dict) or set(body) != ERROR_KEYS:
        return f"answered {response.status_code} with {str(body)[:200]}"
    return None


def _tag(operation: tuple[str, str]) -> str:
    method, path = operation
    return (SCHEMA["paths"][path][method.lower()].get("tags") or ["untagged"])[0]


TAGS = sorted({_tag(o) for o in OPERATIONS})


async def _try_operation(client, world: World, method: str, path: str, headers: dict[str, str]) -> list[str]:
    """Every case of one operation; answers what went wrong, each line naming the field and the value."""
    problems = []
    before = await row_counts()
    for case in cases(method, path, world):
        size = await world.list_size(method, path)
        response = await _send(client, method, case, headers)
        problem = _problem(response, case)
        if problem is None and size is not None and response.is_client_error \
                and await world.list_size(method, path) != size:
            problem = f"answered {response.status_code} but its list changed"
        if problem is None and response is not None and response.is_success:  # an ACCEPTED value: it may write
            before = await row_counts()
            continue
        after = await row_counts()
        changed = {t: (before[t], after[t]) for t in before if before[t] != after.get(t)}
        if problem is None and changed:
            problem = f"answered {response.status_code} but rows changed: {changed}"
            before = after
        if problem:
            problems.append(f"{method} {path}: {case.where} = {case.value}: {problem}")
    return problems


@pytest.mark.parametrize("tag", TAGS)
async def test_hostile_values_are_a_4xx_with_the_error_body_and_write_nothing(client, factory, tag):
    """One test per tag of operations (each test starts from an empty database, which takes a second)."""
    team = await factory.team()
    world = await World(client, team).build(factory)
    problems = []
    for method, path in [o for o in OPERATIONS if _tag(o) == tag]:
        headers = team.admin.bearer
        if path == "/api/v1/workspaces":  # tokens may not create workspaces: sign in, so the checks are reached
            await sign_in(client, team.admin.email, team.admin.password)
            headers = {"x-csrftoken": csrf_from((await client.get("/workspaces")).text)}
        world.headers = headers
        problems += await _try_operation(client, world, method, path, headers)
        world.headers = team.admin.bearer
    assert not problems, "\n".join(problems)


async def test_the_table_covers_every_operation_the_app_serves(client):
    served = (await client.get(SCHEMA_URL)).json()
    assert _operations(served) == OPERATIONS and len(OPERATIONS) > 40
