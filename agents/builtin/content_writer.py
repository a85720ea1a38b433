"""content-writer: writes a product description and a meta description for each catalog product in scope,
asks a person to review the copy, and publishes what they approved through the workspace's connector.

Everything before the review is inside steps whose outputs carry what later steps need, because the
attempt that resumes after the decision runs ``run`` from the top with those steps reused. Publishing
reads the run's approved content from the results table rather than from the step output: people may
have edited or rejected single results while the run waited, and the published text is their last
revision. A product with unusable facts, or whose copy the writer could not produce, is a failed item
with the reason; a catalog that cannot be read, or a run that wrote nothing, fails (refunded).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Annotated, Any
from uuid import UUID

import msgspec

from agentledger.agents import net
from agentledger.agents.registry import register
from agentledger.agents.sdk import Agent, AgentError, Context, Preview
from agentledger.agents.writing import Copy, ProductFacts, Tone, WriteError, Writer, word_count, writer_from_settings
from agentledger.platform.pagination import MAX_LIMIT, PageRequest
from agentledger.platform.results import repository as results
from agentledger.platform.results import service as results_service
from agentledger.platform.scoping import Scope, scope_for
from agentledger.platform.validation import check_url

THIN_WORDS = 20  # only_thin: descriptions shorter than this are thin (a sentence or two)
MAX_FEED_BYTES = 10 * 1024 * 1024
CONCURRENCY = 4  # products written at once (matters for the language model; templates are instant)
FIELDS = ("description", "meta_description")
ProductId = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class ContentWriterInputs(msgspec.Struct, forbid_unknown_fields=True):
    catalog_url: Annotated[str, msgspec.Meta(min_length=8, max_length=2048, title="Catalog feed URL", description=(
        'The shop\'s product feed as JSON: {"products": [{"id", "name", "url", "description", ...}]}.'))]
    product_ids: Annotated[list[ProductId], msgspec.Meta(min_length=1, max_length=1000, title="Only these products",
                                                         description="Product ids, one per line; empty: any.")
                           ] | None = None
    only_thin: Annotated[bool, msgspec.Meta(title="Only products that need copy", description=(
        f"Skip products whose description already has {THIN_WORDS} words or more (products named above are "
        "always written)."))] = True
    tone: Annotated[Tone, msgspec.Meta(title="Tone", description="How the copy sounds.")] = "friendly"

    def __post_init__(self) -> None:
        check_url(self.catalog_url)


class _Feed(msgspec.Struct):
    products: list[Any]


@register
class ContentWriter(Agent[ContentWriterInputs]):
    name = "content-writer"
    title = "Content writer"
    description = ("Writes a product description and a meta description for each catalog product in scope; "
                   "after a person approves the copy, publishes it through the workspace's connector.")
    version = "v1"
    inputs = ContentWriterInputs
    base_cost = 2
    per_item_cost = 3
    time_limit_seconds = 1800
    max_scope = 500

    def suggested_inputs(self, site: str | None) -> dict:
        return {"catalog_url": f"{site}/feeds/catalog.json"} if site else {}

    async def preview(self, inputs: ContentWriterInputs) -> Preview | None:
        """How many products the run would write, read from the catalog now (the form's scope)."""
        try:
            text = await net.fetch_text(inputs.catalog_url, max_bytes=MAX_FEED_BYTES, timeout=10, accept=("json",))
            feed = msgspec.json.decode(text, type=_Feed)
        except (net.FetchError, msgspec.DecodeError):
            return None  # the run itself will say what is wrong with the catalog
        keys = dict.fromkeys(key for key, _ in _in_scope(feed.products, inputs))
        what = "need copy" if inputs.only_thin else "are chosen"
        return Preview(min(len(keys), self.max_scope), f"{len(keys)} of the {len(feed.products)} products {what}")

    async def run(self, ctx: Context, inputs: ContentWriterInputs) -> None:
        async with ctx.step("fetch catalog", input={"url": inputs.catalog_url, "product_ids": inputs.product_ids,
                                                    "only_thin": inputs.only_thin, "scope": ctx.scope}) as step:
            if step.reused:
                _report_failures(ctx, step.output["failed"])  # a resumed run counts its items again
            else:
                step.output = await _select(ctx, inputs)
            products = step.output["products"]
        async with ctx.step("write", input={"products": [p["id"] for p in products], "tone": inputs.tone}) as step:
            if step.reused:
                _report_written(ctx, step.output)
            else:
                step.output = await _write(ctx, products, inputs.tone, writer_from_settings())
            written = step.output["written"]
        review = await ctx.await_review("Review the generated copy", summary=_summary(written))
        if not review.approved:
            await ctx.skip("publish", "the review rejected the copy")
            return
        if ctx.mode == "test":
            await ctx.skip("publish", "test mode: nothing is published")
            return
        async with ctx.step("publish") as step:
            if not step.reused:
                step.output = await _publish(ctx, expected=len(written) * len(FIELDS))


# --- fetch catalog -------------------------------------------------------------------------------------
async def _select(ctx: Context, inputs: ContentWriterInputs) -> dict[str, Any]:
    """The products in scope (filters, then the first ``ctx.scope``), checked; failures become items."""
    try:
        text = await net.fetch_text(inputs.catalog_url, max_bytes=MAX_FEED_BYTES, timeout=30, accept=("json",))
        feed = msgspec.json.decode(text, type=_Feed)
    except net.FetchError as error:
        raise AgentError(f"the catalog could not be read: {error}") from None
    except msgspec.DecodeError as error:  # malformed JSON, or no "products" list
        raise AgentError(f"the catalog at {inputs.catalog_url} is not a product feed "
                         f'({{"products": [...]}}): {error}') from None
    entries = _in_scope(feed.products, inputs)
    failed: list[dict[str, str]] = []
    if inputs.product_ids is not None:
        known = {_key(entry, n) for n, entry in enumerate(feed.products, 1)}
        failed += [{"id": pid, "reason": "not in the catalog"} for pid in dict.fromkeys(inputs.product_ids)
                   if pid not in known]
    chosen, seen = [], set()
    for key, entry in entries:
        if key in seen:
            ctx.log("warning", f"product {key} appears twice in the catalog; the second entry is ignored")
            continue
        if len(seen) >= ctx.scope:
            break
        seen.add(key)
        try:
            product = msgspec.convert(entry, ProductFacts)
            check_url(product.url)
        except (msgspec.ValidationError, ValueError) as error:
            failed.append({"id": key, "reason": f"unusable catalog entry: {error}"})
            continue
        chosen.append(msgspec.to_builtins(product))
    _report_failures(ctx, failed)
    if not chosen:
        why = (f"; {failed[0]['id']}: {failed[0]['reason']}" if failed else
               f" (product_ids={inputs.product_ids}, only_thin={inputs.only_thin})")
        raise AgentError(f"no product of the {len(feed.products)} in the catalog can be written{why}")
    ctx.log("info", f"{len(feed.products)} products in the catalog; {len(chosen)} to write"
                    + (f", {len(failed)} failed" if failed else ""))
    ctx.progress(0, len(chosen))
    return {"products": chosen, "failed": failed, "catalog_products": len(feed.products)}


def _in_scope(products: list[Any], inputs: ContentWriterInputs) -> list[tuple[str, Any]]:
    """The feed's entries the inputs ask for (product ids, thin ones only), keyed, in catalog order."""
    entries = [(_key(entry, n), entry) for n, entry in enumerate(products, 1)]
    if inputs.product_ids is not None:  # named products are written whatever their description
        wanted = set(inputs.product_ids)
        return [(key, entry) for key, entry in entries if key in wanted]
    if inputs.only_thin:
        entries = [(key, entry) for key, entry in entries if _is_thin(entry)]
    return entries


def _key(entry: Any, n: int) -> str:
    """The item key of a feed entry: its id, or its position when it has none."""
    if isinstance(entry, dict) and isinstance(entry.get("id"), str) and entry["id"].strip():
        return entry["id"][:200]
    return f"entry {n}"


def _is_thin(entry: Any) -> bool:
    description = entry.get("description") if isinstance(entry, dict) else None
    return word_count(description if isinstance(description, str) else "") < THIN_WORDS


def _report_failures(ctx: Context, failed: list[dict[str, str]]) -> None:
    for failure in failed:
        ctx.item_failed(failure["id"], failure["reason"])


# --- write -----------------------------------------------------------------------------------------------
async def _write(ctx: Context, products: list[dict[str, Any]], tone: Tone, writer: Writer) -> dict[str, Any]:
    """Copy for each product, emitted as content results in catalog order; a writer failure is that
    product's failed item."""
    facts = [msgspec.convert(p, ProductFacts) for p in products]
    written: list[dict[str, Any]] = []
    failed: list[dict[str, str]] = []
    for start in range(0, len(facts), CONCURRENCY):
        await ctx.checkpoint()
        batch = facts[start:start + CONCURRENCY]
        copies = await asyncio.gather(*(_attempt(writer, product, tone) for product in batch))
        for product, copy in zip(batch, copies, strict=True):
            if isinstance(copy, WriteError):
                failed.append({"id": product.id, "reason": str(copy)})
                ctx.item_failed(product.id, str(copy))
                ctx.log("warning", f"{product.name} ({product.id}): no copy: {copy}")
                continue
            ids = {field: str(ctx.content(product.url, field, getattr(copy, field), title=product.name))
                   for field in FIELDS}
            detail = {"name": product.name, "url": product.url, "words": word_count(copy.description),
                      "meta_characters": len(copy.meta_description)}
            written.append({"id": product.id, **detail, "results": ids})
            ctx.item_done(product.id, detail)
        ctx.progress(start + len(batch), len(facts))
    ctx.log("info", f"wrote copy for {len(written)} of {len(facts)} products with {writer.label}")
    if not written:  # nothing to review: fail (refunded) and say why; the items keep each product's reason
        first = f"; the first reason: {failed[0]['reason']}" if failed else ""
        raise AgentError(f"no copy was written for any of the {len(facts)} products in scope{first}")
    return {"written": written, "failed": failed, "writer": writer.label}


async def _attempt(writer: Writer, product: ProductFacts, tone: Tone) -> Copy | WriteError:
    try:
        return await writer.write(product, tone)
    except WriteError as error:
        return error


def _report_written(ctx: Context, output: dict[str, Any]) -> None:
    for entry in output["written"]:
        ctx.item_done(entry["id"], {k: entry[k] for k in ("name", "url", "words", "meta_characters")})
    _report_failures(ctx, output["failed"])


def _summary(written: list[dict[str, Any]]) -> str:
    names = [w["name"] for w in written]
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    noun = "description" if len(names) == 1 else "descriptions"
    return f"{len(names)} {noun} for {shown}, each with a meta description"


# --- publish ---------------------------------------------------------------------------------------------
async def _publish(ctx: Context, expected: int) -> dict[str, int]:
    """Apply the run's approved content (and what failed or was applied in an interrupted attempt: apply
    retries the one and skips the other); each person's approvals are applied in their name."""
    reader = Scope(ctx.workspace_id, "", "", ctx.started_by, "admin")
    rows = sorted([row for status in ("approved", "apply_failed", "applied")  # applied: answers already_applied
                   for row in await _content(reader, ctx.execution_id, status)], key=lambda row: row["seq"])
    by_person: dict[UUID, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_person[row["decided_by"] or ctx.started_by].append(row)
    counts = {"applied": 0, "failed": 0, "not_approved": max(0, expected - len(rows))}
    if counts["not_approved"]:
        ctx.log("info", f"{counts['not_approved']} texts were not approved and are not published")
    for person, approved in by_person.items():
        scope = await scope_for(ctx.workspace_id, person)  # their rights today, not a made-up admin's
        if scope is None:
            counts["failed"] += len(approved)
            ctx.log("warning", f"{len(approved)} approved texts were not published: the person who approved "
                               "them is no longer an active member of the workspace")
            continue
        by_id = {row["id"]: row for row in approved}
        ids = list(by_id)
        for start in range(0, len(ids), results_service.MAX_BATCH):
            for outcome in await results_service.apply(scope, ctx.execution_id,
                                                       ids[start:start + results_service.MAX_BATCH]):
                row = by_id[outcome.id]
                what = f"{row['field']} of {row['target']}"
                if outcome.outcome in ("applied", "already_applied"):
                    counts["applied"] += 1
                    ctx.log("info", f"published the {what}" + (" (already)" if outcome.outcome != "applied" else ""))
                else:
                    counts["failed"] += 1
                    ctx.log("warning", f"could not publish the {what}: {outcome.reason or outcome.outcome}")
    return counts


async def _content(scope: Scope, execution_id: UUID, status: str) -> list[dict[str, Any]]:
    rows, cursor = [], None
    while True:
        page, cursor = await results.page(scope, execution_id, PageRequest(cursor, MAX_LIMIT), kind="content",
                                          status=status)
        rows += page
        if cursor is None:
            return rows
