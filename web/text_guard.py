"""One boundary for text: a request whose query, path, form or JSON body carries a NUL character is a 422
naming the field, and a JSON body nested too deeply to decode is a 400 (a Litestar guard, after
``auth.api_caller_first``, so strangers still get their 401 first).

Why here, once: PostgreSQL cannot store NUL in text or jsonb, so without this every free-text field and
filter would need its own check, and one forgotten field is a 500. A body is decoded here only to look
at its strings; the handler decodes it again as usual (bodies are small; the cost is a fraction of a
millisecond). Multipart uploads (files) are left alone: bytes may hold anything.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qsl, unquote

import msgspec
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler

from agentledger.platform.errors import BadRequest, Invalid

log = logging.getLogger("agentledger.web")
NUL = "\x00"


def _refuse(field: str) -> Invalid:
    return Invalid(f"{field} cannot contain NUL characters", field=field)


def _first_nul(value: Any) -> str | None:
    """The path of the first string holding NUL in decoded JSON ("inputs.urls[0]"), or None; a walk with
    its own stack, so depth costs no recursion."""
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            if NUL in item:
                return path or "body"
        elif isinstance(item, dict):
            for key, inner in reversed(list(item.items())):
                name = f"{path}.{key}" if path else str(key)
                if NUL in str(key):
                    return name
                stack.append((name, inner))
        elif isinstance(item, list):
            stack.extend((f"{path}[{n}]", inner) for n, inner in reversed(list(enumerate(item))))
    return None


def _check_pairs(text: str) -> None:
    for name, value in parse_qsl(text, keep_blank_values=True):
        if NUL in name or NUL in value:
            raise _refuse(name.replace(NUL, "\\0") or "query")


async def text_without_nul(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Guard: see the module docstring."""
    _check_pairs(connection.scope.get("query_string", b"").decode("latin-1"))
    for name, value in (connection.scope.get("path_params") or {}).items():
        if NUL in str(value):
            raise _refuse(name)
    if NUL in unquote(connection.scope.get("path", "")):
        raise _refuse("path")
    if not isinstance(connection, Request) or connection.method not in ("POST", "PUT", "PATCH"):
        return
    kind = connection.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind.endswith("json"):
        body = await connection.body()
        if not body:
            return
        try:
            decoded = msgspec.json.decode(body)
        except RecursionError:
            log.info("refused a JSON body nested too deeply (%d bytes) on %s", len(body), connection.url.path)
            raise BadRequest("the JSON body is nested too deeply to read") from None
        except msgspec.DecodeError:
            return  # malformed JSON: the handler's own decoding says what is wrong, and where
        where = _first_nul(decoded)
        if where is not None:
            raise _refuse(where)
    elif kind == "application/x-www-form-urlencoded":
        _check_pairs((await connection.body()).decode("utf-8", "replace"))
