"""Rules the pages, the API and the exports share, written once: the status groups of the run list (its
tabs and the API's ``outcome=``) and the priority order (the run page's "by priority" sort, in Python, and
the PDF's most-urgent-first, in SQL, both from ``records.PRIORITIES``)."""

from __future__ import annotations

import pytest

from agentledger.platform.database import fetch
from agentledger.platform.executions import states
from agentledger.platform.results.records import PRIORITIES, PRIORITY_ORDER_SQL, priority_rank


async def test_the_pdf_and_the_run_page_sort_priorities_alike():
    found = ["low", None, "high", "unknown", "medium", "high"]
    values = ", ".join(f"({n}, {'NULL' if p is None else repr(p)})" for n, p in enumerate(found))
    rows = await fetch(f"SELECT n, priority FROM (VALUES {values}) v(n, priority) ORDER BY {PRIORITY_ORDER_SQL}, n")
    in_sql = [row["priority"] for row in rows]
    in_python = sorted(found, key=priority_rank)  # stable: ties keep their order, as ``n`` keeps it in SQL
    assert in_sql == in_python == ["high", "high", "medium", "low", None, "unknown"]
    assert [priority_rank(p) for p in PRIORITIES] == [0, 1, 2]


@pytest.mark.pure
def test_the_tabs_and_the_outcomes_are_the_same_groups():
    assert states.TABS["completed"] == states.OUTCOMES["success"] == (states.COMPLETED, states.PARTIAL)
    assert states.TABS["failed"] == states.OUTCOMES["failure"] == (states.FAILED, states.TIMED_OUT)
    grouped = [s for tab in ("running", "completed", "failed") for s in states.TABS[tab]]
    assert sorted(grouped + [states.CANCELED]) == sorted(states.STATUSES)  # each status in one tab; canceled in "all"
    assert len(grouped) == len(set(grouped))
