"""A run as a designed, printable PDF report (WeasyPrint), kept in S3 and handed out as an expiring link.

The PDF is named by a fingerprint of what it shows (run state, results, template), so asking again
for an unchanged run reuses the stored file and any change (a finished run, an approved
recommendation) makes a new one. A PDF is read by people: it shows the most urgent ``MAX_ROWS``
recommendations and action items and says how many more the CSV export has, instead of printing
thousands of pages. WeasyPrint is CPU-bound, so it runs on a thread.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2
import msgspec

from agentledger.platform import pdf, storage
from agentledger.platform.charts import render_svg
from agentledger.platform.clock import duration, now
from agentledger.platform.exports import reading
from agentledger.platform.exports.reading import Run, Tally
from agentledger.platform.pdf import number, when
from agentledger.platform.retention import policy as retention

TEMPLATES = Path(__file__).parent / "templates"
MAX_ROWS = 200  # recommendations, action items and failed items printed; the rest are counted
MAX_TABLE_ROWS = 300  # rows of one report table printed
SIGV4_MAX_SECONDS = 7 * 86400  # S3 (and MinIO) refuse presigned URLs that live longer than a week


def link_seconds(keep_days: int) -> int:
    """A link lives as long as the download is kept, but at most the week S3 signatures allow; the API URL
    that hands out links stays valid, and signs a fresh one each time."""
    return min(keep_days * 86400, SIGV4_MAX_SECONDS)


async def link(run: Run, *, shared: bool = False) -> str:
    """A presigned download URL for the run's PDF, rendering and storing it first when needed. ``shared``:
    the edition for a shared link, without credits, errors and the run's steps. A stored PDF is reused for
    the workspace's ``downloads_days`` (its retention policy); the retention pass deletes older ones."""
    tally = await reading.tally(run)
    key = storage.workspace_key(run.scope.workspace_id, "exports", str(run.record.id),
                                f"{fingerprint(run, tally)}{'-shared' if shared else ''}.pdf")
    keep_days = (await retention.of(run.scope.workspace_id)).downloads_days
    written = await storage.stored_at(key)
    if written is None or now() - written > timedelta(days=keep_days):
        pdf = await render(run, tally, shared=shared)
        await storage.put(key, pdf, "application/pdf")
    return storage.download_url(key, run.filename("pdf"), expires_seconds=link_seconds(keep_days))


def fingerprint(run: Run, tally: Tally) -> str:
    r = run.record
    state = [r.status, r.finished_at, r.credits_charged, len(r.steps or ()), len(r.log or ()), len(r.items or ()),
             tally.total, tally.last_change, run.scope.workspace_name, run.agent_title, _design_version()]
    return hashlib.sha256(msgspec.json.encode(state)).hexdigest()[:32]


@lru_cache(maxsize=1)
def _design_version() -> str:
    """A change to the template, the stylesheet or this module makes new PDFs rather than serving old ones."""
    parts = [(TEMPLATES / "report.html").read_bytes(), (TEMPLATES / "report.css").read_bytes(),
             Path(__file__).read_bytes()]
    return hashlib.sha256(b"\0".join(parts)).hexdigest()[:16]


async def render(run: Run, tally: Tally | None = None, *, shared: bool = False) -> bytes:
    tally = tally or await reading.tally(run)
    html = _environment().get_template("report.html").render(**await context(run, tally), shared=shared)
    return await pdf.render(html, (TEMPLATES / "report.css").read_text())


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(number=number, when=when, shown=shown, duration=duration, local=local,
                       label=lambda text: (text or "").replace("_", " "))
    return env


async def context(run: Run, tally: Tally) -> dict[str, Any]:
    """Everything the template shows, as plain values."""
    record = run.record
    reports = [_report(row) async for row in reading.rows(run, "report")]
    scores = [_score(row) for row in await reading.top(run, "score", 50)]
    failed = [i for i in record.items or () if i.status == "failed"]
    kinds = tally.kinds
    title = reports[0]["title"] if reports else f"{run.agent_title} report"
    target = _target(record.inputs)
    return {
        "run": record, "agent_title": run.agent_title, "workspace": run.scope.workspace_name, "title": title,
        "title_lead": title.removesuffix(target).rstrip() if target and title.endswith(target) else title,
        "target": target, "origin": _origin(target), "reports": reports, "scores": scores,
        "recommendations": [_recommendation(r) for r in await reading.top(run, "recommendation", MAX_ROWS)],
        "action_items": [_action_item(r) for r in await reading.top(run, "action_item", MAX_ROWS)],
        "contents": [_content(r) for r in await reading.top(run, "content", MAX_ROWS)],
        "artifacts": [_artifact(r) for r in await reading.top(run, "artifact", MAX_ROWS)],
        "failed_items": failed[:MAX_ROWS], "failed_count": len(failed), "reviews": await reading.reviews(run),
        "counts": {k: kinds.get(k, 0) for k in ("recommendation", "action_item", "content", "artifact")},
        "generated_at": now(),
    }


def _target(inputs: dict[str, Any]) -> str | None:
    for name in ("start_url", "site", "url", "target"):
        if isinstance(inputs.get(name), str):
            return inputs[name]
    return None


def _origin(url: str | None) -> str | None:
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else None


def local(url: str | None, origin: str | None) -> str:
    """A URL on the audited site as its path (the cover names the site once); other URLs stay whole."""
    if not url:
        return ""
    if origin and (url == origin or url.startswith(origin + "/")):
        return url[len(origin):] or "/"
    return url


def _chart(spec: dict[str, Any]) -> dict[str, str]:
    """A chart as an image (WeasyPrint draws SVG); a chart the renderer rejects is named, not drawn."""
    try:
        svg = render_svg(spec)
    except ValueError as error:
        return {"title": str(spec.get("title") or "Chart"), "error": str(error)}
    svg = svg.replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1) if "xmlns=" not in svg else svg
    return {"src": "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode(),
            "title": str(spec.get("title") or "")}


def _report(row: dict[str, Any]) -> dict[str, Any]:
    sections = []
    for section in row["body"].get("sections") or []:
        tables = [{"title": t.get("title"), "columns": t["columns"], "rows": t["rows"][:MAX_TABLE_ROWS],
                   "total": len(t["rows"]), "numeric": _numeric_columns(t)} for t in section.get("tables") or []]
        sections.append({"title": section.get("title"), "text": section.get("text"), "tables": tables,
                         "charts": [_chart(c) for c in section.get("charts") or []]})
    return {"title": row["title"], "summary": row["body"].get("summary"), "sections": sections}


def _numeric_columns(table: dict[str, Any]) -> list[bool]:
    """Columns whose every value is a number: right-aligned, header included, so digits line up."""
    def is_number(value: Any) -> bool:
        return isinstance(value, int | float) and not isinstance(value, bool)

    columns = list(zip(*table["rows"], strict=False)) or [() for _ in table["columns"]]
    return [bool(col) and all(is_number(v) or v in (None, "") for v in col) and any(is_number(v) for v in col)
            for col in columns]


def _score(row: dict[str, Any]) -> dict[str, Any]:
    """A score as printed: "72" out of "/100", or a percentage ("1.63%", no scale and no good/poor band:
    a conversion rate is a rate, not a mark out of 100)."""
    b = row["body"]
    value, scale, unit = float(b.get("value") or 0), int(b.get("scale") or 100), b.get("unit")
    share = value / scale if scale else 0
    band = "rate" if unit == "%" else "good" if share >= 0.8 else "fair" if share >= 0.5 else "poor"
    shown = f"{value:,.2f}".rstrip("0").rstrip(".") + "%" if unit == "%" else number(value)
    return {"name": row["title"], "value": value, "scale": scale, "unit": unit, "explanation": b.get("explanation"),
            "shown": shown, "out_of": "" if unit == "%" else f"/{scale}", "percent": round(100 * share, 1),
            "band": band}


def _recommendation(row: dict[str, Any]) -> dict[str, Any]:
    b = row["body"]
    return {"target": row["target"], "field": row["field"], "before": b.get("before"), "after": b.get("after"),
            "reason": b.get("reason"), "priority": row["priority"], "status": row["status"]}


def _action_item(row: dict[str, Any]) -> dict[str, Any]:
    return {"title": row["title"], "target": row["target"], "priority": row["priority"],
            "detail": row["body"].get("detail"), "done": row["status"] == "done"}


def _content(row: dict[str, Any]) -> dict[str, Any]:
    return {"title": row["title"], "target": row["target"], "field": row["field"], "text": row["body"].get("text"),
            "version": row["body"].get("version"), "status": row["status"]}


def _artifact(row: dict[str, Any]) -> dict[str, Any]:
    b = row["body"]
    return {"name": row["title"], "description": b.get("description"), "content_type": b.get("content_type"),
            "size": b.get("size")}


def shown(value: Any) -> str:
    """A before/after value as text: structured values are shown as JSON."""
    return value if isinstance(value, str) else msgspec.json.encode(value).decode()
