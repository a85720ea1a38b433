"""The shop's analytics export: 90 days of visits, orders and revenue per page, the same on every start.

Seeded noise on top of a weekly rhythm, plus the anomalies listed in ``planted.ANALYTICS_PLANTED``, so
an analyst agent has something real to find and a test can say exactly what it should have found.
"""

from __future__ import annotations

import csv
import io
import random
from datetime import date, timedelta
from functools import cache

from agentledger.agents.demo_site.planted import ANALYTICS_PLANTED

END = date(2026, 11, 15)
DAYS = 90
HEADER = ("date", "page", "visits", "orders", "revenue_cents")
SEED = 20261115

# page, visits on an average weekday, conversion rate, average order value in cents
PAGES = (
    ("/", 1400, 0.010, 12000),
    ("/category/jackets", 620, 0.015, 15000),
    ("/category/footwear", 540, 0.014, 14000),
    ("/category/packs", 480, 0.013, 13000),
    ("/products/ridgeline-rain-jacket", 410, 0.035, 18900),
    ("/products/trailblazer-hiking-boot", 360, 0.032, 17900),
    ("/products/traverse-45l-backpack", 300, 0.030, 19900),
    ("/blog/layering-guide", 260, 0.004, 9000),
)
WEEKDAY = (0.95, 0.97, 1.00, 1.02, 1.05, 1.18, 1.12)  # Monday first: weekends are busier
TREND_UP = 1.12


def _planted_date(kind: str) -> date:
    return date.fromisoformat(next(e["date"] for e in ANALYTICS_PLANTED if e["kind"] == kind))


@cache
def rows() -> tuple[tuple[str, str, int, int, int], ...]:
    """Every row, oldest day first. Noise is drawn for every row before any anomaly is applied, so
    changing one anomaly leaves the rest of the data as it was."""
    rng = random.Random(SEED)
    spike, drop, trend_start = _planted_date("spike"), _planted_date("drop"), _planted_date("trend_up")
    drawn = []
    for offset in range(DAYS):
        day = END - timedelta(days=DAYS - 1 - offset)
        for page, base, conversion, order_value in PAGES:
            noise = rng.uniform(0.94, 1.06), rng.uniform(0.8, 1.2), rng.uniform(0.9, 1.1)
            drawn.append((day, page, base * WEEKDAY[day.weekday()] * noise[0], conversion * noise[1],
                          order_value * noise[2]))
    # Scale the last week so it is TREND_UP times the week before, whatever the noise did.
    week_before = sum(v for d, _, v, _, _ in drawn if trend_start - timedelta(days=7) <= d < trend_start)
    last_week = sum(v for d, _, v, _, _ in drawn if d >= trend_start)
    growth = TREND_UP * week_before / last_week
    out = []
    for day, page, visits, conversion, order_value in drawn:
        if day >= trend_start:
            visits *= growth
        orders = visits * conversion
        if day == spike:  # a link went viral: lots of visitors, few of them buy
            visits, orders = visits * 4, orders * 2
        orders = 0 if day == drop else round(orders)
        out.append((day.isoformat(), page, round(visits), orders, orders * round(order_value)))
    return tuple(out)


def _to_csv(records) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(records)
    return buffer.getvalue()


@cache
def analytics_csv() -> str:
    return _to_csv(rows())


@cache
def broken_csv() -> str:
    """A plausible export with the faults real exports have: short rows, a non-number, an impossible date."""
    good = [list(r) for r in rows()[:12]]
    good[2] = good[2][:3]  # missing orders and revenue_cents
    good[4][2] = "n/a"  # visits is not a number
    good[6][0] = "2026-13-45"  # no such date
    good[9] = good[9][:1]  # only a date
    return _to_csv(good)
