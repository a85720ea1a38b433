"""link-checker: crawls a site (robots.txt respected) and checks every link on its pages, internal and
external, with status and latency. Broken links become action items naming the pages that hold them;
pages that fail to load are failed items."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from agentledger.agents import crawl as crawler
from agentledger.agents.crawl import Page
from agentledger.agents.registry import register
from agentledger.agents.sdk import Context
from agentledger.agents.seo_checks import path_of
from agentledger.agents.site_agent import SiteAgent, SiteInputs, crawl_site

MAX_EXTERNAL = 2000


@dataclass(slots=True)
class LinkStatus:
    url: str
    internal: bool
    status: int | None
    ms: int
    problem: str | None
    redirected_to: str | None
    sources: list[str]

    @property
    def verdict(self) -> str:
        if self.problem:
            return "broken"
        return "redirect" if self.redirected_to else "ok"


def _status(page: Page, internal: bool, sources: set[str]) -> LinkStatus:
    final = page.final_url if page.redirects and page.final_url != page.url else None
    return LinkStatus(page.url, internal, page.status, page.ms, page.problem, final, sorted(sources))


async def check_external(urls: dict[str, set[str]], timeout: float, concurrency: int) -> list[LinkStatus]:
    limit = asyncio.Semaphore(concurrency)
    async with crawler.client(timeout) as http:

        async def one(url: str) -> LinkStatus:
            async with limit:
                page, _ = await crawler.fetch(http, url, read_body=False)
            return _status(page, False, urls[url])

        return list(await asyncio.gather(*(one(url) for url in urls)))


@register
class LinkChecker(SiteAgent):
    name = "link-checker"
    title = "Link checker"
    description = "Crawls a site and checks every link on its pages, internal and external, with status and " \
                  "latency; scope = pages."
    base_cost = 2

    async def run(self, ctx: Context, inputs: SiteInputs) -> None:
        crawl = await crawl_site(ctx, inputs)
        fetched = {p.url: p for p in crawl.pages}
        external = {u: s for u, s in crawl.linked_from.items() if u not in fetched and u not in crawl.disallowed
                    and u not in crawl.not_visited}
        if ctx.mode == "test":
            ctx.log("info", f"test mode: would check {len(external)} external links; nothing was checked")
            return
        async with ctx.step("check links", input={"external": len(external)}) as step:
            if len(external) > MAX_EXTERNAL:
                ctx.log("warning", f"{len(external)} external links; checking the first {MAX_EXTERNAL}")
                external = dict(list(external.items())[:MAX_EXTERNAL])
            links = [_status(p, True, crawl.linked_from.get(url, set())) for url, p in fetched.items()
                     if url in crawl.linked_from]
            links += await check_external(external, inputs.timeout_seconds, inputs.concurrency * 2)
            for link in links:
                ctx.log("warning" if link.problem else "info",
                        f"{link.url} → {link.problem or link.status} in {link.ms} ms")
            step.output = {"links": len(links), "broken": sum(link.verdict == "broken" for link in links)}
        async with ctx.step("report"):
            self._emit(ctx, links, crawl)

    @staticmethod
    def _emit(ctx: Context, links: list[LinkStatus], crawl: crawler.Crawl) -> None:
        broken = [link for link in links if link.verdict == "broken"]
        redirects = [link for link in links if link.verdict == "redirect"]
        for link in broken:
            check = ("redirect_loop" if "redirect loop" in (link.problem or "") else
                     "broken_internal_link" if link.internal else "broken_external_link")
            ctx.action_item(f"Fix the link to {link.url if not link.internal else path_of(link.url)}",
                            detail=f"{link.problem}. Linked from: {', '.join(path_of(s) for s in link.sources)}.",
                            priority="high" if link.internal else "medium", check=check, target=link.url)
        for link in redirects:
            ctx.action_item(f"Link straight to {link.redirected_to}",
                            detail=f"{link.url} redirects. Linked from: {', '.join(path_of(s) for s in link.sources)}.",
                            priority="low", check="redirect", target=link.url)
        healthy = len(links) - len(broken)
        ctx.score("Link health", round(100 * healthy / len(links)) if links else 100, explanation=(
            f"{healthy} of {len(links)} links work ({len(redirects)} of them through a redirect); "
            f"{len(broken)} are broken. 100 means every link works."))
        rows = [[link.url, "internal" if link.internal else "external", link.status or "", link.ms,
                 link.problem or (f"→ {link.redirected_to}" if link.redirected_to else "ok"), len(link.sources)]
                for link in sorted(links, key=lambda x: (x.verdict == "ok", x.url))]
        slowest = sorted((link for link in links if not link.problem), key=lambda x: -x.ms)[:10]
        ctx.report(f"Links of {crawl.start_url}",
                   f"{len(links)} links checked on {len(crawl.pages)} pages: {len(broken)} broken, "
                   f"{len(redirects)} redirected.",
                   [{"title": "Broken and redirected links",
                     "tables": [{"columns": ["link", "kind", "status", "ms", "result", "pages"],
                                 "rows": [r for r in rows if r[4] != "ok"]}]},
                    {"title": "Slowest links",
                     "charts": [{"type": "bar", "title": "Slowest links (ms)",
                                 "x_labels": [path_of(link.url) or link.url for link in slowest],
                                 "series": [{"name": "ms", "values": [link.ms for link in slowest]}]}] if slowest
                     else []},
                    {"title": "Every link", "tables": [{"columns": ["link", "kind", "status", "ms", "result",
                                                                    "pages"], "rows": rows}]},
                    {"title": "Not checked", "text": "Links robots.txt asks crawlers to leave alone.",
                     "tables": [{"columns": ["link"], "rows": [[u] for u in crawl.disallowed]}]}])
        ctx.extract("links", [{"url": link.url, "internal": link.internal, "status": link.status, "ms": link.ms,
                               "problem": link.problem, "redirected_to": link.redirected_to,
                               "sources": link.sources} for link in links])
