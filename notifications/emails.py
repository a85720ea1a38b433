"""The Emails page's reads and its one action (admins): every email of a workspace with its state, the
message as sent, and "send again" for a failed one. Also the template previews with sample data, so an
admin sees what each kind of email looks like before anyone receives one."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from agentledger.notifications import repository
from agentledger.notifications.outbox import Rendered, render
from agentledger.notifications.preferences import CATEGORIES, unsubscribe_token
from agentledger.platform import audit
from agentledger.platform.broker import enqueue
from agentledger.platform.config import get_settings
from agentledger.platform.errors import Conflict, Invalid, NotFound
from agentledger.platform.pagination import Page, PageRequest
from agentledger.platform.scoping import Scope

STATUSES = ("pending", "sent", "failed")


@dataclass(frozen=True)
class Filters:
    category: str | None = None
    status: str | None = None
    to: str | None = None

    def __post_init__(self) -> None:
        if self.category is not None and self.category not in CATEGORIES:
            raise Invalid(f"category must be one of {', '.join(CATEGORIES)}", field="category")
        if self.status is not None and self.status not in STATUSES:
            raise Invalid(f"status must be one of {', '.join(STATUSES)}", field="status")
        if self.to is not None and len(self.to) > 254:
            raise Invalid("an address is at most 254 characters", field="to")


def _shape(row: dict[str, Any]) -> dict[str, Any]:
    row = dict(row)
    row["to"], row["category"] = row.pop("to_email"), row.pop("kind")
    if "headers" in row and not isinstance(row["headers"], dict):
        row["headers"] = json.loads(row["headers"] or "{}")
    return row


async def page(scope: Scope, filters: Filters, request: PageRequest) -> Page[dict[str, Any]]:
    scope.require_admin()
    rows, cursor = await repository.emails(scope.workspace_id, filters.category, filters.status,
                                           filters.to.strip().lower() if filters.to else None, request)
    return Page([_shape(r) for r in rows], cursor)


REDACTED = "(the recipient's own signed link)"


async def get(scope: Scope, email_id: UUID) -> dict[str, Any]:
    """One email as sent, except the recipient's unsubscribe token: it is their key to their preferences,
    and an admin reading the message must not be able to use it."""
    scope.require_admin()
    row = await repository.email(scope.workspace_id, email_id)
    if row is None:
        raise NotFound("no such email in this workspace")
    email = _shape(row)
    if email["category"] in CATEGORIES:
        token = unsubscribe_token(email["to"], email["category"])
        email["text"], email["html"] = email["text"].replace(token, REDACTED), email["html"].replace(token, REDACTED)
        email["headers"] = {name: value.replace(token, REDACTED) for name, value in email["headers"].items()}
    return email


async def resend(scope: Scope, email_id: UUID) -> dict[str, Any]:
    """A failed email goes back to the sender, the same message (same Message-ID), with fresh attempts."""
    from agentledger.notifications.tasks import deliver_email

    current = await get(scope, email_id)
    if current["status"] != "failed" or not await repository.retry_failed(scope.workspace_id, email_id):
        raise Conflict(f"only a failed email can be sent again; this one is {current['status']}")
    enqueue(deliver_email, str(email_id))
    await audit.record("email.resend", workspace_id=scope.workspace_id, actor_id=scope.user_id, target=str(email_id),
                       to=current["to"])
    return await get(scope, email_id)


def _samples(scope: Scope) -> dict[str, dict[str, Any]]:
    base = f"{get_settings().public_url}/w/{scope.workspace_slug}"
    run = f"{base}/executions/{uuid4()}"
    ws = scope.workspace_name
    run_facts = {"workspace": ws, "agent": "seo-audit", "status": "completed", "duration": "12 min 40 s", "items": 240,
                 "items_failed": 3, "credits": 245, "refunded": 0, "started": "30 Nov 2026 09:12 UTC", "link": run,
                 "minutes": 5, "limit": 200}
    expires = datetime(2026, 12, 11, 9, 0, tzinfo=UTC)
    bars = [{"label": "Dana Reyes", "runs": 14, "credits": 1840, "width": 100},
            {"label": "Sam Okafor", "runs": 9, "credits": 910, "width": 49}]
    return {
        "run_finished": run_facts,
        "run_failed": {**run_facts, "status": "failed", "error_line": "The site answered 403 Forbidden for /products",
                       "failed_step": "Crawl the site", "credits": 5, "refunded": 240},
        "credit_threshold": run_facts,
        "low_balance": {"workspace": ws, "available": 180, "threshold": 500, "link": f"{base}/billing"},
        "purchase_receipt": {"workspace": ws, "moved": 5000, "pack": "team", "price": "85.00 USD", "available": 5180,
                             "owed": 0, "buyer": "Dana Reyes", "link": f"{base}/billing/purchases/{uuid4()}",
                             "receipt_link": f"{base}/billing"},
        "weekly_digest": {"workspace": ws, "name": "Dana", "period": "Mon 23 Nov – Sun 29 Nov 2026", "sections": [{
            "id": scope.workspace_id, "workspace": ws, "link": base, "history_link": f"{base}/executions",
            "mine": {"runs": 14, "credits": 1840, "applied": 6, "by_status": [("completed", 11), ("partial", 1),
                                                                             ("failed", 2)],
                     "scores": [{"agent": "seo-audit", "title": "SEO score", "score": "87 / 100", "link": run}],
                     "failures": [{"agent": "link-checker", "status": "failed", "link": run,
                                   "error": "Connection refused by shop.example.com:443"}]},
            "team": {"runs": 23, "credits": 2750, "refunded": 240, "by_member": bars,
                     "by_agent": [{"label": "seo-audit", "runs": 12, "credits": 2100, "width": 100},
                                  {"label": "link-checker", "runs": 11, "credits": 650, "width": 31}],
                     "available": 5180, "lasts_days": 13,
                     "costliest": [{"agent": "seo-audit", "who": "Dana Reyes", "credits": 245, "link": run}],
                     "credits_link": f"{base}/credits"}}]},
        "review_requested": {"workspace": ws, "agent": "content-writer", "title": "Approve 12 product descriptions",
                             "summary": "12 drafts are ready; 2 are longer than the shop allows.", "link": run},
        "restore_requested": {"workspace": ws, "asker": "Sam Okafor", "agent": "seo-audit",
                              "link": f"{base}/settings/retention#requests", "run_link": run},
        "run_shared": {"name": "Sam", "sharer": "Dana Reyes", "agent": "analytics-report", "workspace": ws,
                       "status": "completed", "started": "30 Nov 2026 09:12 UTC", "link": run},
        "invitation": {"workspace": ws, "role": "member", "link": f"{get_settings().public_url}/invitations/sample",
                       "expires_at": expires},
    }


async def preview(scope: Scope, template: str) -> Rendered:
    """``template`` rendered with sample data, addressed to the admin looking at it."""
    scope.require_admin()
    if template not in CATEGORIES:
        raise NotFound(f"no email template {template!r}")
    person = await repository.person(scope.user_id)
    return render(template, _samples(scope)[template], person["email"] if person else "")
