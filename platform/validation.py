"""Input rules shared by every form and API body: one line of printable text, and workspace slugs."""

from __future__ import annotations

import re
import unicodedata

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
