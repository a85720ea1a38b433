"""What the analytics report says: the numbers as a JSON-able analysis, then the report's title, summary,
sections, scores and action items built from it.

The analysis is the "analyse" step's recorded output, so a resumed run rebuilds the report from it
without reading the CSV again; everything here is pure and works on that dict (dates as ISO strings).
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict
from datetime import date, timedelta
from typing import Any

from agentledger.agents import analytics_math as m

SHIFT_MIN_DAYS = 3  # this many flagged days in a row, same metric and direction: a level shift, not one-off days
BENCHMARK_CONVERSION = 2.5  # % of visits that order in a typical online shop
TREND_POINTS_PER_PCT = 2.5  # traffic trend score: 50 is flat, +-20 % visits week on week is 100 / 0


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _plain(record: Any) -> dict[str, Any]:
    return {key: _iso(value) for key, value in asdict(record).items()}


def analyse(parsed: m.ParseResult, top_n: int, threshold: float) -> dict[str, Any]:
    """Every number the report shows, in the shape the step records."""
    days = m.daily_totals(parsed.rows)
    found = m.anomalies(days, threshold)
    events, shifts = split_anomalies(found)
    headline = m.summary(days)
    return {
        "rows": len(parsed.rows), "invalid_rows": len(parsed.errors), "threshold": threshold,
        "summary": {key: _iso(value) for key, value in asdict(headline).items()
                    if key not in ("last_week", "previous_week")},
        "days": [_plain(d) for d in days],
        "weeks": [_plain(w) for w in m.weekly_trends(days)],
        "has_previous_week": headline.previous_week is not None,
        "top_pages": [_plain(p) for p in m.top_pages(parsed.rows, top_n)],
        "anomalies": [_plain(a) for a in events],
        "shifts": shifts,
    }


def split_anomalies(found: list[m.Anomaly]) -> tuple[list[m.Anomaly], list[dict[str, Any]]]:
    """One-off anomalies, and sustained shifts (runs of flagged days in one direction).

    The robust score does not model trends, so a week of growth flags every day of it; people read that
    as "traffic went up", not as seven incidents. Anomalies on a shift's days in its direction (orders
    rising with the visits) belong to the shift.
    """
    runs: list[list[m.Anomaly]] = []
    for anomaly in sorted(found, key=lambda a: (a.metric, a.kind, a.day)):
        last = runs[-1][-1] if runs else None
        if last and (last.metric, last.kind) == (anomaly.metric, anomaly.kind) and \
                anomaly.day - last.day == timedelta(days=1):
            runs[-1].append(anomaly)
        else:
            runs.append([anomaly])
    shifts = [run for run in runs if len(run) >= SHIFT_MIN_DAYS]
    covered = {(a.day, a.kind) for run in shifts for a in run}
    events = sorted((a for a in found if (a.day, a.kind) not in covered), key=lambda a: (a.day, a.metric != "visits"))
    return events, [{
        "metric": run[0].metric, "kind": run[0].kind, "start": run[0].day.isoformat(), "end": run[-1].day.isoformat(),
        "days": len(run), "value": sum(a.value for a in run), "expected": round(sum(a.expected for a in run), 2),
    } for run in sorted(shifts, key=lambda r: (r[0].day, r[0].metric))]


# -- formatting ------------------------------------------------------------------------------------

def money(cents: int) -> str:
    return f"{'-' if cents < 0 else ''}{abs(cents) // 100:,}.{abs(cents) % 100:02d}"


def change(pct: float | None) -> str:
    return "n/a" if pct is None else f"{pct:+.1f}%"


def _last_weeks(analysis: dict[str, Any]) -> tuple[dict | None, dict | None]:
    weeks = analysis["weeks"]
    last = weeks[-1] if weeks else None
    return last, (weeks[-2] if last and analysis["has_previous_week"] else None)


def title(analysis: dict[str, Any]) -> str:
    s = analysis["summary"]
    return f"Analytics report · {s['first_day']} to {s['last_day']}"


def summary(analysis: dict[str, Any]) -> str:
    s = analysis["summary"]
    text = (f"{s['first_day']} to {s['last_day']} ({s['days']} days with data): {s['visits']:,} visits, "
            f"{s['orders']:,} orders and {money(s['revenue_cents'])} in revenue (the export's currency); "
            f"{s['conversion_pct']:.2f}% of visits ended in an order.")
    last, previous = _last_weeks(analysis)
    if last and previous:
        text += (f" Last week ({last['start']} to {last['end']}) had {last['visits']:,} visits, "
                 f"{change(last['visits_change_pct'])} on the week before ({previous['visits']:,}), and "
                 f"{last['orders']:,} orders ({change(last['orders_change_pct'])}).")
    else:
        text += " There are not two full weeks in a row to compare yet."
    for shift in analysis["shifts"]:
        text += (f" {shift['metric'].capitalize()} were {'above' if shift['kind'] == 'spike' else 'below'} normal "
                 f"every day from {shift['start']} to {shift['end']}.")
    return text


# -- sections --------------------------------------------------------------------------------------

def _daily_series(analysis: dict[str, Any]) -> tuple[list[str], dict[str, list[int | None]]]:
    """Every calendar day from first to last; days without rows are gaps (None), not zeros."""
    by_day = {d["day"]: d for d in analysis["days"]}
    first, last = date.fromisoformat(analysis["days"][0]["day"]), date.fromisoformat(analysis["days"][-1]["day"])
    labels = [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]
    return labels, {metric: [by_day[d][metric] if d in by_day else None for d in labels]
                    for metric in ("visits", "orders")}


def _line(chart_title: str, labels: list[str], name: str, values: list, y_title: str) -> dict[str, Any]:
    return {"type": "line", "title": chart_title, "x_labels": labels, "series": [{"name": name, "values": values}],
            "y_title": y_title}


def sections(analysis: dict[str, Any]) -> list[dict[str, Any]]:
    return [_traffic(analysis), _top_pages(analysis), _anomalies(analysis), _conversion(analysis)]


def _traffic(analysis: dict[str, Any]) -> dict[str, Any]:
    labels, series = _daily_series(analysis)
    weeks = analysis["weeks"]
    rows = [[f"{w['start']} to {w['end']}", w["visits"], change(w["visits_change_pct"]), w["orders"],
             change(w["orders_change_pct"]), money(w["revenue_cents"]), change(w["revenue_change_pct"]),
             f"{w['conversion_pct']:.2f}%"] for w in weeks]
    text = ("Weeks are 7-day blocks counted back from the last day of data, each compared with the block "
            "before it. Orders have their own chart: on the visits scale they would be a flat line.")
    if not weeks:
        text += " The data covers no full 7 consecutive days, so there are no weekly totals."
    return {"title": "Traffic and orders", "text": text,
            "charts": [_line("Daily visits", labels, "Visits", series["visits"], "visits"),
                       _line("Daily orders", labels, "Orders", series["orders"], "orders")],
            "tables": [{"title": "Weekly totals", "columns": [
                "week", "visits", "visits change", "orders", "orders change", "revenue", "revenue change",
                "conversion"], "rows": rows}]}


def _top_pages(analysis: dict[str, Any]) -> dict[str, Any]:
    pages, total = analysis["top_pages"], analysis["summary"]["visits"]
    rows = [[rank, p["page"], p["visits"], f"{p['visits'] * 100 / total:.1f}%" if total else "n/a", p["orders"],
             money(p["revenue_cents"]), f"{p['conversion_pct']:.2f}%"] for rank, p in enumerate(pages, 1)]
    chart = {"type": "bar", "title": f"Top {len(pages)} pages by visits", "x_labels": [p["page"] for p in pages],
             "series": [{"name": "Visits", "values": [p["visits"] for p in pages]}], "y_title": "visits"}
    return {"title": "Top pages", "text": "Pages ranked by visits over the whole period.",
            "charts": [chart] if pages else [],
            "tables": [{"columns": ["rank", "page", "visits", "share of visits", "orders", "revenue", "conversion"],
                        "rows": rows}]}


def _anomalies(analysis: dict[str, Any]) -> dict[str, Any]:
    text = (f"A day is an anomaly when its visits or orders sit far from what is normal for that weekday: the "
            f"baseline (expected) is the median of the same weekday, the spread is the median absolute deviation, "
            f"and a robust z-score above {analysis['threshold']:g} (either way) flags a spike or a drop. Medians "
            f"are not pulled along by the outliers they look for. A day with visits but no orders is an orders "
            f"drop when the shop normally has at least 5 orders a day. {SHIFT_MIN_DAYS} or more flagged days in "
            f"a row in the same direction are a sustained shift, listed apart, not as separate anomalies.")
    if analysis["summary"]["days"] < m.MIN_DAYS_FOR_ANOMALIES:
        text += f" The data has fewer than {m.MIN_DAYS_FOR_ANOMALIES} days, too few to say what is normal."
    tables = [{"title": "Anomalies", "columns": ["date", "metric", "value", "expected", "kind", "score"],
               "rows": [[a["day"], a["metric"], a["value"], a["expected"], a["kind"], a["score"]]
                        for a in analysis["anomalies"]]}]
    if analysis["shifts"]:
        tables.append({"title": "Sustained shifts", "columns": ["from", "to", "metric", "kind", "days", "total",
                                                               "expected"],
                       "rows": [[s["start"], s["end"], s["metric"], s["kind"], s["days"], s["value"], s["expected"]]
                                for s in analysis["shifts"]]})
    return {"title": "Anomalies", "text": text, "tables": tables, "charts": []}


def _conversion(analysis: dict[str, Any]) -> dict[str, Any]:
    weeks, s = analysis["weeks"], analysis["summary"]
    text = f"Conversion is orders per 100 visits: {s['conversion_pct']:.2f}% over the whole period."
    charts = []
    if weeks:
        best = max(weeks, key=lambda w: w["conversion_pct"])
        worst = min(weeks, key=lambda w: w["conversion_pct"])
        text += (f" Best week {best['start']} ({best['conversion_pct']:.2f}%), weakest week {worst['start']} "
                 f"({worst['conversion_pct']:.2f}%).")
        charts.append(_line("Weekly conversion", [f"{w['start']}" for w in weeks], "Conversion (%)",
                            [w["conversion_pct"] for w in weeks], "% of visits"))
    return {"title": "Conversion", "text": text, "charts": charts, "tables": []}


# -- scores, action items, export ------------------------------------------------------------------

def scores(analysis: dict[str, Any]) -> list[tuple[str, float, str, str | None]]:
    """(name, value, explanation, unit); a score with nothing to base it on is left out.

    Conversion is a percentage and says so ("1.63%", unit "%"), next to the typical shop's rate; the
    others are 0-100 scores. Conversion comes last: the run list previews a run by its first score,
    and "score 1.63" would read as a poor score rather than as a rate.
    """
    s, rows, bad = analysis["summary"], analysis["rows"], analysis["invalid_rows"]
    out: list[tuple[str, float, str, str | None]] = []
    last, previous = _last_weeks(analysis)
    if last and previous and last["visits_change_pct"] is not None:
        pct = last["visits_change_pct"]
        value = max(0.0, min(100.0, round(50 + pct * TREND_POINTS_PER_PCT, 1)))
        out.append(("Traffic trend", value,
                    f"Visits in the last week ({last['start']} to {last['end']}) changed {change(pct)} on the week "
                    f"before. Score = 50 + {TREND_POINTS_PER_PCT:g} per percentage point, within 0-100: 50 is flat, "
                    f"100 is +20% or more, 0 is -20% or less.", None))
    out.append(("Data quality", round(rows * 100 / (rows + bad), 1),
                f"{rows:,} of {rows + bad:,} data rows were valid ({bad:,} malformed rows were skipped). "
                f"Score = share of valid rows x 100.", None))
    conversion = s["conversion_pct"]
    against = "above" if conversion > BENCHMARK_CONVERSION else "below" if conversion < BENCHMARK_CONVERSION else "at"
    out.append(("Conversion rate", round(conversion, 2),
                f"{conversion:.2f}% of visits ended in an order ({s['orders']:,} orders / {s['visits']:,} visits), "
                f"{against} the {BENCHMARK_CONVERSION:g}% a typical online shop converts.", "%"))
    return out


def action_items(analysis: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(title, detail, priority): one per anomalous day and direction, and one per sustained drop.
    Drops come first and rank high: lost orders cost money every day they last."""
    by_day: dict[tuple[str, str], list[dict]] = {}
    for a in analysis["anomalies"]:
        by_day.setdefault((a["day"], a["kind"]), []).append(a)
    items = []
    for (day, kind), found in by_day.items():
        metrics = " and ".join(a["metric"] for a in found)
        detail = "; ".join(f"{a['metric']} {a['value']:,} against about {a['expected']:,.0f} expected "
                           f"(robust z {a['score']:+.1f})" for a in found) + "."
        if kind == "drop" and any(a["metric"] == "orders" and a["value"] == 0 for a in found):
            detail += " No orders on a day with visits usually means checkout or order tracking broke."
        elif kind == "spike":
            detail += " Find the source (campaign, link, bots) and whether the extra visitors bought."
        items.append((f"Investigate the {metrics} {kind} on {day}", detail, "high" if kind == "drop" else "medium"))
    for s in analysis["shifts"]:
        if s["kind"] == "drop":
            items.append((f"Investigate the {s['metric']} drop from {s['start']} to {s['end']}",
                          f"{s['days']} days in a row below normal: {s['value']:,} {s['metric']} against about "
                          f"{s['expected']:,.0f} expected.", "high"))
    return sorted(items, key=lambda item: (item[2] != "high", item[0]))


def weekly_totals(analysis: dict[str, Any]) -> list[dict[str, Any]]:
    return [dict(w) for w in analysis["weeks"]]


def daily_csv(analysis: dict[str, Any]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["date", "visits", "orders", "revenue_cents", "conversion_pct"])
    for d in analysis["days"]:
        writer.writerow([d["day"], d["visits"], d["orders"], d["revenue_cents"],
                         m.conversion_rate(d["orders"], d["visits"])])
    return buffer.getvalue().encode()
