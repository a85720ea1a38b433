"""Aware UTC time in one place, so tests and code agree on what 'now' means."""

from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)
