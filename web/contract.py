"""The OpenAPI document made exact: what Litestar generates, corrected where it cannot know our rules.

Litestar documents errors as its own ``{status_code, detail, extra}``; every error we send is
``{"error", "message", "field"}`` (``web/errors.py``). Here, once for every operation:

- every 4xx answer is the ``Error`` body, with a description of what it means here;
- the answers every API operation can give are added: 401 (no or a bad token), 422 (a field or query
  parameter is invalid, unknown or carries a NUL), 404 where a path names something (a workspace you
  are not in is as unknown as one that does not exist), and for a JSON body 400 (not JSON, or nested
  too deep), 413 (over 1 MiB) and 415 (not ``application/json``);
- the ones a handler raises itself come from its ``raises=[...]`` (402, 403, 409, 429, ...);
- request bodies say ``additionalProperties: false``, as their structs forbid unknown fields;
- every request string says which characters it cannot carry (``text_guard`` refuses them at the
  boundary), and the limits the services check (page size, scope, link days, password length) are
  written into the fields they apply to.

The health probes take no credentials, and a 503 from ``/readyz`` says what is down.
"""

from __future__ import annotations

import copy
from typing import Any

from litestar import Request
from litestar.openapi.plugins import (
    JsonRenderPlugin,
    OpenAPIRenderPlugin,
    RedocRenderPlugin,
    SwaggerRenderPlugin,
    YamlRenderPlugin,
)

from agentledger.agents.sdk import Agent
from agentledger.platform.pagination import MAX_LIMIT
from agentledger.platform.security import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from agentledger.platform.sharing.links import MAX_DAYS
from agentledger.web.text_guard import MAX_QUERY_VALUE

MAX_SCOPE = Agent.max_scope  # the most any agent takes; an agent's own may be lower (its estimate says)
ERROR_REF = {"$ref": "#/components/schemas/Error"}
ERROR_SCHEMA = {
    "type": "object",
    "description": "Every error: a stable code, a message that says what to fix, and the field at fault",
    "required": ["error", "message", "field"],
    "properties": {
        "error": {"type": "string", "description": "a stable code, e.g. not_found, invalid, insufficient_credits"},
        "message": {"type": "string"},
        "field": {"type": ["string", "null"], "description": "the body field or query parameter at fault"},
    },
    "additionalProperties": False,
}
MEANING = {
    400: "The body is not valid JSON, or is nested too deeply",
    401: "No credentials, or a token that is unknown, revoked or expired",
    402: "The wallet holds fewer credits than the run would reserve, or owes credits after a refund or dispute "
         "(error credits_owed)",
    403: "Your role does not allow this",
    404: "No such workspace or resource, or not one you may see",
    409: "The resource's state does not allow this now (the message says why)",
    410: "It has expired, or was deleted under the workspace's retention policy (the message says when)",
    413: "The body is over 1 MiB",
    415: "The body is not application/json",
    422: "A field or query parameter is invalid, unknown, or carries a NUL character",
    429: "Too many attempts: wait for Retry-After seconds",
    503: "A service it needs (object storage) cannot be reached right now; nothing was changed: try again later",
    502: "An outside service (the site a connector names, Stripe) did not answer usably",
}
# What web/text_guard.py refuses, as JSON Schema patterns: in a body, control characters but tab and
# line breaks; in a path or query value, line breaks too.
BODY_TEXT = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f]*$"
ONE_VALUE = "^[^\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029]*$"
SCOPE = {"minimum": 1, "maximum": MAX_SCOPE}
LIMITS: dict[tuple[str, str], dict[str, int]] = {  # the services check these; the document says them
    ("query", "limit"): {"minimum": 1, "maximum": MAX_LIMIT},
    ("StartIn", "scope"): SCOPE, ("RerunIn", "scope"): SCOPE, ("ScheduleIn", "scope"): SCOPE,
    ("SchedulePatchIn", "scope"): SCOPE,
    ("LinkIn", "expires_in_days"): {"minimum": 1, "maximum": MAX_DAYS},
    ("LinkIn", "password"): {"minLength": MIN_PASSWORD_LENGTH, "maxLength": MAX_PASSWORD_LENGTH},
}


_FILE = {"schema": {"type": "string", "format": "binary"}}
DOWNLOADS: dict[tuple[str, str], dict[str, Any]] = {  # what the files are: Litestar sees only ``Any``
    ("/api/v1/workspaces/{ws}/executions/{execution_id}/export", "get"): {
        "description": "json: the whole record; csv: its table, or a zip of its tables when it has several",
        "content": {"application/json": {"schema": {"type": "object"}}, "text/csv": _FILE, "application/zip": _FILE},
        "headers": {"Content-Disposition": {"schema": {"type": "string"}, "description": "attachment; filename"}},
    },
    ("/api/v1/workspaces/{ws}/billing/purchases/{purchase_id}/receipt.pdf", "get"): {
        "description": "The purchase's PDF receipt, naming the workspace's billing name and address",
        "content": {"application/pdf": _FILE},
        "headers": {"Content-Disposition": {"schema": {"type": "string"}, "description": "attachment; filename"}},
    },
    ("/api/v1/workspaces/{ws}/credits/export", "get"): {
        "description": "The period's movements, oldest first: created_at, key, debit, credit, amount, execution, "
                       "agent, member, member_name, memo",
        "content": {"text/csv": _FILE},
        "headers": {"Content-Disposition": {"schema": {"type": "string"}, "description": "attachment; filename"}},
    },
    ("/api/v1/workspaces/{ws}/results/{result_id}/download", "get"): {
        "description": "The artifact's file, in its own content type (attachment, or inline for pictures)",
        "content": {"*/*": _FILE},
    },
}


def _json(depth: int) -> dict[str, Any]:
    """Any JSON value whose strings are BODY_TEXT, spelled out ``depth`` levels deep rather than as a
    recursive reference: client generators (openapi-python-client) cannot follow one. Deeper than that
    it says nothing; the boundary refuses control characters at any depth."""
    inner: dict[str, Any] = _json(depth - 1) if depth > 1 else {}
    return {"anyOf": [{"type": "string", "pattern": BODY_TEXT}, {"type": "number"}, {"type": "boolean"},
                      {"type": "null"}, {"type": "array", "items": inner},
                      {"type": "object", "additionalProperties": inner, "propertyNames": {"pattern": BODY_TEXT}}]}


def _error(code: int) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": MEANING.get(code, "An error"),
                              "content": {"application/json": {"schema": ERROR_REF}}}
    if code == 429:
        answer["headers"] = {"Retry-After": {"schema": {"type": "integer"}, "description": "seconds to wait"}}
    return answer


def _strings(schema: Any, components: dict[str, Any], seen: set[str], pattern: str = BODY_TEXT,
             name: str = "") -> None:
    """Walk a request schema: strings get the pattern of what the boundary refuses, objects forbid
    unknown properties, and the limits the services check are written in."""
    if isinstance(schema, list):
        for part in schema:
            _strings(part, components, seen, pattern)
        return
    if not isinstance(schema, dict):
        return
    ref = schema.get("$ref")
    if isinstance(ref, str):
        name = ref.rsplit("/", 1)[-1]
        if name not in seen:
            seen.add(name)
            _strings(components[name], components, seen, pattern, name)
        return
    kinds = schema.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    if "string" in kinds and "pattern" not in schema and "enum" not in schema and "format" not in schema:
        schema["pattern"] = pattern
    if "object" in kinds:
        schema["propertyNames"] = {"pattern": pattern}
        if "properties" in schema:
            schema.setdefault("additionalProperties", False)
    for field, part in (schema.get("properties") or {}).items():
        limits = LIMITS.get((name, field))
        if limits:
            for option in (part.get("oneOf") or [part]):
                if option.get("type") in ("integer", "string"):
                    option.update(limits)
        _strings(part, components, seen, pattern)
    for key in ("items", "additionalProperties", "oneOf", "anyOf", "allOf"):
        if schema.get(key) == {} and key != "anyOf":  # any JSON: still no control characters in its strings
            schema[key] = _json(4)  # inline, finished: generators cannot build a model of a union component
        elif isinstance(schema.get(key), (dict, list)):
            _strings(schema[key], components, seen, pattern)


def _operation(path: str, op: dict[str, Any], components: dict[str, Any], inputs: set[str]) -> None:
    responses: dict[str, Any] = op.setdefault("responses", {})
    declared = {int(code) for code in responses if code.startswith(("4", "5")) and code != "400"}
    has_body = "requestBody" in op
    if path.startswith("/api/"):
        declared |= {401, 422}
        if any(p.get("in") == "path" for p in op.get("parameters", [])):
            declared.add(404)
        if has_body:
            declared |= {400, 413, 415}
    responses.pop("400", None)  # Litestar's own, for every handler: ours is only for bodies
    for code in sorted(declared):
        if code != 503 or path.startswith("/api/v1/workspaces/"):  # /readyz's 503 body says what is down
            responses[str(code)] = _error(code)
    for parameter in op.get("parameters", []):
        schema = parameter.get("schema") or {}
        schema.update(LIMITS.get(("query", parameter["name"]), {}) if parameter.get("in") == "query" else {})
        _strings(schema, components, inputs, ONE_VALUE)
        if parameter.get("in") == "query" and schema.get("type") == "string" and "format" not in schema:
            schema.setdefault("maxLength", MAX_QUERY_VALUE)
    if has_body:
        for media in op["requestBody"].get("content", {}).values():
            _strings(media.get("schema"), components, inputs)


def exact(document: dict[str, Any]) -> dict[str, Any]:
    document = copy.deepcopy(document)
    components = document.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = ERROR_SCHEMA
    inputs: set[str] = set()
    for path, item in document.get("paths", {}).items():
        for method, op in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                if (path, method) in DOWNLOADS:
                    op["responses"]["200"] = DOWNLOADS[(path, method)]
                if not path.startswith("/api/"):
                    op["security"] = []  # load balancers probe without credentials
                _operation(path, op, components, inputs)
    return document


_made: list[tuple[dict[str, Any], dict[str, Any]]] = []  # (Litestar's document, ours), for the live app


def exact_once(generated: dict[str, Any]) -> dict[str, Any]:
    """Litestar builds its document once per app and hands the same dict to every render: so do we.
    Kept by identity with the dict itself held, so a later app's document never meets a stale answer."""
    if not _made or _made[0][0] is not generated:
        _made[:] = [(generated, exact(generated))]
    return _made[0][1]


class _Exact(OpenAPIRenderPlugin):
    def render(self, request: Request, openapi_schema: dict[str, Any]) -> bytes:
        return super().render(request, exact_once(openapi_schema))  # type: ignore[safe-super]


class ExactJson(_Exact, JsonRenderPlugin):
    """/api/v1/schema/openapi.json"""


class ExactYaml(_Exact, YamlRenderPlugin):
    """/api/v1/schema/openapi.yaml"""


class ExactSwagger(_Exact, SwaggerRenderPlugin):
    """/api/v1/schema/swagger"""


class ExactRedoc(_Exact, RedocRenderPlugin):
    """/api/v1/schema/redoc"""


def render_plugins() -> list[OpenAPIRenderPlugin]:
    """Every view of the document serves the exact one."""
    return [ExactJson(), ExactSwagger(), ExactRedoc(), ExactYaml()]
