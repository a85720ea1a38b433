"""A run's tabular results as CSV: one file when there is one table, a zip of files when there are more.

Files: ``recommendations.csv``, ``items.csv``, one ``report-<n>-<slug>.csv`` per report table,
``action-items.csv``, ``content.csv``, ``scores.csv`` and ``reviews.csv`` (each review step's decision
and comment), each only when the run has rows for it.

The zip is written with the standard library straight into the response: ``zipfile`` writes to a
stream that cannot seek by putting each entry's sizes in a data descriptor after its bytes, so every
compressed chunk can be sent as soon as it exists. Nothing is spooled to disk and memory holds one
batch of rows, however large the run. Files are UTF-8 with a byte-order mark, because Excel (where
most people open these) reads UTF-8 without one as Latin-1.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import msgspec

from agentledger.platform.errors import Conflict
from agentledger.platform.exports import reading
from agentledger.platform.exports.reading import Run

BOM = "\ufeff".encode()
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
Batches = Callable[[], AsyncIterator[list[list[Any]]]]


@dataclass(frozen=True, slots=True)
class CsvFile:
    name: str
    columns: list[str]
    batches: Batches  # rows, a batch at a time


@dataclass(frozen=True, slots=True)
class Download:
    filename: str
    media_type: str
    chunks: AsyncIterator[bytes]


def cell(value: Any) -> Any:
    """One CSV cell. Text that a spreadsheet would run as a formula (agents copy text from crawled
    pages, which anyone can write) gets a leading apostrophe, the usual guard against CSV injection."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return value
    text = value if isinstance(value, str) else msgspec.json.encode(value).decode()
    return "'" + text if text.startswith(FORMULA_START) else text


def slug(text: str | None) -> str:
    return re.sub(r"[^a-z0-9]+", "-", (text or "").lower()).strip("-")[:40].strip("-") or "table"


def _kind(run: Run, kind: str, row_of: Callable[[dict[str, Any]], list[Any]]) -> Batches:
    async def batches() -> AsyncIterator[list[list[Any]]]:
        async for batch in reading.batches(run, kind):
            yield [row_of(row) for row in batch]
    return batches


def _fixed(rows: list[list[Any]]) -> Batches:
    async def batches() -> AsyncIterator[list[list[Any]]]:
        for start in range(0, len(rows), reading.BATCH):
            yield rows[start:start + reading.BATCH]
    return batches


def _recommendation(r: dict[str, Any]) -> list[Any]:
    b = r["body"]
    return [r["target"], r["field"], b.get("before"), b.get("after"), b.get("reason"), r["priority"], r["status"],
            b.get("check")]


def _action_item(r: dict[str, Any]) -> list[Any]:
    b = r["body"]
    return [r["title"], r["target"], r["priority"], r["status"] == "done", b.get("detail"), b.get("check")]


def _content(r: dict[str, Any]) -> list[Any]:
    return [r["target"], r["field"], r["title"], r["body"].get("text"), r["body"].get("version"), r["status"]]


def _score(r: dict[str, Any]) -> list[Any]:
    b = r["body"]
    return [r["title"], b.get("value"), b.get("scale"), b.get("unit"), b.get("explanation")]


async def _report_tables(run: Run) -> list[CsvFile]:
    """Reports are few and each is one row, so their tables are read up front to name the files."""
    files: list[CsvFile] = []
    async for report in reading.rows(run, "report"):
        for section in report["body"].get("sections") or []:
            for table in section.get("tables") or []:
                name = f"report-{len(files) + 1}-{slug(table.get('title') or section.get('title'))}.csv"
                files.append(CsvFile(name, list(table["columns"]), _fixed(table["rows"])))
    return files


async def plan(run: Run) -> list[CsvFile]:
    """The files this run exports, in the order they appear in the zip."""
    tally = await reading.tally(run)
    kinds = tally.kinds
    files = []
    if kinds.get("recommendation"):
        files.append(CsvFile("recommendations.csv",
                             ["target", "field", "before", "after", "reason", "priority", "status", "check"],
                             _kind(run, "recommendation", _recommendation)))
    if run.record.items:
        files.append(CsvFile("items.csv", ["key", "status", "reason"],
                             _fixed([[i.key, i.status, i.reason] for i in run.record.items])))
    if tally.report_tables:
        files += await _report_tables(run)
    if kinds.get("action_item"):
        files.append(CsvFile("action-items.csv", ["title", "target", "priority", "done", "detail", "check"],
                             _kind(run, "action_item", _action_item)))
    if kinds.get("content"):
        files.append(CsvFile("content.csv", ["target", "field", "title", "text", "version", "status"],
                             _kind(run, "content", _content)))
    if kinds.get("score"):
        files.append(CsvFile("scores.csv", ["name", "value", "scale", "unit", "explanation"],
                             _kind(run, "score", _score)))
    if decisions := await reading.reviews(run):
        files.append(CsvFile("reviews.csv", ["step", "review", "decision", "comment", "decided_by", "decided_at"],
                             _fixed([[r["step"], r["title"], r["status"], r["comment"], r["decided_by"],
                                      r["decided_at"].isoformat() if r["decided_at"] else None] for r in decisions])))
    return files


def _encode(rows: list[list[Any]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows([[cell(value) for value in row] for row in rows])
    return out.getvalue().encode()


async def file_chunks(file: CsvFile) -> AsyncIterator[bytes]:
    yield BOM + _encode([file.columns])
    async for rows in file.batches():
        yield _encode(rows)


class _Sink:
    """A write-only stream that hands back what zipfile wrote since the last ``take`` (no ``tell``/``seek``,
    so zipfile writes data descriptors instead of seeking back)."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._chunks.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data


async def zipped(run: Run, files: list[CsvFile]) -> AsyncIterator[bytes]:
    when = run.record.finished_at or run.record.queued_at
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:  # type: ignore[arg-type]
        for file in files:
            info = zipfile.ZipInfo(file.name, date_time=when.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(info, "w") as entry:
                async for chunk in file_chunks(file):
                    entry.write(chunk)
                    if data := sink.take():
                        yield data
    yield sink.take()  # the last compressed bytes, the descriptors and the central directory


async def export(run: Run) -> Download:
    files = await plan(run)
    if not files:
        raise Conflict("this run has no tables to export as CSV; export it as JSON instead", field="format")
    if len(files) == 1:
        return Download(run.filename("csv"), "text/csv", file_chunks(files[0]))  # Litestar adds the charset
    return Download(run.filename("zip"), "application/zip", zipped(run, files))
