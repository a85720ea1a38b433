"""seo-audit: crawls a site and checks titles, meta descriptions, headings, alt text, canonical tags,
status codes, speed and page weight. Emits recommendations (changes the connector can apply), action
items (work for a person), a 0-100 score and a report. Pages that fail to load are failed items."""

from __future__ import annotations

import csv
import io
from collections import Counter

from agentledger.agents import crawl as crawler
from agentledger.agents.registry import register
from agentledger.agents.sdk import Context
from agentledger.agents.seo_checks import Audit, audit, path_of
from agentledger.agents.site_agent import SiteAgent, SiteInputs, crawl_site


def _report_sections(result: Audit, crawl: crawler.Crawl) -> list[dict]:
    counts = [(check.replace("_", " "), n) for check, n in result.by_check().most_common()]  # words, not ids
    pages = [p for p in crawl.pages if p.is_html or p.problem]
    issues_per_page = Counter(f.url for f in result.findings)
    return [
        {"title": "Issues by type",
         "text": f"{len(result.findings)} findings on {len(pages)} pages.",
         "charts": [{"type": "bar", "title": "Findings by check", "x_labels": [c for c, _ in counts],
                     "series": [{"name": "findings", "values": [n for _, n in counts]}]}],
         "tables": [{"columns": ["check", "findings"], "rows": [[c, n] for c, n in counts]},
                    {"title": "How the score is counted", "columns": ["finding", "count", "points each", "points off"],
                     "rows": [[d.name, d.count, round(d.each, 2), round(d.points, 1)] for d in result.deductions()]}]},
        {"title": "Pages",
         "tables": [{"columns": ["page", "status", "time (ms)", "size (KB)", "title", "issues"],
                     "rows": [[path_of(p.url), p.status or p.problem, p.ms, round(p.bytes / 1024), p.title or "",
                               issues_per_page.get(p.url, 0)] for p in pages]}]},
        {"title": "Not crawled",
         "text": "Pages robots.txt asks crawlers to leave alone, and pages beyond the scope.",
         "tables": [{"columns": ["page", "why"],
                     "rows": [[path_of(u), "disallowed by robots.txt"] for u in crawl.disallowed]
                     + [[path_of(u), "beyond the scope"] for u in crawl.not_visited]}]},
    ]


def pages_csv(crawl: crawler.Crawl) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["url", "status", "ms", "bytes", "title", "meta_description", "h1", "error"])
    for p in crawl.pages:
        writer.writerow([p.url, p.status or "", p.ms, p.bytes, p.title or "", p.meta_description or "",
                         " | ".join(p.h1), p.problem or ""])
    return out.getvalue().encode()


@register
class SeoAudit(SiteAgent):
    name = "seo-audit"
    title = "SEO audit"
    description = ("Crawls a site (robots.txt respected) and checks titles, meta descriptions, headings, alt text, "
                   "canonical tags, status codes, speed and page weight; scope = pages.")
    base_cost = 5

    async def run(self, ctx: Context, inputs: SiteInputs) -> None:
        crawl = await crawl_site(ctx, inputs)
        if ctx.mode == "test":
            ctx.log("info", "test mode: crawled the start page only; no findings were recorded")
            return
        async with ctx.step("check") as step:
            result = audit(crawl)
            step.output = {"findings": len(result.findings), "score": result.score}
        async with ctx.step("report"):
            self._emit(ctx, result, crawl)
            await ctx.artifact("pages.csv", pages_csv(crawl), content_type="text/csv",
                               description="Every page crawled, with status, timing, size, title and description")

    @staticmethod
    def _emit(ctx: Context, result: Audit, crawl: crawler.Crawl) -> None:
        for f in result.findings:
            if f.field:
                ctx.recommend(f.url, f.field, before=f.before, after=f.after, reason=f"{f.title}. {f.detail}",
                              priority=f.priority, check=f.check)
            else:
                ctx.action_item(f.title, detail=f.detail, priority=f.priority, check=f.check, target=f.url)
        loaded = sum(1 for p in crawl.pages if p.ok and p.is_html)
        failed = sum(1 for p in crawl.pages if p.problem)
        ctx.score("SEO score", result.score, explanation=result.explanation())
        ctx.report(f"SEO audit of {crawl.start_url}",
                   f"Score {result.score}/100. {len(result.findings)} findings on {loaded + failed} pages: "
                   + ", ".join(f"{n} {c.replace('_', ' ')}" for c, n in result.by_check().most_common()) + ".",
                   _report_sections(result, crawl))
        ctx.extract("pages", [{"url": p.url, "status": p.status, "ms": p.ms, "bytes": p.bytes, "title": p.title,
                               "meta_description": p.meta_description, "h1": p.h1, "error": p.problem}
                              for p in crawl.pages])
