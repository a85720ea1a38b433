"""The Credits page: the credit audit for admins ("which member and which agent spent what, when, and was
it worth it"), and the same page scoped to a member's own runs ("My usage"). A period from presets (7, 30,
90 days, a calendar month) or custom dates; every figure links to the run list with the matching filters;
charts are pygal SVG images (``common.CHART_CSP``); the books' reconciliation for admins."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get
from litestar.params import FromPath
from litestar.response import Template

from agentledger.billing import usage
from agentledger.platform.charts import SIZES, render_svg
from agentledger.platform.clock import now
from agentledger.platform.errors import Invalid
from agentledger.platform.executions import service as executions
from agentledger.platform.scoping import Scope
from agentledger.web.pages.common import CHART_CSP, page_scope, render

RANGES = {"7d": "7 days", "30d": "30 days", "90d": "90 days", "month": "a month", "custom": "custom"}
STEPS = ("day", "week", "month")


@dataclass
class PeriodView:
    """The period as the URL carries it, so a view can be bookmarked and each chart asks for the same."""

    range: str = "30d"
    month: str = ""  # 2026-11, with range=month
    since: str = ""  # dates, with range=custom (until inclusive)
    until: str = ""
    step: str = ""  # day, week or month: the chart over time; by default what suits the period's length

    @classmethod
    def of(cls, query: Any) -> PeriodView:
        view = cls(**{k: query.get(k) or v for k, v in asdict(cls()).items()})
        if view.range not in RANGES:
            raise Invalid(f"range must be one of {', '.join(RANGES)}", field="range")
        if view.step and view.step not in STEPS:
            raise Invalid(f"step must be one of {', '.join(STEPS)}", field="step")
        return view

    def span(self) -> usage.Period:
        today = now()
        if self.range == "month":
            try:
                first = datetime.strptime(self.month or f"{today:%Y-%m}", "%Y-%m").replace(tzinfo=UTC)
            except ValueError:
                raise Invalid("month must look like 2026-11", field="month") from None
            after = (first + timedelta(days=32)).replace(day=1)
            return usage.period(first, min(after, today) if first < today else after)
        if self.range == "custom":
            return usage.period(_day(self.since, "since"), _day(self.until, "until") + timedelta(days=1))
        return usage.period(today - usage.PRESETS[self.range], today)

    def step_for(self, span: usage.Period) -> str:
        return self.step or ("day" if span.days <= 62 else "week" if span.days <= 400 else "month")

    def query(self, **changes: str) -> str:
        return urlencode([(k, v) for k, v in {**asdict(self), **changes}.items() if v])


def _day(text: str, name: str) -> datetime:
    try:
        return datetime.fromisoformat(text).replace(tzinfo=UTC)
    except ValueError:
        raise Invalid(f"{name} must be a date like 2026-11-01", field=name) from None


def runs_link(ws: str, span: usage.Period, **filters: Any) -> str:
    """The run list with the period (as whole days) and ``filters``: where every figure drills down to."""
    last = span.until - timedelta(microseconds=1)
    pairs = {"range": "custom", "since": f"{span.since:%Y-%m-%d}", "until": f"{last:%Y-%m-%d}", **filters}
    return f"/w/{ws}/executions?" + urlencode({k: v for k, v in pairs.items() if v})


def slice_link(ws: str, step: str, key: str) -> str:
    """The run list for one day, week or month of the chart over time."""
    first = datetime.strptime(key, "%Y-%m" if step == "month" else "%Y-%m-%d").replace(tzinfo=UTC)
    after = (first + timedelta(days=32)).replace(day=1) if step == "month" else first + timedelta(
        days=7 if step == "week" else 1)
    return runs_link(ws, usage.Period(first, after))


def timeline(span: usage.Period, step: str, groups: list[usage.Group]) -> list[usage.Group]:
    """Every day, week or month of the period, those without movements at zero: a time axis has no gaps."""
    seen = {g.key: g for g in groups}
    at = span.since.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if step == "week":
        at -= timedelta(days=at.weekday())
    elif step == "month":
        at = at.replace(day=1)
    found = []
    while at < span.until:
        key = at.strftime("%Y-%m" if step == "month" else "%Y-%m-%d")
        found.append(seen.get(key) or usage.Group(key, usage.label(step, key, {}), 0, 0, 0))
        at = (at + timedelta(days=32)).replace(day=1) if step == "month" else at + timedelta(days=7 if step == "week" else 1)
    return found


def _chart(what: str, groups: list[usage.Group], step: str) -> dict[str, Any]:
    if what == "time":
        return {"type": "line", "title": f"Credits by {step}", "x_labels": [g.label for g in groups], "y_title": "credits",
                "series": [{"name": "charged", "values": [g.credits_charged for g in groups]},
                           {"name": "refunded", "values": [g.credits_refunded for g in groups]}]}
    top = groups[:12]
    return {"type": "bar", "title": f"Credits charged by {what}", "x_labels": [g.label for g in top],
            "y_title": "credits", "series": [{"name": "charged", "values": [g.credits_charged for g in top]}]}


class CreditsPages(Controller):
    path = "/w/{ws:str}/credits"
    include_in_schema = False

    @get("/")
    async def credits(self, request: Request, ws: FromPath[str]) -> Template:
        principal, caller = await page_scope(request, ws)
        view = PeriodView.of(request.query_params)
        span = view.span()
        step = view.step_for(span)
        by_time, total = await usage.groups(caller, step, span), await usage.total(caller, span)
        by_member = await usage.groups(caller, "member", span) if caller.is_admin else []
        by_agent = await usage.groups(caller, "agent", span)
        audit = await usage.audit(caller, span, total.credits_charged)
        return await render(request, "credits.html", principal=principal, caller=caller, view=view, span=span,
                            step=step, ranges=RANGES, by_time=by_time, total=total, by_member=by_member,
                            by_agent=by_agent, audit=audit, value=await _value(caller, span, by_agent),
                            runs_link=lambda **f: runs_link(ws, span, **f),
                            slice_link=lambda key: slice_link(ws, step, key))

    @get("/charts/{what:str}")
    async def chart(self, request: Request, ws: FromPath[str], what: FromPath[str]) -> Response[str]:
        """One of the page's charts (over time, by member, by agent) for the same period, as SVG."""
        _, caller = await page_scope(request, ws)
        if what not in ("time", "member", "agent") or (what == "member" and not caller.is_admin):
            raise Invalid("no such chart: time, agent, or (admins) member", field="what")
        size = request.query_params.get("size") or "wide"
        if size not in SIZES:
            raise Invalid(f"size must be one of {', '.join(SIZES)}", field="size")
        view = PeriodView.of(request.query_params)
        span = view.span()
        key = view.step_for(span) if what == "time" else what
        groups = await usage.groups(caller, key, span)
        if what == "time":
            groups = timeline(span, key, groups)
        return Response(render_svg(_chart(what, groups, key), size), media_type="image/svg+xml",
                        headers={"content-security-policy": CHART_CSP, "cache-control": "private, max-age=60"})


async def _value(caller: Scope, span: usage.Period, by_agent: list[usage.Group]) -> list[dict[str, Any]]:
    """Per agent: what its credits bought (recommendations approved and applied per 100 credits), how often
    its runs were re-run, and the share that failed."""
    outcomes = await executions.agent_outcomes(caller, span.since, span.until)
    rows = []
    for group in by_agent:
        seen = outcomes.get(group.key, {})
        runs, per = seen.get("runs", 0), group.credits_charged / 100
        rows.append({"agent": group.key, "charged": group.credits_charged, "runs": runs,
                     "approved_per_100": seen.get("approved", 0) / per if per else None,
                     "applied_per_100": seen.get("applied", 0) / per if per else None,
                     "rerun": seen.get("rerun", 0), "failed_share": seen.get("failed", 0) / runs if runs else None})
    return rows
