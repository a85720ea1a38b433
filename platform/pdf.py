"""HTML to PDF with WeasyPrint, for every printed document (run reports, purchase receipts): one place
that says what the renderer may fetch (only ``data:`` URLs, the embedded charts: content from agents or
people must never make it reach the network) and how many render at once (it is CPU-bound)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

_rendering = asyncio.Semaphore(2)  # a burst of PDF requests queues here instead of taking every core and thread


def write_pdf(html: str, css: str) -> bytes:
    import weasyprint

    fetcher = weasyprint.URLFetcher(allowed_protocols={"data"}, fail_on_errors=False)
    stylesheet = weasyprint.CSS(string=css, url_fetcher=fetcher)
    return weasyprint.HTML(string=html, url_fetcher=fetcher).write_pdf(stylesheets=[stylesheet])


async def render(html: str, css: str) -> bytes:
    """``write_pdf`` on a thread, at most two at a time."""
    async with _rendering:
        return await asyncio.to_thread(write_pdf, html, css)


# Filters every printed document shares.
def number(value: Any) -> str:
    """1,234 and 72 (no .0), 3.5 when it has decimals."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    return f"{int(value):,}"


def when(value: datetime | None) -> str:
    if value is None:
        return "–"
    value = value.astimezone(UTC)
    return f"{value.day} {value:%b %Y, %H:%M} UTC"
