"""The numbers behind the analytics report: CSV parsing, daily and weekly totals, top pages, anomalies.

Pure functions over frozen dataclasses (no I/O, no database), so the agent stays a thin loop around
them and every rule here is tested on its own. Money stays integer cents; percentages are floats
rounded to 2 decimals.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from statistics import median
from typing import Literal

REQUIRED = ("date", "page", "visits", "orders", "revenue_cents")
_COUNTS = ("visits", "orders", "revenue_cents")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_WHOLE = re.compile(r"-?[0-9]{1,15}")  # ASCII only: int() would also take '١٢' and '1_000'
_MAX_PAGE = 2048
_ERRORS_QUOTED = 3


class CsvError(ValueError):
    """The file as a whole cannot be used; the message is meant for the person who uploaded it."""


@dataclass(frozen=True, slots=True)
class Row:
    day: date
    page: str
    visits: int
    orders: int
    revenue_cents: int


@dataclass(frozen=True, slots=True)
class RowError:
    line: int  # 1-based line in the file where the record starts
    reason: str


@dataclass(frozen=True, slots=True)
class ParseResult:
    rows: tuple[Row, ...]
    errors: tuple[RowError, ...]  # skipped rows; fewer than half of all data rows


@dataclass(frozen=True, slots=True)
class DayTotal:
    day: date
    visits: int
    orders: int
    revenue_cents: int


@dataclass(frozen=True, slots=True)
class Week:
    start: date
    end: date  # inclusive, start + 6 days
    visits: int
    orders: int
    revenue_cents: int
    conversion_pct: float
    visits_change_pct: float | None  # vs the 7 days before; None when that week is not full or was 0
    orders_change_pct: float | None
    revenue_change_pct: float | None


@dataclass(frozen=True, slots=True)
class PageStat:
    page: str
    visits: int
    orders: int
    revenue_cents: int
    conversion_pct: float


@dataclass(frozen=True, slots=True)
class Anomaly:
    day: date
    metric: Literal["visits", "orders"]
    value: int
    expected: float  # the robust baseline the day was compared with
    kind: Literal["spike", "drop"]
    score: float  # signed robust z-score, rounded to 2 decimals


@dataclass(frozen=True, slots=True)
class Summary:
    first_day: date | None
    last_day: date | None
    days: int  # days with data
    visits: int
    orders: int
    revenue_cents: int
    conversion_pct: float
    last_week: Week | None  # the last full week; its *_change_pct compare it with the week before
    previous_week: Week | None


# -- parsing ---------------------------------------------------------------------------------------

def parse_analytics_csv(text: str, max_rows: int = 200_000) -> ParseResult:
    """Rows of a ``date,page,visits,orders,revenue_cents`` export; bad rows are reported, not fatal.

    One broken line should not sink a 90-day export, but a file that is mostly wrong (more than half
    the rows bad, or none good) is probably the wrong file, so that raises ``CsvError``.
    Column order may vary and extra columns are ignored. Duplicate (date, page) rows are kept and
    summed by the aggregations, as exports split by source produce them.
    """
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise CsvError("the CSV is empty")
    reader = csv.reader(io.StringIO(text, newline=""))
    columns, header_line = _read_header(reader)
    rows: list[Row] = []
    errors: list[RowError] = []
    total = 0
    last_line = header_line
    while True:
        start = last_line + 1
        try:
            record = next(reader, None)
        except csv.Error as exc:
            raise CsvError(f"line {start}: the file is not valid CSV ({exc})") from None
        last_line = reader.line_num
        if record is None:
            break
        if not any(field.strip() for field in record):
            continue  # blank lines are not rows
        total += 1
        if total > max_rows:
            raise CsvError(f"the CSV has more than {max_rows:,} rows; split it into smaller files")
        try:
            rows.append(_parse_row(record, columns))
        except ValueError as exc:
            errors.append(RowError(start, str(exc)))
    if total == 0:
        raise CsvError("the CSV has a header but no data rows")
    if not rows or len(errors) * 2 > total:
        quoted = "; ".join(f"line {e.line}: {e.reason}" for e in errors[:_ERRORS_QUOTED])
        raise CsvError(f"{len(errors)} of {total} rows are invalid, e.g. {quoted}")
    return ParseResult(tuple(rows), tuple(errors))


def _read_header(reader) -> tuple[dict[str, int], int]:
    """Column name -> index for the required columns, and the header's line number."""
    try:
        header = next(reader, None)
        while header is not None and not any(f.strip() for f in header):
            header = next(reader, None)
    except csv.Error as exc:
        raise CsvError(f"the header is not valid CSV ({exc})") from None
    if header is None:
        raise CsvError("the CSV is empty")
    names = [name.strip().lower() for name in header]
    columns: dict[str, int] = {}
    for name in REQUIRED:
        if names.count(name) > 1:
            raise CsvError(f"duplicate column '{name}'")
        if name not in names:
            raise CsvError(f"missing column '{name}'")
        columns[name] = names.index(name)
    columns["_width"] = len(header)
    return columns, reader.line_num


def _parse_row(record: list[str], columns: dict[str, int]) -> Row:
    if len(record) != columns["_width"]:
        raise ValueError(f"expected {columns['_width']} fields, got {len(record)}")
    raw_day = record[columns["date"]].strip()
    try:
        if not _ISO_DATE.fullmatch(raw_day):
            raise ValueError
        day = date.fromisoformat(raw_day)
    except ValueError:
        raise ValueError(f"date {_show(raw_day)} is not a YYYY-MM-DD date") from None
    page = record[columns["page"]].strip()
    if not page:
        raise ValueError("page is empty")
    if len(page) > _MAX_PAGE:
        raise ValueError(f"page is longer than {_MAX_PAGE} characters")
    counts = {}
    for name in _COUNTS:
        raw = record[columns[name]].strip()
        if not _WHOLE.fullmatch(raw):
            raise ValueError(f"{name} {_show(raw)} is not a whole number")
        if raw.startswith("-") and int(raw) != 0:
            raise ValueError(f"{name} {_show(raw)} is negative")
        counts[name] = abs(int(raw))
    return Row(day, page, **counts)


def _show(value: str) -> str:
    """A field quoted for an error message, cut short so one huge cell cannot bloat the report."""
    return repr(value if len(value) <= 40 else value[:40] + "…")


# -- aggregation -----------------------------------------------------------------------------------

def conversion_rate(orders: int, visits: int) -> float:
    """Orders per 100 visits, rounded to 2 decimals; 0.0 without visits (never a division error)."""
    return round(orders * 100 / visits, 2) if visits > 0 else 0.0


def pct_change(current: int, previous: int) -> float | None:
    """Change from ``previous`` to ``current`` in percent; None when there is no base to compare with."""
    return round((current - previous) * 100 / previous, 2) if previous > 0 else None


def _sums_by(rows: Iterable[Row], key: str) -> dict:
    """Visits, orders and revenue added up per value of ``key`` (a day or a page)."""
    sums: dict = defaultdict(lambda: [0, 0, 0])
    for row in rows:
        acc = sums[getattr(row, key)]
        acc[0] += row.visits
        acc[1] += row.orders
        acc[2] += row.revenue_cents
    return sums


def daily_totals(rows: Iterable[Row]) -> list[DayTotal]:
    """One total per day that has data, sorted by day. Days without rows are left out, not zero-filled."""
    sums = _sums_by(rows, "day")
    return [DayTotal(day, *sums[day]) for day in sorted(sums)]


def weekly_trends(days: Sequence[DayTotal]) -> list[Week]:
    """Full 7-day blocks counted back from the last day, oldest first, each compared with the block before.

    Blocks end on the last day with data (not ISO weeks), so the newest week is always complete and the
    report's "last week" is the freshest 7 days. A block counts only if all 7 of its days have data;
    a change is given only when the block right before it is full too.
    """
    if not days:
        return []
    last = max(d.day for d in days)
    blocks: dict[int, list[DayTotal]] = defaultdict(list)
    for total in days:
        blocks[(last - total.day).days // 7].append(total)
    full = {index: block for index, block in blocks.items() if len({d.day for d in block}) == 7}
    sums = {index: [sum(getattr(d, m) for d in block) for m in _COUNTS] for index, block in full.items()}
    weeks = []
    for index in sorted(full, reverse=True):
        visits, orders, revenue = sums[index]
        before = sums.get(index + 1)
        end = last - timedelta(days=7 * index)
        weeks.append(Week(
            start=end - timedelta(days=6), end=end, visits=visits, orders=orders, revenue_cents=revenue,
            conversion_pct=conversion_rate(orders, visits),
            visits_change_pct=pct_change(visits, before[0]) if before else None,
            orders_change_pct=pct_change(orders, before[1]) if before else None,
            revenue_change_pct=pct_change(revenue, before[2]) if before else None,
        ))
    return weeks


def top_pages(rows: Iterable[Row], n: int = 5) -> list[PageStat]:
    """The ``n`` pages with the most visits (ties by name), with their orders, revenue and conversion."""
    sums = _sums_by(rows, "page")
    ranked = sorted(sums.items(), key=lambda item: (-item[1][0], item[0]))[:max(n, 0)]
    return [PageStat(page, v, o, r, conversion_rate(o, v)) for page, (v, o, r) in ranked]


def summary(days: Sequence[DayTotal]) -> Summary:
    """The headline: totals, overall conversion, and the last full week against the one before it."""
    visits = sum(d.visits for d in days)
    orders = sum(d.orders for d in days)
    weeks = weekly_trends(days)
    last = weeks[-1] if weeks else None
    previous = weeks[-2] if len(weeks) > 1 and weeks[-2].end == last.start - timedelta(days=1) else None
    return Summary(
        first_day=min((d.day for d in days), default=None), last_day=max((d.day for d in days), default=None),
        days=len({d.day for d in days}), visits=visits, orders=orders,
        revenue_cents=sum(d.revenue_cents for d in days), conversion_pct=conversion_rate(orders, visits),
        last_week=last, previous_week=previous,
    )


# -- anomalies -------------------------------------------------------------------------------------

MIN_DAYS_FOR_ANOMALIES = 14
_MIN_PER_WEEKDAY = 4
_MAD_TO_SIGMA = 0.6745  # Iglewicz & Hoaglin: MAD of a normal sample is 0.6745 sigma
_MEAN_AD_TO_SIGMA = 0.7979  # fallback when MAD is 0: mean absolute deviation is 0.7979 sigma
_ZERO_ORDERS_MIN_MEDIAN = 5


def anomalies(days: Sequence[DayTotal], threshold: float = 3.5) -> list[Anomaly]:
    """Days whose visits or orders sit far from what is normal for that day, by a robust z-score.

    Method, per metric (visits, orders):
    - baseline: the median of the same weekday when every weekday has at least 4 days of data (so a
      quiet Sunday is compared with other Sundays, not flagged every week), else the median of all days;
    - scale: the MAD (median absolute deviation) of the days' residuals from their baseline; when it
      is 0 (most days identical), the mean absolute deviation stands in;
    - score: ``0.6745 * (value - baseline) / MAD`` (Iglewicz & Hoaglin's modified z-score); a day with
      ``|score| > threshold`` is a ``spike`` (above) or a ``drop`` (below).
    Medians and MAD ignore the outliers they are looking for, unlike a mean and standard deviation.
    One more rule: a day with visits but 0 orders is an orders ``drop`` whenever the median of daily
    orders is at least 5, as that usually means checkout or tracking broke, however noisy the data.
    Fewer than 14 days give no anomalies: there is no "normal" to compare with yet.
    Long-run growth is not modelled; a steady climb over many weeks can end in flagged spikes.
    """
    if len(days) < MIN_DAYS_FOR_ANOMALIES:
        return []
    found: dict[tuple[date, str], Anomaly] = {}
    scores: dict[str, dict[date, tuple[float, float]]] = {}
    for metric in ("visits", "orders"):
        scores[metric] = _robust_scores(days, metric)
        for total in days:
            baseline, score = scores[metric][total.day]
            if abs(score) > threshold:
                kind = "spike" if score > 0 else "drop"
                found[(total.day, metric)] = Anomaly(total.day, metric, getattr(total, metric),
                                                     round(float(baseline), 2), kind, round(score, 2))
    if median(d.orders for d in days) >= _ZERO_ORDERS_MIN_MEDIAN:
        for total in days:
            if total.visits > 0 and total.orders == 0 and (total.day, "orders") not in found:
                baseline, score = scores["orders"][total.day]
                found[(total.day, "orders")] = Anomaly(total.day, "orders", 0, round(float(baseline), 2), "drop",
                                                       round(score, 2))
    return [found[key] for key in sorted(found)]


def _robust_scores(days: Sequence[DayTotal], metric: str) -> dict[date, tuple[float, float]]:
    """Day -> (baseline, signed robust z-score) for one metric; scores are 0 when all days agree."""
    by_weekday: dict[int, list[int]] = defaultdict(list)
    for total in days:
        by_weekday[total.day.weekday()].append(getattr(total, metric))
    seasonal = len(by_weekday) == 7 and all(len(v) >= _MIN_PER_WEEKDAY for v in by_weekday.values())
    overall = median(getattr(d, metric) for d in days)
    weekday_median = {wd: median(values) for wd, values in by_weekday.items()}
    baselines = {d.day: weekday_median[d.day.weekday()] if seasonal else overall for d in days}
    residuals = [getattr(d, metric) - baselines[d.day] for d in days]
    centre = median(residuals)
    deviations = [abs(r - centre) for r in residuals]
    mad = median(deviations)
    if mad > 0:
        factor = _MAD_TO_SIGMA / mad
    else:
        mean_ad = sum(deviations) / len(deviations)
        factor = _MEAN_AD_TO_SIGMA / mean_ad if mean_ad > 0 else 0.0
    return {d.day: (baselines[d.day] + centre, factor * (r - centre)) for d, r in zip(days, residuals, strict=True)}

