"""noop: does nothing, quickly, for ``scope`` items at once. For benchmarks and smoke tests."""

from __future__ import annotations

import msgspec

from agentledger.agents.registry import register
from agentledger.agents.sdk import Agent, Context


class NoopInputs(msgspec.Struct, forbid_unknown_fields=True):
    pass


@register
class Noop(Agent[NoopInputs]):
    name = "noop"
    title = "No-op"
    description = "Processes every item in scope at once without doing anything. Costs 1 credit per item."
    version = "v1"
    inputs = NoopInputs
    base_cost = 0
    per_item_cost = 1
    time_limit_seconds = 60

    async def run(self, ctx: Context, inputs: NoopInputs) -> None:
        async with ctx.step("process") as step:
            if not step.reused:
                for n in range(ctx.scope):
                    ctx.item_done(str(n + 1))
                step.output = {"items": ctx.scope}
        ctx.progress(ctx.scope, ctx.scope)
