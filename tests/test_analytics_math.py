"""The analytics report's numbers: CSV parsing with per-line errors, trends, top pages and anomalies."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from agentledger.agents.analytics_math import (
    CsvError,
    DayTotal,
    Row,
    RowError,
    anomalies,
    conversion_rate,
    daily_totals,
    parse_analytics_csv,
    summary,
    top_pages,
    weekly_trends,
)

pytestmark = pytest.mark.pure  # no database, no Redis of the tests: the clean fixture empties nothing

FIRST = date(2024, 1, 1)  # a Monday
DAYS = 90
SPIKE = FIRST + timedelta(days=40)
NO_ORDERS = FIRST + timedelta(days=60)
PAGES = {"/": 0.5, "/pricing": 0.3, "/blog": 0.2}  # share of the day's visits
HEADER = "date,page,visits,orders,revenue_cents"


def site_csv() -> tuple[str, dict[date, int]]:
    """90 days of three pages with weekend dips and noise, a 3x spike, a day without orders, and a
    last week with 12% more visits than the week before. Returns the CSV and the planted daily visits."""
    rnd = random.Random(20240101)
    planned: dict[date, int] = {}
    for i in range(DAYS):
        day = FIRST + timedelta(days=i)
        base = 1000 * (0.7 if day.weekday() >= 5 else 1.0)
        if DAYS - 14 <= i < DAYS - 7:
            planned[day] = round(base)  # the week before the last: no noise, so +12% is exact
        elif i >= DAYS - 7:
            planned[day] = round(base * 1.12)
        else:
            planned[day] = round(base * rnd.uniform(0.92, 1.08))
    planned[SPIKE] *= 3
    lines = [HEADER]
    for day, total in planned.items():
        for page, share in PAGES.items():
            visits = round(total * share)
            orders = 0 if day == NO_ORDERS else round(visits * 0.04 * rnd.uniform(0.9, 1.1))
            lines.append(f"{day.isoformat()},{page},{visits},{orders},{orders * 2599}")
    return "\n".join(lines) + "\n", planned


def test_the_planted_spike_and_zero_orders_day_are_the_only_anomalies():
    parsed = parse_analytics_csv(site_csv()[0])
    assert parsed.errors == ()
    found = anomalies(daily_totals(parsed.rows))
    assert {a.day for a in found} == {SPIKE, NO_ORDERS}  # weekends and the +12% week are normal
    by_key = {(a.day, a.metric): a for a in found}
    assert by_key[(SPIKE, "visits")].kind == "spike"
    assert by_key[(SPIKE, "visits")].value > 2 * by_key[(SPIKE, "visits")].expected
    assert by_key[(SPIKE, "visits")].score > 3.5
    zero = by_key[(NO_ORDERS, "orders")]
    assert (zero.kind, zero.value) == ("drop", 0) and zero.score < -3.5
    assert [a for a in found if a.day == NO_ORDERS] == [zero]  # z-score and the rule give one anomaly


def test_weekly_trend_ends_on_the_last_day_and_shows_the_twelve_percent():
    text, planned = site_csv()
    days = daily_totals(parse_analytics_csv(text).rows)
    weeks = weekly_trends(days)
    assert len(weeks) == DAYS // 7  # the 6 oldest days do not make a full week
    last = weeks[-1]
    assert (last.start, last.end) == (FIRST + timedelta(days=DAYS - 7), FIRST + timedelta(days=DAYS - 1))
    assert weeks[0].start == FIRST + timedelta(days=DAYS % 7)
    assert weeks[0].visits_change_pct is None
    assert last.visits == sum(d.visits for d in days[-7:])
    assert last.visits_change_pct == pytest.approx(12.0, abs=0.1)
    assert all(weeks[i].end + timedelta(days=1) == weeks[i + 1].start for i in range(len(weeks) - 1))


def test_summary_headline_numbers():
    text, _ = site_csv()
    rows = parse_analytics_csv(text).rows
    head = summary(daily_totals(rows))
    visits, orders = sum(r.visits for r in rows), sum(r.orders for r in rows)
    assert (head.visits, head.orders) == (visits, orders)
    assert head.revenue_cents == sum(r.revenue_cents for r in rows) == orders * 2599
    assert isinstance(head.revenue_cents, int)
    assert head.conversion_pct == round(orders * 100 / visits, 2)
    assert (head.first_day, head.last_day, head.days) == (FIRST, FIRST + timedelta(days=DAYS - 1), DAYS)
    assert head.last_week.visits_change_pct == pytest.approx(12.0, abs=0.1)
    assert head.previous_week.end + timedelta(days=1) == head.last_week.start
    empty = summary([])
    assert (empty.visits, empty.conversion_pct, empty.last_week, empty.first_day) == (0, 0.0, None, None)


def test_weeks_with_missing_days_are_not_full_and_break_the_comparison():
    days = [DayTotal(FIRST + timedelta(days=i), 100, 1, 100) for i in range(21) if i != 9]
    weeks = weekly_trends(days)
    assert [w.start for w in weeks] == [FIRST, FIRST + timedelta(days=14)]
    assert weeks[1].visits_change_pct is None  # the week before it is missing a day
    assert weekly_trends([]) == []


def test_zero_orders_rule_catches_a_day_the_z_score_misses():
    # orders swing between 5 and 60, so a 0 is within the noise; visits are steady
    days = [DayTotal(FIRST + timedelta(days=i), 1000, 60 if i % 2 else 5, 0) for i in range(30)]
    days[17] = DayTotal(days[17].day, 1000, 0, 0)
    found = anomalies(days)
    assert [(a.day, a.metric, a.kind, a.value) for a in found] == [(days[17].day, "orders", "drop", 0)]
    assert abs(found[0].score) < 3.5


def test_zero_orders_is_normal_for_a_shop_that_rarely_sells():
    days = [DayTotal(FIRST + timedelta(days=i), 1000, i % 3, 0) for i in range(30)]
    assert anomalies(days) == []


def test_flat_data_and_short_history_give_no_anomalies():
    flat = [DayTotal(FIRST + timedelta(days=i), 500, 10, 0) for i in range(30)]
    assert anomalies(flat) == []
    short = [DayTotal(FIRST + timedelta(days=i), 500 if i else 50_000, 10, 0) for i in range(10)]
    assert anomalies(short) == []


def test_a_drop_among_identical_days_still_scores_when_mad_is_zero():
    days = [DayTotal(FIRST + timedelta(days=i), 500, 20, 0) for i in range(30)]
    days[12] = DayTotal(days[12].day, 100, 20, 0)
    (only,) = anomalies(days)
    assert (only.day, only.metric, only.kind, only.expected) == (days[12].day, "visits", "drop", 500)


def test_threshold_controls_sensitivity():
    rnd = random.Random(7)
    days = [DayTotal(FIRST + timedelta(days=i), round(1000 * rnd.uniform(0.9, 1.1)), 30, 0) for i in range(60)]
    days[30] = DayTotal(days[30].day, 1250, 30, 0)
    assert days[30].day in {a.day for a in anomalies(days, threshold=3.5)}
    assert anomalies(days, threshold=50) == []


def test_conversion_rate():
    assert conversion_rate(3, 200) == 1.5
    assert conversion_rate(1, 3) == 33.33
    assert conversion_rate(5, 0) == 0.0
    assert conversion_rate(5, 4) == 125.0


def test_daily_totals_sum_duplicates_and_sort():
    rows = [Row(date(2024, 1, 2), "/", 10, 1, 100), Row(date(2024, 1, 1), "/", 5, 0, 0),
            Row(date(2024, 1, 2), "/", 3, 2, 50)]
    assert daily_totals(rows) == [DayTotal(date(2024, 1, 1), 5, 0, 0), DayTotal(date(2024, 1, 2), 13, 3, 150)]


def test_top_pages_by_visits_with_conversion():
    rows = [Row(FIRST, "/a", 100, 5, 500), Row(FIRST, "/b", 300, 3, 900), Row(FIRST, "/c", 100, 0, 0),
            Row(FIRST + timedelta(days=1), "/a", 150, 5, 500)]
    top = top_pages(rows, n=2)
    assert [(p.page, p.visits, p.orders, p.revenue_cents, p.conversion_pct) for p in top] == [
        ("/b", 300, 3, 900, 1.0), ("/a", 250, 10, 1000, 4.0)]
    assert [p.page for p in top_pages(rows)] == ["/b", "/a", "/c"]
    assert [p.page for p in top_pages([Row(FIRST, "/z", 1, 0, 0), Row(FIRST, "/y", 1, 0, 0)])] == ["/y", "/z"]
    assert top_pages(rows, n=0) == []


# -- parsing ---------------------------------------------------------------------------------------

def good(n: int, start: int = 1) -> list[str]:
    return [f"2024-01-{d:02d},/p,{d * 10},{d},{d * 100}" for d in range(start, start + n)]


def test_columns_in_any_order_extra_columns_ignored_and_bom_stripped():
    text = "\ufeffRevenue_Cents, visits ,source,page,orders,date\n1999,40,ads,/home,2,2024-03-01\n"
    parsed = parse_analytics_csv(text)
    assert parsed.rows == (Row(date(2024, 3, 1), "/home", 40, 2, 1999),) and parsed.errors == ()


def test_bad_rows_are_skipped_and_reported_with_their_line_numbers():
    lines = [HEADER, *good(8),
             "2024-02-01,/p,10,1",                 # line 10: too few fields
             "2024-02-30,/p,10,1,100",             # line 11: no such day
             "",                                   # line 12: blank, ignored
             "yesterday,/p,10,1,100",              # line 13
             "2024-02-02,/p,12.5,1,100",           # line 14
             '2024-02-03,"/multi\nline",10,-3,100',  # line 15-16: negative, quoted newline
             "2024-02-04,/p,10,50,100",            # line 17: more orders than visits is fine
             "2024-02-05, ,10,1,100",              # line 18: empty page
             "2024-02-06,/p,١٢,1,100"]             # line 19: non-ASCII digits
    parsed = parse_analytics_csv("\n".join(lines) + "\n")
    assert [e.line for e in parsed.errors] == [10, 11, 13, 14, 15, 18, 19]
    reasons = dict((e.line, e.reason) for e in parsed.errors)
    assert reasons[10] == "expected 5 fields, got 4"
    assert "'2024-02-30'" in reasons[11] and "YYYY-MM-DD" in reasons[11]
    assert reasons[14] == "visits '12.5' is not a whole number"
    assert reasons[15] == "orders '-3' is negative"
    assert reasons[18] == "page is empty"
    assert len(parsed.rows) == 9 and parsed.rows[-1] == Row(date(2024, 2, 4), "/p", 10, 50, 100)
    assert all(isinstance(e, RowError) for e in parsed.errors)


def test_missing_or_duplicate_columns():
    with pytest.raises(CsvError, match=r"^missing column 'orders'$"):
        parse_analytics_csv("date,page,visits,revenue_cents\n2024-01-01,/,1,0\n")
    with pytest.raises(CsvError, match="duplicate column 'page'"):
        parse_analytics_csv("date,page,visits,orders,revenue_cents,page\n")


@pytest.mark.parametrize("text", ["", "\n\n  \n", "\ufeff"])
def test_empty_file(text):
    with pytest.raises(CsvError, match=r"^the CSV is empty$"):
        parse_analytics_csv(text)


def test_header_without_rows():
    with pytest.raises(CsvError, match="no data rows"):
        parse_analytics_csv(HEADER + "\n\n")


def test_mostly_bad_file_is_rejected_citing_the_first_errors():
    text = "\n".join([HEADER, *good(2), "x,/p,1,1,1", "2024-01-05,/p,a,1,1", "2024-01-06,/p"]) + "\n"
    with pytest.raises(CsvError) as err:
        parse_analytics_csv(text)
    message = str(err.value)
    assert message.startswith("3 of 5 rows are invalid")
    assert "line 4: date 'x'" in message and "line 5: visits 'a'" in message and "line 6:" in message


def test_half_bad_is_still_accepted_but_no_good_rows_is_not():
    parsed = parse_analytics_csv("\n".join([HEADER, *good(2), "x,/p,1,1,1", "y,/p,1,1,1"]))
    assert len(parsed.rows) == 2 and len(parsed.errors) == 2
    with pytest.raises(CsvError, match="1 of 1 rows are invalid"):
        parse_analytics_csv(HEADER + "\nnope,/p,1,1,1\n")


def test_row_limit():
    text = "\n".join([HEADER, *good(5)])
    assert len(parse_analytics_csv(text, max_rows=5).rows) == 5
    with pytest.raises(CsvError, match="more than 4 rows"):
        parse_analytics_csv(text, max_rows=4)


def test_huge_cells_are_cut_in_error_messages():
    parsed = parse_analytics_csv("\n".join([HEADER, *good(3), "2024-01-09,/p," + "9" * 5000 + ",1,1"]))
    (error,) = parsed.errors
    assert error.line == 5 and len(error.reason) < 100
