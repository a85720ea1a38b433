"""One boundary for text: a request whose query, path, form or JSON body carries a NUL character is a 422
naming the field, and a JSON body nested too deeply to decode is a 400 (a Litestar guard, after
``auth.api_caller_first``, so strangers still get their 401 first).

Why here, once: PostgreSQL cannot store NUL in text or jsonb, so without this every free-text field and
filter would need its own check, and one forgotten field is a 500. A body is decoded here only to look
at its strings; the handler decodes it again as usual (bodies are small; the cost is a fraction of a
millisecond). Multipart uploads (files) are left alone: bytes may hold anything.

The same walk refuses what no person types, so it is never stored or matched: other control characters
in a body, form or query (tabs and line breaks stay: comments and copy have them, and the run form's live
estimate sends its fields as a query); in a path, and in an API query, also line breaks (U+2028 too)
and, in an API query, more than ``MAX_QUERY_VALUE`` characters (``?agent=`` with 60 KB); in any query,
bytes that are not UTF-8 (``%FF``, an encoded surrogate). And a JSON body is typed strictly: Litestar
converts bodies leniently, so ``"scope": "1"`` was read as 1 and ``"enabled": "true"`` as true, while the
schema says integer and boolean.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import parse_qsl, unquote, unquote_to_bytes

import msgspec
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler

from agentledger.platform.errors import BadRequest, Invalid
from agentledger.web.auth import is_api

log = logging.getLogger("agentledger.web")
NUL = "\x00"
MAX_QUERY_VALUE = 4096
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # all but tab and line breaks
_CONTROL_OR_BREAK = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")  # nothing of it belongs in one value
_AT = re.compile(r" - at `\$\.?(.*)`$")


def _refuse(field: str, text: str, rule: re.Pattern[str] = _CONTROL) -> None:
    if NUL in text:
        raise Invalid(f"{field} cannot contain NUL characters", field=field)
    if rule.search(text):
        what = "control characters" if rule is _CONTROL else "control characters or line breaks"
        raise Invalid(f"{field} cannot contain {what}", field=field)


def _check_strings(value: Any) -> None:
    """Refuse the first string (or key) in decoded JSON holding a control character, naming its path
    ("inputs.urls[0]"); a walk with its own stack, so depth costs no recursion."""
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            _refuse(path or "body", item)
        elif isinstance(item, dict):
            for key, inner in reversed(list(item.items())):
                name = f"{path}.{key}" if path else str(key)
                _refuse(_CONTROL.sub("?", name), str(key))
                stack.append((name, inner))
        elif isinstance(item, list):
            stack.extend((f"{path}[{n}]", inner) for n, inner in reversed(list(enumerate(item))))


def _check_form(text: str) -> None:
    for name, value in parse_qsl(text, keep_blank_values=True):
        _refuse(_CONTROL.sub("?", name) or "form", name + value)


def _check_query(raw: bytes, api: bool) -> None:
    for pair in raw.split(b"&"):
        name_bytes, _, value_bytes = pair.partition(b"=")
        try:
            name, value = (unquote_to_bytes(part.replace(b"+", b" ")).decode() for part in (name_bytes, value_bytes))
        except UnicodeDecodeError:
            shown = unquote(name_bytes.decode("latin-1"), errors="replace")
            raise Invalid(f"{_CONTROL_OR_BREAK.sub('?', shown) or 'query'} is not valid UTF-8",
                          field=_CONTROL_OR_BREAK.sub("?", shown) or "query") from None
        field = _CONTROL_OR_BREAK.sub("?", name) or "query"
        _refuse(field, name + value, _CONTROL_OR_BREAK if api else _CONTROL)
        if api and len(value) > MAX_QUERY_VALUE:
            raise Invalid(f"{field} is too long (at most {MAX_QUERY_VALUE} characters)", field=field)


def _integral(value: Any) -> Any:
    """JSON has one number type: 36.0 is the integer 36 (JSON Schema agrees), not a type to refuse."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        return int(value)
    if isinstance(value, list):
        return [_integral(v) for v in value]
    if isinstance(value, dict):
        return {k: _integral(v) for k, v in value.items()}
    return value


def _strictly(handler: BaseRouteHandler, decoded: Any) -> None:
    """A body Litestar would accept only by converting a value's type is a 422 naming the field."""
    data = handler.parsed_data_field
    if data is None:
        return
    try:
        msgspec.convert(_integral(decoded), type=data.annotation, strict=True)
    except msgspec.ValidationError as strict:
        try:
            msgspec.convert(decoded, type=data.annotation, strict=False)
        except (msgspec.ValidationError, TypeError):
            return  # wrong anyway: the handler's own decoding says what is wrong, and where
        message = str(strict)
        at = _AT.search(message)
        field = at.group(1) if at and at.group(1) else None
        text = _AT.sub("", message)
        raise Invalid(f"{field}: {text}" if field else f"the request body is invalid: {text}", field=field) from None
    except TypeError:
        return  # a type msgspec cannot convert to: left to the handler


async def text_without_nul(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """Guard: see the module docstring. A handler marked ``raw_body`` (Stripe's webhook) reads its bytes
    as they came, since it verifies a signature over them and stores nothing it has not verified."""
    if handler.opt.get("raw_body"):
        return
    if connection.scope.get("query_string"):
        _check_query(connection.scope["query_string"], is_api(connection))
    for name, value in (connection.scope.get("path_params") or {}).items():
        _refuse(name, str(value), _CONTROL_OR_BREAK)
    _refuse("path", unquote(connection.scope.get("path", "")), _CONTROL_OR_BREAK)
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
        _check_strings(decoded)
        _strictly(handler, decoded)
    elif kind == "application/x-www-form-urlencoded":
        _check_form((await connection.body()).decode("utf-8", "replace"))
