"""analytics-report: reads an analytics CSV (visits, orders, revenue per day and page) and reports weekly
trends, conversion, top pages and anomalies, with scores and action items.

A few malformed rows do not fail the run: they are logged with their line numbers, lower the data
quality score and become an action item, and the run completes. A source that cannot be fetched or is
mostly not analytics data fails the run (refunded), with the reason as its error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import msgspec

from agentledger.agents import analytics_math, net
from agentledger.agents import analytics_report_sections as report
from agentledger.agents.registry import register
from agentledger.agents.sdk import Agent, AgentError, Context
from agentledger.platform.validation import check_url

MAX_BYTES = 20 * 1024 * 1024
LOGGED_ROW_ERRORS = 20
STEPS = 4


class AnalyticsInputs(msgspec.Struct, forbid_unknown_fields=True):
    csv_url: Annotated[str, msgspec.Meta(min_length=8, max_length=2048)]
    top_n: Annotated[int, msgspec.Meta(ge=1, le=20)] = 5
    anomaly_threshold: Annotated[float, msgspec.Meta(ge=2, le=10)] = 3.5

    def __post_init__(self) -> None:
        check_url(self.csv_url)


@dataclass
class _Source:
    """The CSV as read in this attempt. A resumed run reuses the recorded steps, not the text (too large
    to record), so a later step that still needs the rows reads the file again."""

    url: str
    text: str | None = None
    parsed: analytics_math.ParseResult | None = None


@register
class AnalyticsReport(Agent[AnalyticsInputs]):
    name = "analytics-report"
    title = "Analytics report"
    description = ("Reads an analytics CSV (date, page, visits, orders, revenue_cents) and reports weekly trends, "
                   "conversion, top pages and anomalies, with charts, scores and action items.")
    version = "v1"
    inputs = AnalyticsInputs
    base_cost = 5
    per_item_cost = 5
    time_limit_seconds = 300

    def scope_of(self, inputs: AnalyticsInputs) -> int:
        return 1  # one data source, one report

    async def run(self, ctx: Context, inputs: AnalyticsInputs) -> None:
        source = _Source(inputs.csv_url)
        async with ctx.step("fetch", input={"url": source.url, "max_bytes": MAX_BYTES}) as step:
            if not step.reused:
                await self._fetch(ctx, source)
                step.output = {"characters": len(source.text)}
        ctx.progress(1, STEPS)
        async with ctx.step("parse") as step:
            if step.reused:
                ctx.item_done(source.url, step.output)  # read in the run this one resumes: still delivered here
            else:
                step.output = await self._parse(ctx, source)
            parsed = step.output
        ctx.progress(2, STEPS)
        if ctx.mode == "test":
            ctx.log("info", f"test mode: would report {parsed['days']} days ({parsed['first_day']} to "
                            f"{parsed['last_day']}) from {parsed['rows']:,} valid rows ({parsed['invalid_rows']:,} "
                            f"malformed): weekly trends, top {inputs.top_n} pages, anomalies above "
                            f"{inputs.anomaly_threshold:g}, 3 scores and action items; nothing was emitted")
            return
        async with ctx.step("analyse", input={"top_n": inputs.top_n, "threshold": inputs.anomaly_threshold}) as step:
            if not step.reused:
                if source.parsed is None:
                    await self._fetch(ctx, source)
                    source.parsed = self._read(ctx, source)
                step.output = report.analyse(source.parsed, inputs.top_n, inputs.anomaly_threshold)
            analysis = step.output
        ctx.progress(3, STEPS)
        async with ctx.step("report") as step:
            if not step.reused:
                step.output = await self._emit(ctx, analysis)
        ctx.progress(STEPS, STEPS)

    async def _fetch(self, ctx: Context, source: _Source) -> None:
        try:
            source.text = await net.fetch_text(source.url, max_bytes=MAX_BYTES, accept=("csv", "text/plain"))
        except net.FetchError as error:
            ctx.item_failed(source.url, str(error))
            raise AgentError(f"the analytics CSV could not be read: {error}") from None

    def _read(self, ctx: Context, source: _Source) -> analytics_math.ParseResult:
        try:
            return analytics_math.parse_analytics_csv(source.text or "")
        except analytics_math.CsvError as error:
            ctx.item_failed(source.url, str(error))
            raise AgentError(f"the analytics CSV cannot be used: {error}") from None

    async def _parse(self, ctx: Context, source: _Source) -> dict[str, Any]:
        if source.text is None:  # the fetch step was reused: its text was not recorded
            await self._fetch(ctx, source)
        parsed = source.parsed = self._read(ctx, source)
        errors = parsed.errors
        for error in errors[:LOGGED_ROW_ERRORS]:
            ctx.log("warning", f"line {error.line}: {error.reason}")
        if len(errors) > LOGGED_ROW_ERRORS:
            ctx.log("warning", f"{len(errors) - LOGGED_ROW_ERRORS:,} more malformed rows are not listed")
        if errors and ctx.mode == "live":
            lines = ", ".join(str(e.line) for e in errors[:LOGGED_ROW_ERRORS])
            ctx.action_item(
                f"Fix {len(errors)} malformed row{'s' if len(errors) > 1 else ''} in the analytics export",
                detail=f"These rows were skipped, so the totals miss them. Lines {lines}"
                       f"{' and more' if len(errors) > LOGGED_ROW_ERRORS else ''}; the run log says what is wrong "
                       f"with each.", priority="medium")
        days = sorted({row.day for row in parsed.rows})
        outcome = {"rows": len(parsed.rows), "invalid_rows": len(errors), "days": len(days),
                   "first_day": days[0].isoformat(), "last_day": days[-1].isoformat()}
        ctx.item_done(source.url, outcome)
        ctx.log("info", f"{len(parsed.rows):,} valid rows over {len(days)} days; {len(errors):,} malformed rows")
        return outcome

    async def _emit(self, ctx: Context, analysis: dict[str, Any]) -> dict[str, Any]:
        ctx.report(report.title(analysis), report.summary(analysis), report.sections(analysis))
        scores = report.scores(analysis)
        for name, value, explanation, unit in scores:
            ctx.score(name, value, explanation=explanation, unit=unit)
        items = report.action_items(analysis)
        for title, detail, priority in items:
            ctx.action_item(title, detail=detail, priority=priority)
        ctx.extract("weekly_totals", report.weekly_totals(analysis))
        await ctx.artifact("daily-totals.csv", report.daily_csv(analysis), content_type="text/csv",
                           description="Visits, orders, revenue (cents) and conversion per day")
        return {"anomalies": len(analysis["anomalies"]), "shifts": len(analysis["shifts"]),
                "scores": {name: value for name, value, _, _ in scores}, "action_items": len(items)}
