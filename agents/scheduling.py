"""Schedules: create and change them (inputs checked against the agent like a start), and fire the due
ones. A firing that cannot start (no credits, inputs the agent no longer accepts, its creator left the
workspace) is recorded as a failed run with the reason: a schedule never skips silently."""

from __future__ import annotations

import contextlib
import json
import logging
from datetime import datetime
from typing import Any
from uuid import UUID

from croniter import CroniterBadDateError, croniter

from agentledger.agents import launch
from agentledger.platform import audit
from agentledger.platform.clock import now
from agentledger.platform.database import atomic, fetch
from agentledger.platform.errors import AppError, Invalid
from agentledger.platform.executions import service as executions
from agentledger.platform.schedules import repository
from agentledger.platform.scoping import Scope, scope_for
from agentledger.platform.validation import single_line

log = logging.getLogger("agentledger.schedules")


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


def _values(name: str, agent: str, inputs: dict[str, Any], scope: int | None, mode: str, cron: str,
            enabled: bool) -> dict[str, Any]:
    launch.plan(launch.Request(agent, inputs, scope, mode))  # 422 naming the field, as a start would
    cron = check_cron(cron)
    return {"name": single_line(name, "name", label="name", max_length=120), "agent": agent, "inputs": inputs,
            "scope": scope, "mode": mode, "cron": cron, "enabled": enabled,
            "next_run_at": next_time(cron, now()) if enabled else None}


async def create(caller: Scope, *, name: str, agent: str, inputs: dict[str, Any], scope: int | None, mode: str,
                 cron: str, enabled: bool = True) -> dict[str, Any]:
    row = await repository.insert(caller, _values(name, agent, inputs, scope, mode, cron, enabled))
    await audit.record("schedule.create", workspace_id=caller.workspace_id, actor_id=caller.user_id,
                       target=str(row["id"]), agent=agent, cron=row["cron"])
    return row


async def update(caller: Scope, schedule_id: UUID, changes: dict[str, Any]) -> dict[str, Any]:
    """Turning a schedule off or renaming it needs no agent check, so a schedule whose agent or inputs no
    longer work can still be stopped."""
    current = await repository.get(caller, schedule_id)
    merged = {key: changes.get(key, current[key]) for key in ("name", "agent", "inputs", "scope", "mode", "cron",
                                                              "enabled")}
    if set(changes) <= {"enabled", "name"} and not merged["enabled"]:
        values = {"name": single_line(merged["name"], "name", label="name", max_length=120), "enabled": False,
                  "next_run_at": None}
    else:
        values = _values(**merged)
    row = await repository.update(caller, schedule_id, values)
    await audit.record("schedule.update", workspace_id=caller.workspace_id, actor_id=caller.user_id,
                       target=str(schedule_id), enabled=row["enabled"])
    return row


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
