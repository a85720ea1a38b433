"""Starting runs: validate inputs against the agent, price them, record the exact code version, then
hand over to the execution service (which reserves credits and queues the run)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import msgspec

from agentledger.agents.registry import get_agent, source_version
from agentledger.agents.sdk import Agent
from agentledger.billing import ledger
from agentledger.platform.connectors import service as connectors
from agentledger.platform.database import on_commit
from agentledger.platform.errors import Conflict, Invalid, NotFound
from agentledger.platform.executions import lifecycle_repository as lifecycle
from agentledger.platform.executions import repository, service, states
from agentledger.platform.scoping import Scope

MODES = ("live", "test")


@dataclass(frozen=True, slots=True)
class Request:
    agent: str
    inputs: dict[str, Any]
    scope: int | None = None
    mode: str = "live"


@dataclass(frozen=True, slots=True)
class Estimate:
    agent: str
    scope: int
    estimate: int
    available: int
    affordable: bool
    note: str | None = None  # what the scope came from, when the agent worked it out ("7 of the 24 products…")


def _validated(agent: Agent, raw: dict[str, Any]) -> msgspec.Struct:
    if "\\u0000" in json.dumps(raw):  # PostgreSQL's jsonb cannot store NUL: refuse it here, not with a 500
        raise Invalid("inputs cannot contain NUL characters", field="inputs")
    try:
        return msgspec.convert(raw, agent.inputs)
    except msgspec.ValidationError as error:
        where = re.search(r"at `\$\.?([^`]*)`", str(error))
        field = f"inputs.{where.group(1)}" if where and where.group(1) else "inputs"
        message = re.sub(r"\s*-\s*at `[^`]*`", "", str(error))
        raise Invalid(f"{field}: {message}", field=field) from None


def plan(request: Request) -> tuple[Agent, msgspec.Struct, int]:
    try:
        agent = get_agent(request.agent)
    except NotFound as missing:
        raise Invalid(missing.message, field="agent") from None
    if request.mode not in MODES:
        raise Invalid(f"mode must be 'live' or 'test', not '{request.mode}'", field="mode")
    inputs = _validated(agent, request.inputs)
    implied = agent.scope_of(inputs)
    if implied is not None and request.scope is not None and request.scope != implied:
        raise Invalid(f"scope follows from the inputs for {agent.name}: {implied}, not {request.scope}", field="scope")
    scope = implied if implied is not None else (agent.default_scope if request.scope is None else request.scope)
    if not 1 <= scope <= agent.max_scope:
        raise Invalid(f"scope must be between 1 and {agent.max_scope}", field="scope")
    return agent, inputs, scope


async def with_preview(request: Request) -> tuple[Request, str | None]:
    """The request with the scope the agent works out from its inputs now (``Agent.preview``), when the
    caller named none and the inputs do not imply one. Called before any transaction: it may fetch."""
    agent, inputs, _ = plan(request)
    if request.scope is not None or agent.scope_of(inputs) is not None:
        return request, None
    seen = await agent.preview(inputs)
    if seen is None:
        return request, None
    if seen.scope < 1:
        raise Invalid(f"nothing to do: {seen.summary}", field="scope")
    return Request(request.agent, request.inputs, seen.scope, request.mode), seen.summary


async def estimate(caller: Scope, request: Request) -> Estimate:
    """What a run would reserve, before anything is reserved."""
    request, note = await with_preview(request)
    agent, _, scope = plan(request)
    cost = agent.estimate(scope) if request.mode == "live" else 0
    available = (await ledger.balance(caller.workspace_id)).available
    return Estimate(agent.name, scope, cost, available, cost <= available, note)


async def suggested_inputs(caller: Scope, agent_name: str) -> dict[str, Any]:
    """What the run form starts with: the agent's defaults for the workspace's connected site."""
    try:
        agent = get_agent(agent_name)
    except NotFound as missing:
        raise Invalid(missing.message, field="agent") from None
    connected = await connectors.list_all(caller)
    return agent.suggested_inputs(connected[0]["base_url"].rstrip("/") if connected else None)


_version_ids: dict[tuple[str, str], UUID] = {}  # (agent, sha256) -> row id; rows are never deleted


async def version_id(agent_name: str) -> UUID:
    version = source_version(agent_name)
    known = _version_ids.get((agent_name, version.sha256))
    if known is not None:
        return known
    found = await lifecycle.agent_version_id(agent_name, version.label, version.sha256, version.source)
    # remember it only once it is committed: this transaction may still roll back (402) and take the row along
    on_commit(lambda: _version_ids.__setitem__((agent_name, version.sha256), found))
    return found


async def start(caller: Scope, request: Request, *, triggered_by: str = "user", rerun_of: UUID | None = None,
                reuse_steps: bool = False, skip_processed: bool = False, schedule: UUID | None = None,
                scope: int | None = None, trigger_token: UUID | None = None) -> dict[str, Any]:
    """``scope`` overrides what the inputs imply, for a run that takes only part of them (a retry)."""
    agent, inputs, planned = plan(request)
    scope = planned if scope is None else scope
    version = source_version(agent.name)
    return await service.create(caller, service.NewRun(
        agent=agent.name, version_id=await version_id(agent.name), version_label=version.label,
        version_sha256=version.sha256, inputs=msgspec.to_builtins(inputs),
        scope=scope, mode=request.mode, triggered_by=triggered_by, base_cost=agent.base_cost,
        per_item_cost=agent.per_item_cost, time_limit_seconds=agent.time_limit_seconds, rerun_of=rerun_of,
        reuse_steps=reuse_steps, skip_processed=skip_processed, schedule=schedule, trigger_token=trigger_token,
    ))


async def rerun(caller: Scope, execution_id: UUID, inputs: dict[str, Any] | None = None,
                scope: int | None = None, mode: str | None = None) -> dict[str, Any]:
    """The same run again (inputs, scope and mode unless overridden), linked to the original."""
    original = await repository.get(caller, execution_id, whole=True)
    request = Request(original["agent"], inputs if inputs is not None else original["inputs"],
                      scope if scope is not None else (None if inputs is not None else original["scope"]),
                      mode or original["mode"])
    return await start(caller, request, triggered_by="rerun", rerun_of=execution_id)


LABELS = {"resume_from_failed_step": "Resume from failed step", "resume_where_stopped": "Resume where it stopped",
          "retry_failed_items": "Retry failed items"}


ENDPOINT_TAKES = {"resume_from_failed_step": ("resume_from_failed_step", "resume_where_stopped"),
                  "retry_failed_items": ("retry_failed_items",)}  # the API's two actions, and what each covers


@dataclass(frozen=True, slots=True)
class Continuation:
    """How a finished run goes on, and what that would hold, before anything is reserved."""

    kind: str  # one of LABELS
    label: str
    scope: int  # items the new run takes on
    estimate: int
    available: int
    affordable: bool


def _nothing_left(run: dict[str, Any]) -> Conflict:
    if run["status"] not in states.FINAL:
        return Conflict(f"the run is still {run['status'].replace('_', ' ')}: wait for it to end, or cancel it",
                        field="status")
    if run["status"] == states.FAILED:
        return Conflict("nothing to resume: the run failed before any step or item, so there is nothing to "
                        "continue from; use Run again", field="status")
    return Conflict("nothing to resume: every step of this run succeeded and no item failed; use Run again to "
                    "run it anew", field="status")


async def continuation(caller: Scope, execution_id: UUID, kind: str | None = None) -> Continuation:
    """Where ``execution_id`` can go on from (``states.continuation_of``) and what it would hold; 409 when
    nothing is left to do, or when ``kind`` names another way than the one the run allows."""
    return await _continuation(caller, await repository.get(caller, execution_id, whole=True), kind)


async def _continuation(caller: Scope, original: dict[str, Any], kind: str | None) -> Continuation:
    allowed = states.continuation_of(original) if original["status"] in states.FINAL else None
    if allowed is None:
        raise _nothing_left(original)
    if kind is not None and allowed not in ENDPOINT_TAKES.get(kind, (kind,)):
        raise Conflict(f"this run cannot be taken further that way; it offers '{LABELS[allowed]}'", field="status")
    agent, _, _ = plan(Request(original["agent"], original["inputs"], None, original["mode"]))
    scope = {"resume_from_failed_step": original["scope"],
             "resume_where_stopped": original["scope"] - original["items_processed"],
             "retry_failed_items": original["items_failed"]}[allowed]
    scope = max(1, scope)
    cost = agent.estimate(scope) if original["mode"] == "live" else 0
    available = (await ledger.balance(caller.workspace_id)).available
    return Continuation(allowed, LABELS[allowed], scope, cost, available, cost <= available)


async def go_on(caller: Scope, execution_id: UUID, kind: str, *,
                confirmed_estimate: int | None = None) -> dict[str, Any]:
    """Start the continuation ``kind`` of a finished run (an API action, or one of ``LABELS``): a new
    linked run that reuses the steps that succeeded (a resume) and skips the items already processed (a
    resume where it stopped, a retry). With ``confirmed_estimate``, a cost that moved since the person
    saw it is a 409 on ``confirmed_estimate`` (the page asks again)."""
    original = await repository.get(caller, execution_id, whole=True)
    plan_ = await _continuation(caller, original, kind)
    if confirmed_estimate is not None and plan_.estimate != confirmed_estimate:
        raise Conflict(f"the cost is now {plan_.estimate} credits; confirm again", field="confirmed_estimate")
    request = Request(original["agent"], original["inputs"], None, original["mode"])
    return await start(caller, request, triggered_by="rerun", rerun_of=execution_id,
                       reuse_steps=plan_.kind != "retry_failed_items",
                       skip_processed=plan_.kind != "resume_from_failed_step", scope=plan_.scope)


async def resume_from_failed_step(caller: Scope, execution_id: UUID) -> dict[str, Any]:
    """A resume: from the step that failed, or from where a cancel or the time limit stopped the run."""
    return await go_on(caller, execution_id, "resume_from_failed_step")


async def retry_failed_items(caller: Scope, execution_id: UUID) -> dict[str, Any]:
    """Only the items that failed run again (for a run where no step failed)."""
    return await go_on(caller, execution_id, "retry_failed_items")
