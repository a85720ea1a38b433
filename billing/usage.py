"""The credit audit: who and what spent credits, when, and what came back. Admins see the workspace;
members see their own runs' movements only ("My usage"). Every figure is summed from the ledger
(``usage_repository``), so the audit agrees with the books by construction, for runs long deleted too.
Periods are ``[since, until)`` in UTC; at most ``MAX_DAYS`` long, so a page stays one quick aggregate."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from agentledger.billing import ledger, reconcile
from agentledger.billing import usage_repository as repository
from agentledger.platform.clock import now
from agentledger.platform.errors import Invalid
from agentledger.platform.scoping import Scope

GROUPS = tuple(repository.KEYS)
MAX_DAYS = 3 * 366
PRESETS = {"7d": timedelta(days=7), "30d": timedelta(days=30), "90d": timedelta(days=90)}


@dataclass(frozen=True, slots=True)
class Period:
    since: datetime
    until: datetime

    @property
    def days(self) -> float:
        return max((self.until - self.since).total_seconds() / 86400, 1 / 24)


def period(since: datetime | None, until: datetime | None) -> Period:
    """The period asked for: both with a time zone, since before until, at most ``MAX_DAYS``; by default
    the last 30 days."""
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise Invalid(f"{name} needs a time zone, e.g. 2026-11-01T00:00:00Z", field=name)
    until = until or now()
    since = since or until - PRESETS["30d"]
    if since >= until:
        raise Invalid("since must be before until", field="since")
    if until - since > timedelta(days=MAX_DAYS):
        raise Invalid(f"a period is at most {MAX_DAYS} days", field="since")
    return Period(since, until)


def _whose(scope: Scope) -> UUID | None:
    """Admins audit everyone; a member, their own runs."""
    return None if scope.is_admin else scope.user_id


@dataclass(frozen=True, slots=True)
class Group:
    key: str
    label: str
    runs: int
    credits_charged: int
    credits_refunded: int


def label(group_by: str, key: str, names: dict[UUID, str]) -> str:
    """How a group's key reads: a member's name, an agent, 3 Nov 2026, week of 2 Nov 2026, Nov 2026."""
    if group_by == "member":
        return names.get(UUID(key), "a former member") if key else "nobody (scheduled or removed)"
    if group_by == "agent":
        return key or "unknown agent"
    if group_by == "day":
        day = datetime.fromisoformat(key)
        return f"{day.day} {day:%b %Y}"
    if group_by == "week":
        monday = datetime.fromisoformat(key)
        return f"week of {monday.day} {monday:%b %Y}"
    return datetime.strptime(key, "%Y-%m").strftime("%b %Y")


async def groups(scope: Scope, group_by: str, span: Period) -> list[Group]:
    """Runs settled and credits charged and refunded per member, agent, day, week or month in ``span``."""
    if group_by not in GROUPS:
        raise Invalid(f"group_by must be one of {', '.join(GROUPS)}", field="group_by")
    rows = await repository.grouped(scope.workspace_id, group_by, span.since, span.until, _whose(scope))
    names = await repository.names([UUID(r["key"]) for r in rows if group_by == "member" and r["key"]])
    found = [Group(r["key"], label(group_by, r["key"], names), r["runs"], r["credits_charged"],
                   r["credits_refunded"]) for r in rows]
    if group_by in ("member", "agent"):
        found.sort(key=lambda g: (-g.credits_charged, g.label))
    return found


async def total(scope: Scope, span: Period) -> Group:
    whole = await repository.total(scope.workspace_id, span.since, span.until, _whose(scope))
    return Group("total", "Total", whole["runs"], whole["credits_charged"], whole["credits_refunded"])


async def usage(scope: Scope, group_by: str, since: datetime | None = None,
                until: datetime | None = None) -> tuple[list[Group], Group, Period]:
    """The API's answer: the groups of the period asked for (30 days by default), with the total."""
    span = period(since, until)
    return await groups(scope, group_by, span), await total(scope, span), span


@dataclass(frozen=True, slots=True)
class Audit:
    """Everything the Credits page shows besides the groups."""

    costliest: list[dict[str, Any]]  # execution, agent, member, member_name, amount, created_at
    refunds: list[dict[str, Any]]  # reason, runs, credits
    outside: list[dict[str, Any]]  # purchases, grants, clawbacks, debts (admins)
    balance: ledger.Balance | None  # admins
    lasts_days: int | None  # at the period's rate of spending; None when nothing was spent
    books: reconcile.Reconciliation | None  # admins


async def audit(scope: Scope, span: Period, charged: int, *, books: bool = True) -> Audit:
    """``books=False`` (the weekly digest): the costliest runs, the balance and how long it lasts only,
    without the refunds, the money from outside and the reconciliation (a sum of the whole ledger)."""
    member = _whose(scope)
    top = await repository.costliest(scope.workspace_id, span.since, span.until, member)
    names = await repository.names([r["member"] for r in top if r["member"]])
    top = [{**r, "member_name": names.get(r["member"])} for r in top]
    refunds = await repository.refund_reasons(scope.workspace_id, span.since, span.until, member) if books else []
    if member is not None:
        return Audit(top, refunds, [], None, None, None)
    balance = await ledger.balance(scope.workspace_id)
    per_day = charged / span.days
    lasts = int(balance.available // per_day) if per_day > 0 else None
    if not books:
        return Audit(top, [], [], balance, lasts, None)
    return Audit(top, refunds, await repository.outside(scope.workspace_id, span.since, span.until), balance, lasts,
                 await reconcile.workspace(scope.workspace_id))


CSV_COLUMNS = ("created_at", "key", "debit", "credit", "amount", "execution", "agent", "member", "member_name", "memo")


async def export_csv(scope: Scope, since: datetime | None, until: datetime | None) -> AsyncIterator[bytes]:
    """The period's ledger as CSV, oldest first, each movement with its run, agent and member (a member's
    export holds their own runs' movements). Checked before the first byte: a bad period is a 422."""
    span, member = period(since, until), _whose(scope)

    async def rows() -> AsyncIterator[bytes]:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(CSV_COLUMNS)
        async for batch in repository.movements(scope.workspace_id, span.since, span.until, member):
            for r in batch:
                writer.writerow([r["created_at"].astimezone(UTC).isoformat(), r["key"], r["debit"], r["credit"],
                                 r["amount"], r["execution"] or "", r["agent"] or "", r["member"] or "",
                                 r["member_name"] or "", r["memo"]])
            yield out.getvalue().encode()
            out.seek(0)
            out.truncate()
        if out.tell():  # no movement in the period: the header alone
            yield out.getvalue().encode()

    return rows()
