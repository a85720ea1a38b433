"""Aware UTC time in one place, so tests and code agree on what 'now' means."""

from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)


def duration(ms: int | None) -> str:
    """How long something took, as a person reads it: "850 ms", "42 s", "6 min 12 s", "6 min", "2 h 5 min" (the
    run report's PDF and the run emails say it the same way)."""
    if ms is None:
        return "–"
    seconds = round(ms / 1000)
    if seconds < 60:
        return f"{seconds} s" if seconds else f"{ms} ms"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s" if seconds else f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min"
