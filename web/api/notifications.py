"""API: one's notification preferences (``/me/notifications``) and a workspace's emails for its admins
(the Emails page's list, one message with its headers and both parts, and "send again"). Thin: the
notifications domain checks roles, ranges and time zones."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from litestar import Controller, get, post, put
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK

from agentledger.notifications import emails, preferences
from agentledger.notifications.schemas import EmailDetailOut, EmailOut, PreferencesIn, PreferencesOut
from agentledger.platform.database import atomic
from agentledger.platform.errors import Conflict, Forbidden
from agentledger.platform.pagination import DEFAULT_LIMIT, PageRequest
from agentledger.platform.schemas import PageOut
from agentledger.web.api.paging import Cursor, Limit
from agentledger.web.auth import Caller, SignedIn
from agentledger.web.responses import shaped

Category = Literal[tuple(preferences.CATEGORIES)]  # type: ignore[valid-type]  # the schema's enum, from the one list


def _preferences(mine: preferences.Mine) -> PreferencesOut:
    return PreferencesOut(**mine.preferences.values(), effective_timezone=mine.effective_timezone)


class MyNotificationsController(Controller):
    path = "/api/v1/me/notifications"
    tags = ["notifications"]

    @get("/", summary="What emails I get: each category on or off, the thresholds, my digest's time zone")
    async def show(self, principal: SignedIn) -> PreferencesOut:
        return _preferences(await preferences.mine(principal.user_id))

    @put("/", status_code=HTTP_200_OK, summary="Change any of my notification preferences (what is left out stays)")
    async def update(self, principal: SignedIn, data: JSONBody[PreferencesIn]) -> PreferencesOut:
        async with atomic():
            return _preferences(await preferences.save(principal.user_id, data.changes()))


class EmailsController(Controller):
    path = "/api/v1/workspaces/{ws:str}/emails"
    tags = ["notifications"]

    @get("/", raises=[Forbidden], summary="The workspace's emails, newest first, with their delivery state (admins)")
    async def list_emails(
        self, caller: Caller, cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT,
        category: Annotated[Category | None, QueryParameter(description="the kind of email")] = None,
        status: Annotated[Literal["pending", "sent", "failed"] | None, QueryParameter()] = None,
        to: Annotated[str | None, QueryParameter(max_length=254, description="the recipient's address, exactly")] = None,
    ) -> PageOut[EmailOut]:
        found = await emails.page(caller, emails.Filters(category, status, to), PageRequest(cursor, limit))
        return PageOut([shaped(EmailOut, row) for row in found.items], found.next_cursor)

    @get("/{email_id:uuid}", raises=[Forbidden], summary="One email as sent: headers, plain text and HTML (admins)")
    async def email(self, caller: Caller, email_id: FromPath[UUID]) -> EmailDetailOut:
        return shaped(EmailDetailOut, await emails.get(caller, email_id))

    @post("/{email_id:uuid}/resend", raises=[Forbidden, Conflict], status_code=HTTP_200_OK,
          summary="Send a failed email again, the same message (409 unless it failed)")
    async def resend(self, caller: Caller, email_id: FromPath[UUID]) -> EmailDetailOut:
        async with atomic():
            return shaped(EmailDetailOut, await emails.resend(caller, email_id))


controllers = [MyNotificationsController, EmailsController]
