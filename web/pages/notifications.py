"""Notification pages: one's preferences (Settings → Notifications), the one-click unsubscribe an email
links to (RFC 8058: the POST needs no login and turns off that category only; the GET only asks), and
the Emails page for admins, with each message as sent, "send again" for a failed one, and every
template previewed with sample data.

A message's HTML is never put inside our pages (its inline styles would need a looser CSP there): it is
served alone, under its own CSP (no script, no network, no forms) and shown in a sandboxed iframe."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template

from agentledger.notifications import emails, preferences
from agentledger.platform.database import atomic
from agentledger.platform.errors import AppError, Invalid
from agentledger.platform.pagination import PageRequest
from agentledger.platform.validation import time_zones
from agentledger.web.pages.common import page_scope, render, signed_in, submit

# a message alone: its own inline styles and data: images, nothing that runs or calls out
MESSAGE_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'; "
               "frame-ancestors 'self'; sandbox allow-popups allow-popups-to-escape-sandbox")


@dataclass
class PreferencesForm:
    run_finished: str = ""
    run_finished_minutes: str = "5"
    run_failed: str = ""
    credit_threshold: str = ""
    credit_threshold_credits: str = ""
    low_balance: str = ""
    purchase_receipt: str = ""
    restore_requested: str = ""
    weekly_digest: str = ""
    review_requested: str = ""
    run_shared: str = ""
    invitation: str = ""
    timezone: str = ""


def _number(text: str, field: str) -> int | None:
    text = text.strip().replace(",", "")
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or len(text) > 12:
        raise Invalid("a whole number, please", field=field)
    return int(text)


def _changes(form: PreferencesForm) -> dict[str, object]:
    """What the form says, in the preferences' own types (a checkbox that is absent is off)."""
    changes: dict[str, object] = {name: getattr(form, name) == "on" for name in preferences.CATEGORIES}
    changes["run_finished_minutes"] = _number(form.run_finished_minutes, "run_finished_minutes") or 0
    changes["credit_threshold_credits"] = _number(form.credit_threshold_credits, "credit_threshold_credits")
    changes["timezone"] = form.timezone.strip() or None
    return changes


def _message(html: str) -> Response:
    return Response(html, media_type="text/html; charset=utf-8",
                    headers={"content-security-policy": MESSAGE_CSP, "cache-control": "private, no-store"})


class NotificationSettingsPages(Controller):
    path = "/settings/notifications"
    include_in_schema = False

    async def _page(self, request: Request, *, status_code: int = 200, **context: object) -> Template:
        principal = await signed_in(request)
        mine = await preferences.mine(principal.user_id)
        return await render(request, "notification_settings.html", principal=principal, mine=mine,
                            choice=context.pop("choice", mine.preferences.values()),
                            zones=sorted(time_zones()),
                            status_code=status_code, **context)

    @get("/")
    async def show(self, request: Request, done: FromQuery[str] = "") -> Template:
        return await self._page(request, saved=done == "saved")

    @post("/")
    async def save(self, request: Request, data: URLEncodedBody[PreferencesForm]) -> Template | Redirect:
        principal = await signed_in(request)

        async def work() -> object:
            return await preferences.save(principal.user_id, _changes(data))

        async def again(error: AppError) -> Template:
            return await self._page(request, status_code=error.status_code, error=error, choice=vars(data)
                                    | {name: getattr(data, name) == "on" for name in preferences.CATEGORIES})

        return await submit(work, "/settings/notifications?done=saved", again)


class UnsubscribePages(Controller):
    """No login: the signed token is the permission, and it only ever turns one category off."""

    path = "/unsubscribe/{token:str}"
    include_in_schema = False

    @get("/")
    async def ask(self, request: Request, token: FromPath[str]) -> Template:
        email, category = preferences.read_token(token)
        return await render(request, "unsubscribe.html", email=email, category=category, token=token, done=False)

    @post("/", status_code=200)
    async def one_click(self, request: Request, token: FromPath[str]) -> Template:
        async with atomic():
            email, category = await preferences.unsubscribe(token)
        return await render(request, "unsubscribe.html", email=email, category=category, token=token, done=True)


class EmailPages(Controller):
    path = "/w/{ws:str}/emails"
    include_in_schema = False

    @get("/")
    async def list_emails(self, request: Request, ws: FromPath[str], category: FromQuery[str] = "",
                          status: FromQuery[str] = "", to: FromQuery[str] = "", cursor: FromQuery[str] = "") -> Template:
        principal, caller = await page_scope(request, ws)
        filters = emails.Filters(category or None, status or None, to or None)
        found = await emails.page(caller, filters, PageRequest(cursor or None, 50))
        return await render(request, "emails.html", principal=principal, caller=caller, emails=found.items,
                            next_cursor=found.next_cursor, filters=filters, categories=preferences.CATEGORIES.values(),
                            statuses=emails.STATUSES)

    @get("/{email_id:uuid}")
    async def show(self, request: Request, ws: FromPath[str], email_id: FromPath[UUID], done: FromQuery[str] = "") -> Template:
        principal, caller = await page_scope(request, ws)
        return await render(request, "email.html", principal=principal, caller=caller,
                            email=await emails.get(caller, email_id), resent=done == "resent",
                            body=f"/w/{ws}/emails/{email_id}/body.html")

    @get("/{email_id:uuid}/body.html")
    async def body(self, request: Request, ws: FromPath[str], email_id: FromPath[UUID]) -> Response:
        _, caller = await page_scope(request, ws)
        return _message((await emails.get(caller, email_id))["html"])

    @post("/{email_id:uuid}/resend")
    async def resend(self, request: Request, ws: FromPath[str], email_id: FromPath[UUID]) -> Template | Redirect:
        principal, caller = await page_scope(request, ws)

        async def again(error: AppError) -> Template:
            return await render(request, "email.html", principal=principal, caller=caller, error=error,
                                email=await emails.get(caller, email_id), resent=False,
                                body=f"/w/{ws}/emails/{email_id}/body.html", status_code=error.status_code)

        return await submit(lambda: emails.resend(caller, email_id), f"/w/{ws}/emails/{email_id}?done=resent", again)

    @get("/previews")
    async def previews(self, request: Request, ws: FromPath[str], template: FromQuery[str] = "run_finished") -> Template:
        principal, caller = await page_scope(request, ws)
        mail = await emails.preview(caller, template)
        return await render(request, "email_previews.html", principal=principal, caller=caller, mail=mail,
                            chosen=template, categories=preferences.CATEGORIES.values(),
                            body=f"/w/{ws}/emails/previews/{template}/body.html")

    @get("/previews/{template:str}/body.html")
    async def preview_body(self, request: Request, ws: FromPath[str], template: FromPath[str]) -> Response:
        _, caller = await page_scope(request, ws)
        return _message((await emails.preview(caller, template)).html)

