"""Test agents that produce every kind of result, and one with a review step (imported by the tests
that use them; importing registers them)."""

from __future__ import annotations

import msgspec

from agentledger.agents.registry import register
from agentledger.agents.sdk import Agent


class ResultsInputs(msgspec.Struct):
    site: str = "http://127.0.0.1:9"
    fail_after_results: bool = False


@register
class Reporter(Agent[ResultsInputs]):
    name, title, version = "test-results", "Every result kind", "t1"
    description = "Test agent: one result of each kind."
    inputs = ResultsInputs
    base_cost, per_item_cost = 1, 1

    async def run(self, ctx, inputs: ResultsInputs) -> None:
        async with ctx.step("find") as step:
            if step.reused:
                return
            ctx.recommend(f"{inputs.site}/about", "title", before=None, after="About Northwind Outfitters",
                          reason="The page has no title.", priority="high")
            ctx.recommend(f"{inputs.site}/contact", "meta_description", before="", after="Write to us.",
                          reason="Missing meta description.", priority="low")
            ctx.report("Site report", "Two problems.", [{
                "title": "Pages", "tables": [{"columns": ["page", "status"], "rows": [["/", 200]]}],
                "charts": [{"type": "bar", "title": "Status", "x_labels": ["200"],
                            "series": [{"name": "pages", "values": [1]}]}]}])
            ctx.score("SEO score", 72, explanation="72 of 100 checks pass.")
            ctx.content(f"{inputs.site}/products/p", "description", "A sturdy pack.", title="Pack")
            ctx.action_item("Fix the broken link on /about", detail="It points to /gone.", priority="medium")
            ctx.extract("pages", {"count": 1})
            await ctx.artifact("pages.csv", b"page,status\n/,200\n", content_type="text/csv",
                               description="Pages crawled")
            ctx.item_done("site")
            if inputs.fail_after_results:
                raise RuntimeError("broke after finding things")


@register
class Reviewed(Agent[ResultsInputs]):
    name, title, version = "test-review", "Review step", "t1"
    description = "Test agent: writes, waits for a review, then publishes unless rejected."
    inputs = ResultsInputs
    base_cost, per_item_cost = 1, 1

    async def run(self, ctx, inputs: ResultsInputs) -> None:
        async with ctx.step("write") as step:
            if not step.reused:
                ctx.content(f"{inputs.site}/products/p", "description", "Fresh copy.", title="Pack")
                ctx.item_done("p")
                step.output = {"written": 1}
        review = await ctx.await_review("Check the copy", summary="1 description")
        if not review.approved:
            await ctx.skip("publish", "the review rejected the copy")
            return
        async with ctx.step("publish") as step:
            step.output = {"comment": review.comment, "by": review.decided_by}


@register
class Looper(Agent[ResultsInputs]):
    name, title, version = "test-loop", "Loop", "t1"
    description = "Test agent: the same step three times, a large output, and a failing step at the end."
    inputs = ResultsInputs
    base_cost, per_item_cost = 1, 1

    async def run(self, ctx, inputs: ResultsInputs) -> None:
        for n in range(3):
            async with ctx.step("fetch page", input={"page": n}) as step:
                ctx.item_done(f"page {n}")
                step.output = {"status": 200, "bytes": 1000 + n}
        async with ctx.step("collect", input={"pages": 3}) as step:
            step.output = [{"url": f"https://shop.example/p/{i}", "title": f"Product {i}" * 3} for i in range(100)]
        ctx.log("warning", "one page was slow")
        ctx.log("error", "the last step will fail")
        async with ctx.step("publish"):
            raise RuntimeError("the site refused the upload")


PIXEL = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                      "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201e2c2d6d30000000049454e44ae426082")


@register
class Photographer(Agent[ResultsInputs]):
    name, title, version = "test-screenshot", "Screenshot", "t1"
    description = "Test agent: one screenshot and one page source."
    inputs = ResultsInputs

    async def run(self, ctx, inputs: ResultsInputs) -> None:
        async with ctx.step("shoot"):
            await ctx.artifact("home.png", PIXEL, content_type="image/png", description="The home page")
            await ctx.artifact("home.html", b"<script>alert(1)</script>", content_type="text/html",
                               description="Its source")
            ctx.item_done("home")


@register
class Sneaky(Agent[ResultsInputs]):
    name, title, version = "test-sneaky-review", "Swallows errors", "t1"
    description = "Test agent: wraps its review in `except Exception`, as careless agent code might."
    inputs = ResultsInputs

    async def run(self, ctx, inputs: ResultsInputs) -> None:
        try:
            await ctx.await_review("Check", summary="")
        except Exception:  # noqa: BLE001 - the point of this agent
            pass
        async with ctx.step("publish"):
            ctx.item_done("published without a review")
