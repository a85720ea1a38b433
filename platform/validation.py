"""Input rules shared by every form and API body: one line of printable text, workspace slugs, http(s) URLs."""

from __future__ import annotations

import re
import unicodedata
import zoneinfo
from functools import cache
from urllib.parse import urlsplit

from agentledger.platform.errors import Invalid

SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])?")
_BREAKING = {"Cc", "Zl", "Zp"}  # control characters (NUL, tabs, newlines) and line/paragraph separators


def has_control_characters(value: str) -> bool:
    return any(unicodedata.category(ch) in _BREAKING for ch in value)


def single_line(value: str, field: str, *, label: str, max_length: int) -> str:
    """``value`` stripped, non-empty, at most ``max_length`` characters, without control characters."""
    value = value.strip()
    if not value or len(value) > max_length:
        raise Invalid(f"{label} must be 1 to {max_length} characters", field=field)
    if has_control_characters(value):
        raise Invalid(f"{label} cannot contain line breaks or control characters", field=field)
    return value


def is_slug(value: str) -> bool:
    return SLUG.fullmatch(value) is not None


def check_url(url: str) -> None:
    """A fetchable http(s) URL: scheme, a host that IDNA-encodes, a valid port, no control characters."""
    if has_control_characters(url):
        raise ValueError(f"'{url!r}' contains control characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError
        parts.hostname.encode("idna")
    except (ValueError, UnicodeError):
        raise ValueError(f"'{url}' is not a valid http(s) URL") from None


def origin(url: str) -> str:
    """scheme://host[:port] in lower case, the default port left out: what two URLs share on one site."""
    parts = urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    port = f":{parts.port}" if parts.port and parts.port != default else ""
    return f"{parts.scheme}://{(parts.hostname or '').lower()}{port}"


NOT_ZONES = frozenset({"localtime", "posixrules", "Factory"})  # files in the zone folder, not places


@cache
def time_zones() -> frozenset[str]:
    """The IANA zone names this machine knows (the ``tzdata`` package ships them with the app)."""
    return frozenset(zoneinfo.available_timezones()) - NOT_ZONES


def check_time_zone(name: str, field: str = "timezone") -> str:
    if name not in time_zones():
        raise Invalid(f"{name[:64]!r} is not a time zone name; use an IANA name such as Europe/Paris", field=field)
    return name
