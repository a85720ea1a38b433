"""The agent SDK: what an agent declares (name, inputs, cost, time limit) and what it may do while it runs.

An agent is a class::

    @register
    class Hello(Agent[HelloInputs]):
        name, title, version = "hello", "Say hello", "v1"
        description = "Greets every name it is given."
        inputs = HelloInputs            # a msgspec Struct: validated before anything is reserved
        base_cost, per_item_cost = 1, 1  # whole credits: estimate = base + per_item * scope

        def scope_of(self, inputs):     # optional: the scope follows from the inputs
            return len(inputs.names)

        async def run(self, ctx, inputs):
            async with ctx.step("greet", input=inputs.names) as step:
                if not step.reused:
                    for name in inputs.names:
                        ctx.item_done(name)
                    step.output = {"greeted": len(inputs.names)}

``ctx.step`` records each step (status, timing, input, output, error); a step of a resumed run that
already succeeded in the run it resumes is ``reused`` and carries its recorded ``output``. A step that
handles many items asks ``ctx.already_processed(key)`` first: a paused run that resumes, a resume where a
cancel stopped it, and a retry of the failed items skip what was processed before.

A cancel takes effect within a second: the SDK raises ``Canceled`` at the next step, item, progress or
log call, and the worker cancels whatever the agent awaits. A pause takes effect at the next of those
calls (a safe point): the attempt ends and the worker is free until someone resumes the run.

Results (``ctx.recommend``, ``ctx.report``, ``ctx.score``, ``ctx.content``, ``ctx.action_item``,
``ctx.extract``, ``ctx.artifact``) are records people act on; ``await ctx.await_review(...)`` waits for a
person without holding a worker and answers their decision.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Protocol, TypeVar

import msgspec

from agentledger.billing import pricing

I = TypeVar("I", bound=msgspec.Struct)


class AgentError(Exception):
    """A failure whose message is meant for the person who started the run (shown as it is, without the
    Python class name): the run fails and its credits are refunded."""


class Canceled(BaseException):
    """Raised at the agent's next step, item, progress or log call when someone canceled the run; an await
    the agent is blocked in is interrupted as well (its task is cancelled)."""


class Paused(BaseException):
    """Raised at the agent's next safe point (a step, item, progress or log call) after someone paused the
    run: this attempt lets go of its worker, and a resume continues from the recorded steps and items."""


class Superseded(BaseException):
    """Raised at a step boundary when the reaper gave the run to another worker (this one went silent)."""


class AwaitingReview(BaseException):
    """Raised by ``ctx.await_review`` the first time: the run waits for a person and this attempt ends.
    Like ``Canceled`` and ``Superseded`` it is a BaseException, so an agent's ``except Exception`` cannot
    swallow it and carry on past the review."""


@dataclass(frozen=True, slots=True)
class Review:
    approved: bool
    comment: str | None
    decided_by: str | None  # the person's name, for logs and step outputs
    decided_by_id: Any = None  # their user id, to act in their name (e.g. apply what they approved)


@dataclass(frozen=True, slots=True)
class Preview:
    """What an agent can tell before it runs: the scope its inputs come to now, and why, in words."""

    scope: int
    summary: str


class StepHandle(Protocol):
    name: str
    reused: bool
    output: Any
    retries: int


class Context(Protocol):
    """What a running agent can do. The runner provides the implementation."""

    execution_id: Any
    workspace_id: Any
    started_by: Any  # who started the run (None for a run nobody started by hand)
    mode: str  # "live" or "test": in test mode an agent takes its dry path (no side effects)
    scope: int

    def step(self, name: str, *, input: Any = None) -> AbstractAsyncContextManager[StepHandle]: ...
    def log(self, level: str, message: str) -> None: ...
    def progress(self, done: int, total: int) -> None: ...
    def item_done(self, key: str, detail: Any = None) -> None: ...
    def item_failed(self, key: str, reason: str, detail: Any = None) -> None: ...
    def already_processed(self, key: str) -> bool: ...
    async def checkpoint(self) -> None: ...
    async def await_review(self, title: str, *, summary: str | None = None) -> Review: ...
    async def skip(self, name: str, reason: str) -> None: ...
    def recommend(self, target: str, field: str, *, before: Any, after: Any, reason: str,
                  priority: str = "medium") -> Any: ...
    def report(self, title: str, summary: str, sections: list[dict[str, Any]]) -> Any: ...
    def score(self, name: str, value: float, *, explanation: str, scale: int = 100,
              unit: str | None = None) -> Any: ...
    def content(self, target: str, field: str, text: str, *, title: str | None = None) -> Any: ...
    def action_item(self, title: str, *, detail: str = "", priority: str = "medium") -> Any: ...
    def extract(self, name: str, data: Any) -> Any: ...
    async def artifact(self, name: str, data: bytes, *, content_type: str, description: str = "") -> Any: ...


class Agent(ABC, Generic[I]):
    name: ClassVar[str]
    title: ClassVar[str]
    description: ClassVar[str]
    version: ClassVar[str]
    inputs: ClassVar[type[msgspec.Struct]]
    base_cost: ClassVar[int] = 0
    per_item_cost: ClassVar[int] = 1
    time_limit_seconds: ClassVar[int] = 600
    max_scope: ClassVar[int] = 100_000
    default_scope: ClassVar[int] = 1  # when the caller names no scope (e.g. pages a crawler visits)

    def scope_of(self, inputs: I) -> int | None:
        """The scope implied by the inputs (e.g. the number of URLs), or None to take the caller's."""
        return None

    def suggested_inputs(self, site: str | None) -> dict[str, Any]:
        """Inputs the run form starts with for the workspace's connected site (its base URL), if any."""
        return {}

    async def preview(self, inputs: I) -> Preview | None:
        """Optional: the scope the inputs come to now (e.g. the products a catalog has that need copy),
        for the run form to offer before anything is reserved. Runs never depend on it."""
        return None

    def estimate(self, scope: int) -> int:
        """What a live run of ``scope`` items reserves (billing's one price formula)."""
        return pricing.price(self.base_cost, self.per_item_cost, scope)

    @abstractmethod
    async def run(self, ctx: Context, inputs: I) -> None: ...
