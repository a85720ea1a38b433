"""Schedules: create, change, delete and run them now (inputs checked against the agent like a start,
every change audited), price them, and fire the due ones. A firing that cannot start (no credits, inputs
the agent no longer accepts, its creator left the workspace) is recorded as a failed run with the reason:
a schedule never skips silently. Run now is different: someone is there to read the 402, so nothing is
recorded when it cannot start."""

from __future__ import annotations

import contextlib
import json
import logging
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from croniter import CroniterBadDateError, croniter

from agentledger.agents import launch
from agentledger.platform import audit
from agentledger.platform.clock import now
from agentledger.platform.database import atomic, fetch
from agentledger.platform.errors import AppError, Conflict, Invalid
from agentledger.platform.executions import service as executions
from agentledger.platform.schedules import repository
from agentledger.platform.scoping import Scope, scope_for
from agentledger.platform.validation import single_line

log = logging.getLogger("agentledger.schedules")

FIELDS = ("name", "cron", "agent", "inputs", "scope", "mode")  # a form's order, and the order problems come in
MONTH = timedelta(days=30)


class Problems(Invalid):
    """Every field's problem at once, so a form can put each next to its field. Its message and field are
    the first problem's: that is what the API answers (one ``{"error","message","field"}``)."""

    def __init__(self, problems: Sequence[Invalid]):
        ordered = sorted(problems, key=lambda p: FIELDS.index(form_field(p.field)))
        super().__init__(ordered[0].message, field=ordered[0].field)
        self.problems = ordered

    def by_field(self) -> dict[str, str]:
        """The form field (``inputs`` for ``inputs.start_url``) -> what is wrong with it, in words."""
        return {form_field(p.field): p.message for p in self.problems}


def form_field(field: str | None) -> str:
    name = (field or "").split(".")[0]
    return name if name in FIELDS else "name"


def next_time(cron: str, after: datetime) -> datetime:
    return croniter(cron, after).get_next(datetime)


def check_cron(cron: str) -> str:
    cron = " ".join(cron.split())
    if len(cron.split(" ")) != 5 or not croniter.is_valid(cron):
        raise Invalid(f"cron must be 5 fields (minute hour day month weekday), e.g. '0 6 * * 1'; got '{cron}'",
                      field="cron")
    try:
        next_time(cron, now())
    except (CroniterBadDateError, ValueError):
        raise Invalid(f"'{cron}' never comes round (e.g. 30 February); choose a date that exists",
                      field="cron") from None
    return cron


def runs_within(cron: str, start: datetime, period: timedelta = MONTH) -> int:
    """How often ``cron`` fires after ``start`` and up to ``start + period``. Exact, in at most ~32 steps
    whatever the cron (walking ``* * * * *`` fire by fire takes 43,200 steps, over a second): croniter finds
    the matching days (the cron's own day, month and weekday fields, so 'L', '5#3' and the day-or-weekday
    rule stay croniter's), and each matching day fires at every listed hour and minute."""
    end = start + period
    minute, hour = croniter(cron).expanded[:2]
    minutes = range(60) if minute == ["*"] else minute
    hours = range(24) if hour == ["*"] else hour
    seconds = sorted(h * 3600 + m * 60 for h in hours for m in minutes)  # into the day, for each fire
    day = start.replace(hour=0, minute=0, second=0, microsecond=0)
    days = croniter("0 0 " + " ".join(cron.split()[2:]), day - timedelta(seconds=1))
    count = 0
    while (day := days.get_next(datetime)) <= end:
        after, until = (start - day).total_seconds(), (end - day).total_seconds()
        count += bisect_right(seconds, until) - bisect_right(seconds, after)
    return count


def _plan_problems(agent: str, inputs: dict[str, Any] | None, scope: int | None, mode: str) -> list[Invalid]:
    """``launch.plan`` stops at its first problem; the mode is checked here first so that a bad mode does not
    hide the inputs' and scope's. ``inputs`` None: they could not be read (reported already), so only the
    agent is checked."""
    problems = []
    if mode not in launch.MODES:
        problems.append(Invalid(f"mode must be 'live' or 'test', not '{mode}'", field="mode"))
        mode = launch.MODES[0]
    try:
        launch.plan(launch.Request(agent, inputs if inputs is not None else {}, scope, mode))
    except Invalid as error:
        if inputs is not None or error.field == "agent":
            problems.append(error)
    return problems


def _values(name: str, agent: str, inputs: dict[str, Any] | None, scope: int | None, mode: str, cron: str,
            enabled: bool, found: Sequence[Invalid] = ()) -> dict[str, Any]:
    """The row's values, or ``Problems`` naming every field that is wrong (``found``: what the form could
    not even read, such as inputs that are not JSON)."""
    problems = list(found)
    try:
        name = single_line(name, "name", label="name", max_length=120)
    except Invalid as error:
        problems.append(error)
    try:
        cron = check_cron(cron)
    except Invalid as error:
        problems.append(error)
    problems += _plan_problems(agent, inputs, scope, mode)  # 422 naming the field, as a start would
    if problems:
        raise Problems(problems)
    return {"name": name, "agent": agent, "inputs": inputs, "scope": scope, "mode": mode, "cron": cron,
            "enabled": enabled, "next_run_at": next_time(cron, now()) if enabled else None}


async def create(caller: Scope, *, name: str, agent: str, inputs: dict[str, Any] | None, scope: int | None,
                 mode: str, cron: str, enabled: bool = True, found: Sequence[Invalid] = ()) -> dict[str, Any]:
    row = await repository.insert(caller, _values(name, agent, inputs, scope, mode, cron, enabled, found))
    await audit.record("schedule.create", workspace_id=caller.workspace_id, actor_id=caller.user_id,
                       target=str(row["id"]), agent=agent, cron=row["cron"])
    return row


async def update(caller: Scope, schedule_id: UUID, changes: dict[str, Any],
                 found: Sequence[Invalid] = ()) -> dict[str, Any]:
    """Change any of name, cron, inputs, scope, mode and enabled (the agent stays: its runs and inputs are
    its own), checked as a new schedule would be, the next run worked out again. Turning a schedule off or
    renaming it needs no agent check, so a schedule whose agent or inputs no longer work can still be
    stopped. Members change their own schedules, admins any (others are not found)."""
    current = await repository.get(caller, schedule_id)
    merged = {key: changes.get(key, current[key]) for key in ("name", "agent", "inputs", "scope", "mode", "cron",
                                                              "enabled")}
    if set(changes) <= {"enabled", "name"} and not merged["enabled"] and not found:
        try:
            values = {"name": single_line(merged["name"], "name", label="name", max_length=120), "enabled": False,
                      "next_run_at": None}
        except Invalid as error:
            raise Problems([error]) from None
    else:
        values = _values(**merged, found=found)
    row = await repository.update(caller, schedule_id, values)
    changed = sorted(key for key in (*FIELDS, "enabled") if key in values and values[key] != current[key])
    await audit.record("schedule.update", workspace_id=caller.workspace_id, actor_id=caller.user_id,
                       target=str(schedule_id), enabled=row["enabled"], changed=changed)
    return row


async def toggle(caller: Scope, schedule_id: UUID) -> dict[str, Any]:
    """Turn a schedule off, or back on (checked as ``update`` checks it: one whose agent or inputs no longer
    work can be turned off, not on). The page's on/off button; the API sends ``enabled`` to ``update``."""
    current = await repository.get(caller, schedule_id)
    return await update(caller, schedule_id, {"enabled": not current["enabled"]})


async def delete(caller: Scope, schedule_id: UUID) -> None:
    """Its past runs stay (they keep their link to it)."""
    current = await repository.get(caller, schedule_id)
    await repository.delete(caller, schedule_id)
    await audit.record("schedule.delete", workspace_id=caller.workspace_id, actor_id=caller.user_id,
                       target=str(schedule_id), name=current["name"], agent=current["agent"], cron=current["cron"])


async def run_now(caller: Scope, schedule_id: UUID) -> dict[str, Any]:
    """Start the schedule's run now, the way its firing does: as the schedule's creator (whose rights it runs
    with, and whose runs list shows it), triggered by the schedule, credits held (402 when the wallet is
    short). Its next time stays; an off schedule stays off. The audit names who pressed it."""
    schedule = await repository.get(caller, schedule_id)
    owner = caller if schedule["created_by"] == caller.user_id else await scope_for(caller.workspace_id,
                                                                                     schedule["created_by"])
    if owner is None:
        raise Conflict("this schedule's creator is no longer a member, so it cannot run; make a new schedule",
                       field="created_by")
    run = await launch.start(owner, launch.Request(schedule["agent"], schedule["inputs"], schedule["scope"],
                                                   schedule["mode"]),
                             triggered_by="schedule", schedule=schedule_id)
    await repository.ran(caller, schedule_id, run["id"])
    await audit.record("schedule.run", workspace_id=caller.workspace_id, actor_id=caller.user_id,
                       target=str(schedule_id), execution=str(run["id"]))
    return run


@dataclass(frozen=True, slots=True)
class Cost:
    """What a schedule costs: per run (what its firing reserves), how often it fires in the next 30 days,
    and the two multiplied. No price (None) when its agent or inputs no longer work; ``note`` says why."""

    per_run: int | None
    runs_per_month: int
    per_month: int | None
    note: str | None = None


async def cost(caller: Scope, schedule: dict[str, Any]) -> Cost:
    """The run form's estimate for the schedule's inputs and scope. The scope is the one its firing would
    take (``launch.plan``), named to ``launch.estimate`` so that no agent looks anything up to preview it."""
    runs = runs_within(schedule["cron"], now())
    request = launch.Request(schedule["agent"], schedule["inputs"], schedule["scope"], schedule["mode"])
    try:
        _, _, scope = launch.plan(request)
        estimate = await launch.estimate(caller, launch.Request(request.agent, request.inputs, scope, request.mode))
    except AppError as error:
        return Cost(None, runs, None, f"no price: {error.message}")
    return Cost(estimate.estimate, runs, estimate.estimate * runs)


async def priced(caller: Scope, row: dict[str, Any]) -> dict[str, Any]:
    price = await cost(caller, row)
    return {**row, "cost_per_run": price.per_run, "runs_per_month": price.runs_per_month,
            "cost_per_month": price.per_month, "cost_note": price.note}


async def get(caller: Scope, schedule_id: UUID) -> dict[str, Any]:
    return await priced(caller, await repository.get(caller, schedule_id))


async def list_all(caller: Scope) -> list[dict[str, Any]]:
    """The caller's schedules (members: their own; admins: all), each with its cost."""
    return [await priced(caller, row) for row in await repository.list_all(caller)]


async def fire(schedule_id: UUID) -> str | None:
    """Start one due schedule's run (or record why it could not start), and move it to its next time."""
    async with atomic():
        schedule = await repository.claim(schedule_id)
        if schedule is None:
            return None
        upcoming = next_time(schedule["cron"], now())
        inputs = json.loads(schedule["inputs"]) if isinstance(schedule["inputs"], str) else schedule["inputs"]
        caller = await scope_for(schedule["workspace"], schedule["created_by"])
        if caller is None:  # its creator left: the schedule stops (it would run with nobody's rights)
            await repository.fired(schedule_id, None, None, enabled=False)
            log.warning("schedule %s disabled: its creator is no longer a member", schedule_id)
            return "disabled"
        with contextlib.suppress(AppError):  # outside the savepoint: its row must outlive a rollback to it
            await launch.version_id(schedule["agent"])
        await fetch("SAVEPOINT fire")
        try:
            run = await launch.start(caller, launch.Request(schedule["agent"], inputs, schedule["scope"],
                                                            schedule["mode"]),
                                     triggered_by="schedule", schedule=schedule_id)
        except AppError as error:
            await fetch("ROLLBACK TO SAVEPOINT fire")
            run = await executions.record_refused(caller, schedule["agent"], inputs, schedule["mode"], "schedule",
                                                  f"the schedule could not start this run: {error.message}",
                                                  schedule=schedule_id)
        await repository.fired(schedule_id, upcoming, run["id"])
        return run["status"]


async def fire_due() -> dict[str, int]:
    fired = 0
    for row in await repository.due():
        try:
            fired += await fire(row["id"]) is not None
        except Exception:  # noqa: BLE001 - one broken schedule must not stop the others
            log.exception("could not fire schedule %s", row["id"])
    return {"fired": fired}
