"""What the site agents (seo-audit, link-checker) share: their inputs and the crawl step, in which
every page that loads is a processed item and every page that fails is a failed item with its reason."""

from __future__ import annotations

from typing import Annotated

import msgspec

from agentledger.agents import crawl as crawler
from agentledger.agents.crawl import Crawl, Page
from agentledger.agents.sdk import Agent, Context
from agentledger.agents.seo_checks import path_of
from agentledger.platform.validation import check_url


class SiteInputs(msgspec.Struct, forbid_unknown_fields=True):
    start_url: Annotated[str, msgspec.Meta(min_length=8, max_length=2048, title="Start URL", description=(
        "The page the crawl starts from; it follows links on the same site, up to the scope in pages."))]
    concurrency: Annotated[int, msgspec.Meta(ge=1, le=8, title="Pages at once", description=(
        "How many pages are fetched at the same time; lower it for a fragile site."))] = 4
    timeout_seconds: Annotated[float, msgspec.Meta(gt=0, le=60, title="Timeout per page (seconds)", description=(
        "A page that takes longer fails, with the reason."))] = 10.0

    def __post_init__(self) -> None:
        check_url(self.start_url)


def page_item(ctx: Context, page: Page) -> None:
    """Every page that loaded is a processed item; one that did not is a failed item with the reason."""
    detail = {"status": page.status, "ms": page.ms, "bytes": page.bytes}
    if page.problem:
        ctx.item_failed(page.url, page.problem, detail)
    elif page.is_html:
        ctx.item_done(page.url, detail)


class SiteAgent(Agent[SiteInputs]):
    """An agent that crawls a site: its inputs, and a scope counted in pages."""

    inputs = SiteInputs
    version = "v1"
    per_item_cost = 1
    default_scope = 50
    max_scope = 5000
    time_limit_seconds = 1800

    def suggested_inputs(self, site: str | None) -> dict:
        return {"start_url": f"{site}/"} if site else {}


async def crawl_site(ctx: Context, inputs: SiteInputs) -> Crawl:
    """The "crawl" step: up to ``ctx.scope`` pages (one in test mode), each logged and counted as it comes."""
    async with ctx.step("crawl", input={"start_url": inputs.start_url, "max_pages": ctx.scope}) as step:
        done = 0

        def seen(page: Page) -> None:
            nonlocal done
            page_item(ctx, page)
            done += 1
            ctx.progress(done, ctx.scope)
            ctx.log("info" if page.ok else "warning",
                    f"{path_of(page.url)} → {page.problem or page.status} in {page.ms} ms")

        crawl = await crawler.crawl(inputs.start_url, max_pages=ctx.scope if ctx.mode == "live" else 1,
                                    concurrency=inputs.concurrency, timeout=inputs.timeout_seconds, on_page=seen)
        crawl.require_start_page()
        step.output = {"pages": len(crawl.pages), "disallowed": len(crawl.disallowed),
                       "not_visited": len(crawl.not_visited)}
    return crawl
