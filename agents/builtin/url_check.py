"""url-check: fetches each URL over HTTP (with timeouts) and reports status, time and failures per URL."""

from __future__ import annotations

import asyncio
import time
from typing import Annotated

import msgspec

from agentledger.agents import net
from agentledger.agents.registry import register
from agentledger.agents.sdk import Agent, Context
from agentledger.platform.validation import check_url

Url = Annotated[str, msgspec.Meta(min_length=8, max_length=2048)]


class UrlCheckInputs(msgspec.Struct, forbid_unknown_fields=True):
    urls: Annotated[list[Url], msgspec.Meta(min_length=1, max_length=1000, title="URLs", description=(
        "One address per line; each is fetched once and costs one credit."))]
    timeout_seconds: Annotated[float, msgspec.Meta(gt=0, le=60, title="Timeout per URL (seconds)", description=(
        "A URL that takes longer fails, with the reason."))] = 10.0

    def __post_init__(self) -> None:
        for url in self.urls:
            check_url(url)


@register
class UrlCheck(Agent[UrlCheckInputs]):
    name = "url-check"
    title = "URL check"
    description = "Fetches each URL and reports its HTTP status and response time; unreachable URLs fail."
    version = "v1"
    inputs = UrlCheckInputs
    base_cost = 1
    per_item_cost = 1
    time_limit_seconds = 300
    concurrency = 8

    def scope_of(self, inputs: UrlCheckInputs) -> int:
        return len(inputs.urls)

    def suggested_inputs(self, site: str | None) -> dict:
        return {"urls": [f"{site}/"]} if site else {}

    async def run(self, ctx: Context, inputs: UrlCheckInputs) -> None:
        urls = list(dict.fromkeys(inputs.urls))
        async with ctx.step("plan", input={"urls": len(inputs.urls)}) as step:
            step.output = {"unique_urls": len(urls)}
        if ctx.mode == "test":
            async with ctx.step("dry run") as step:
                ctx.log("info", f"test mode: would check {len(urls)} URLs; nothing was fetched")
                step.output = {"would_check": urls}
            return
        async with ctx.step("check", input={"urls": urls}) as step:
            if step.reused:
                return
            todo = [url for url in urls if not ctx.already_processed(url)]  # a resumed run or a retry skips these
            if len(todo) < len(urls):
                ctx.log("info", f"{len(urls) - len(todo)} URLs were checked before; checking the other {len(todo)}")
            results = await self._check_all(ctx, todo, inputs.timeout_seconds, total=len(urls))
            step.output = {"ok": sum(1 for r in results if r["ok"]), "failed": sum(1 for r in results if not r["ok"]),
                           "checked_before": len(urls) - len(todo)}

    async def _check_all(self, ctx: Context, urls: list[str], timeout: float, total: int) -> list[dict]:
        limit = asyncio.Semaphore(self.concurrency)
        done = total - len(urls)
        results: list[dict] = []
        async with net.client(timeout=timeout, follow_redirects=True, max_redirects=5,
                              headers={"user-agent": "agentledger-url-check/1"}) as client:

            async def check(url: str) -> None:
                nonlocal done
                async with limit:
                    started = time.perf_counter()
                    try:  # any failure is this URL's, never the run's: the others still count
                        async with client.stream("GET", url) as response:  # the status is enough: no body
                            elapsed = round((time.perf_counter() - started) * 1000)
                        result = {"url": url, "status": response.status_code, "ms": elapsed,
                                  "ok": response.status_code < 400}
                        if result["ok"]:
                            ctx.item_done(url, result)
                        else:
                            ctx.item_failed(url, f"HTTP {response.status_code}", result)
                    except Exception as error:  # noqa: BLE001 - see above
                        elapsed = round((time.perf_counter() - started) * 1000)
                        result = {"url": url, "status": None, "ms": elapsed, "ok": False}
                        ctx.item_failed(url, f"{type(error).__name__}: {error}"[:300] or type(error).__name__, result)
                    results.append(result)
                    done += 1
                    ctx.progress(done, total)
                    ctx.log("info" if result["ok"] else "warning",
                            f"{url} → {result['status'] or 'unreachable'} in {result['ms']} ms")

            async with asyncio.TaskGroup() as group:
                for url in urls:
                    group.create_task(check(url))
        return results
