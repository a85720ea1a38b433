"""The weekly digest: Monday 08:00 in each person's time zone, about the week before.

A member's digest: their own runs by status, the credits they used, their best scores and applied
changes, and the failures to look at. An admin's adds, per workspace they administer, the workspace's
week: credits by member and by agent, the balance and how long it lasts at this rate, and the costliest
runs. No activity, no digest.

Exactly one per person and ISO week: each pass claims ``(person, week)`` in ``digest_weeks`` (unique) in
the same transaction that queues the email, so a second scheduler, a retry or a pass after a crash finds
the claim and sends nothing more; the outbox's dedupe key (``digest:<person>:<week>``) is a second lock on
the same door. People are read in pages by id; those due go in groups of 500, each one transaction whose
runs are read in four set-based statements (an index by starter and time serves them); each workspace's
figures are read once per pass. Memory is set by the group, so it stays flat as the number of people grows."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, time, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from agentledger.billing import usage
from agentledger.notifications import outbox, repository
from agentledger.notifications.outbox import Message
from agentledger.notifications.service import first_line
from agentledger.platform.clock import now
from agentledger.platform.config import get_settings
from agentledger.platform.database import atomic
from agentledger.platform.executions import service as executions
from agentledger.platform.scoping import Scope

BATCH = 500
STATUS_ORDER = ("completed", "partial", "failed", "timed_out", "canceled", "awaiting_review", "paused", "running",
                "queued")


def week_of(local: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The week before the local Monday ``local`` falls on: Monday 00:00 to Monday 00:00 in ``zone``
    (wall-clock days, so a daylight-saving change makes that week 167 or 169 hours long)."""
    monday = datetime.combine(local.date() - timedelta(days=local.isoweekday() - 1), time(0), tzinfo=zone)
    start = datetime.combine(monday.date() - timedelta(days=7), time(0), tzinfo=zone)
    return start, monday


def _score_text(row: dict[str, Any]) -> str:
    if row["unit"] == "%":
        return f"{row['value']:.2f}%"
    value = int(row["value"]) if float(row["value"]).is_integer() else round(row["value"], 1)
    return f"{value} / {int(row['scale'])}"


def _bars(groups: list[usage.Group]) -> list[dict[str, Any]]:
    top = max((g.credits_charged for g in groups), default=0) or 1
    return [{"label": g.label, "runs": g.runs, "credits": g.credits_charged,
             "width": max(2, round(g.credits_charged * 100 / top)) if g.credits_charged else 0} for g in groups[:8]]


async def _team(workspace: dict[str, Any], person: UUID, since: datetime, until: datetime) -> dict[str, Any] | None:
    """The workspace's week, as its admins see it on the Credits page (the same figures, from the ledger)."""
    scope = Scope(workspace["id"], workspace["slug"], workspace["name"], person, "admin")
    span = usage.Period(since, until)
    total = await usage.total(scope, span)
    if not total.runs:
        return None
    audit = await usage.audit(scope, span, total.credits_charged, books=False)
    base = f"{get_settings().public_url}/w/{workspace['slug']}"
    return {"runs": total.runs, "credits": total.credits_charged, "refunded": total.credits_refunded,
            "by_member": _bars(await usage.groups(scope, "member", span)),
            "by_agent": _bars(await usage.groups(scope, "agent", span)),
            "available": audit.balance.available if audit.balance else 0, "lasts_days": audit.lasts_days,
            "costliest": [{"agent": r["agent"], "who": r["member_name"] or "nobody (scheduled)", "credits": r["amount"],
                           "link": f"{base}/executions/{r['execution']}"} for r in audit.costliest[:5]],
            "credits_link": f"{base}/credits"}


async def _build(people: list[dict[str, Any]], team_cache: dict[tuple[UUID, datetime, datetime], dict[str, Any] | None],
                 ) -> list[tuple[UUID | None, Message]]:
    """The digests of a batch of people (each with their local ``at`` and time zone); quiet people get none.
    ``team_cache`` keeps each workspace's figures per window for the whole pass."""
    windows, zones = [], {}
    for person in people:
        zone = ZoneInfo(person["tz"])
        since, until = week_of(person["at"], zone)
        zones[person["id"]] = (since, until)
        windows.append((person["id"], since, until))
    activity = await executions.digest_activity(windows)
    mine: dict[tuple[UUID, UUID], dict[str, Any]] = defaultdict(lambda: {"by_status": [], "runs": 0, "credits": 0,
                                                                        "failures": [], "scores": [], "applied": 0})
    for row in activity["by_status"]:
        section = mine[row["person"], row["workspace"]]
        section["by_status"].append((row["status"], row["runs"]))
        section["runs"] += row["runs"]
        section["credits"] += row["credits"]
    for key in ("failures", "scores"):
        for row in activity[key]:
            mine[row["person"], row["workspace"]][key].append(row)
    for row in activity["applied"]:
        mine[row["person"], row["workspace"]]["applied"] = row["applied"]
    joined = defaultdict(list)
    for row in await repository.memberships([p["id"] for p in people]):
        joined[row["person"]].append(row)
    out = []
    base = get_settings().public_url
    for person in people:
        since, until = zones[person["id"]]
        sections = []
        for workspace in joined[person["id"]]:
            own = mine.get((person["id"], workspace["id"]))
            team = None
            if workspace["role"] == "admin":
                key = (workspace["id"], since, until)
                if key not in team_cache:
                    team_cache[key] = await _team(workspace, person["id"], since, until)
                team = team_cache[key]
            if not (own and own["runs"]) and team is None:
                continue
            link = f"{base}/w/{workspace['slug']}"
            if own:
                own = {**own, "by_status": sorted(own["by_status"], key=lambda s: STATUS_ORDER.index(s[0])
                                                  if s[0] in STATUS_ORDER else 99),
                       "failures": [{"agent": f["agent"], "status": f["status"].replace("_", " "),
                                     "error": first_line(f["error_message"]),
                                     "link": f"{link}/executions/{f['id']}"} for f in own["failures"]],
                       "scores": [{"agent": s["agent"], "title": s["title"], "score": _score_text(s),
                                   "link": f"{link}/executions/{s['execution']}"} for s in own["scores"]]}
            sections.append({"id": workspace["id"], "workspace": workspace["name"], "link": link, "mine": own, "team": team,
                             "history_link": f"{link}/executions"})
        if not sections:
            continue
        local_until = until - timedelta(days=1)
        context = {"workspace": sections[0]["workspace"] if len(sections) == 1 else None, "name": person["name"],
                   "period": f"{since:%a %d %b} – {local_until:%a %d %b %Y}", "sections": sections}
        # one workspace: the email is that workspace's (its Emails page lists it); several: nobody's, so
        # no admin of one reads what the digest says about another
        out.append((sections[0]["id"] if len(sections) == 1 else None, Message(person["email"], "weekly_digest", context, f"digest:{person['id']}:{person['week']}")))
    return out


async def run(moment: datetime | None = None, batch: int = BATCH) -> dict[str, int]:
    """One pass: queue every digest due at ``moment``. People are read in pages by id; those due are
    gathered into groups of ``batch`` and each group is one transaction (claims and emails), so a
    transaction holds the same number of digests however few of the people read are due: memory is set
    by ``batch``, not by how many people there are. Workspaces' figures are worked out once per pass."""
    moment = moment or now()
    done = {"digests": 0, "quiet": 0}
    after = UUID(int=0)
    teams: dict[tuple[UUID, datetime, datetime], dict[str, Any] | None] = {}
    waiting: list[dict[str, Any]] = []
    while True:
        page = await repository.people_after(after, batch)
        if page:
            after = page[-1]
            waiting += await repository.digest_due(moment, page)
        while len(waiting) >= batch or (waiting and not page):
            group, waiting = waiting[:batch], waiting[batch:]
            await _queue_group(group, teams, done)
        if not page:
            return done


async def _queue_group(due: list[dict[str, Any]],
                       teams: dict[tuple[UUID, datetime, datetime], dict[str, Any] | None], done: dict[str, int]) -> None:
    """Claim and queue the digests of ``due`` people in one transaction (a person claimed meanwhile by
    another pass is skipped: the claim is the lock)."""
    async with atomic():
        claimed = await repository.claim_digests([d["id"] for d in due], [d["week"] for d in due])
        people = [d for d in due if d["id"] in claimed]
        built = await _build(people, teams) if people else []
        by_workspace: dict[UUID | None, list[Message]] = defaultdict(list)
        for workspace_id, message in built:
            by_workspace[workspace_id].append(message)
        for workspace_id, messages in by_workspace.items():
            await outbox.queue(workspace_id, "weekly_digest", messages)
        sent = {m.dedupe_key.split(":")[1] for _, m in built}
        weeks = {d["id"]: d["week"] for d in people}
        ids = [d["id"] for d in people if str(d["id"]) in sent]
        await repository.digest_sent(ids, [weeks[i] for i in ids])
        done["digests"] += len(ids)
        done["quiet"] += len(people) - len(ids)
