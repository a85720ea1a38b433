"""API: share a run with teammates (they may read it) and through password-protected links."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec
from litestar import Controller, delete, get, post, put
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from agentledger.platform.database import atomic
from agentledger.platform.errors import Conflict, Forbidden, TooManyRequests
from agentledger.platform.executions import service as executions
from agentledger.platform.schemas import Input
from agentledger.platform.sharing import links, service
from agentledger.web.auth import Caller
from agentledger.web.responses import shaped

Id = FromPath[UUID]


class ShareOut(msgspec.Struct):
    user_id: UUID
    name: str
    email: str
    shared_by_name: str | None
    created_at: datetime


class LinkIn(Input):
    password: str
    expires_in_days: int = links.DEFAULT_DAYS


class FailuresOut(msgspec.Struct):
    """Wrong passwords given for the link in the last ``window_seconds``."""

    count: int
    window_seconds: int
    last_at: datetime | None
    locked: bool  # for everyone, after too many from all addresses together
    locked_until: datetime | None
    addresses_locked: int  # addresses locked out of this link right now (after too many from each)


class LinkOut(msgspec.Struct):
    id: UUID
    prefix: str
    active: bool
    created_by_name: str | None
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    opened_at: datetime | None
    opens: int
    failures: FailuresOut
    url: str | None = None  # only in the answer that creates the link


class SharingOut(msgspec.Struct):
    people: list[ShareOut]
    links: list[LinkOut] | None  # null for someone the run was only shared with


def share_out(share: service.Share) -> ShareOut:
    return shaped(ShareOut, share)


def link_out(link: links.Link, token: str | None = None) -> LinkOut:
    f = link.failures  # the lockout's names for what the API has always called count, last_at, addresses_locked
    failures = shaped(FailuresOut, f, count=f.failures, last_at=f.last_failed_at, addresses_locked=f.sources_locked)
    return shaped(LinkOut, link, failures=failures, url=links.url(token) if token else None)


class SharingController(Controller):
    path = "/api/v1/workspaces/{ws:str}/executions/{execution_id:uuid}"
    tags = ["sharing"]

    @get("/sharing", summary="Whom the run is shared with, and its links (links: for whoever may change the run)")
    async def sharing(self, caller: Caller, execution_id: Id) -> SharingOut:
        run = await executions.get(caller, execution_id)
        people = [share_out(s) for s in await service.shares(caller, run)]
        shown = [link_out(k) for k in await links.links(caller, run)] if executions.may_act(caller, run) else None
        return SharingOut(people, shown)

    @put("/shares/{user_id:uuid}", raises=[Forbidden, Conflict], status_code=HTTP_200_OK,
         summary="Share the run with a member: they may read it (sharing again changes nothing)")
    async def share(self, caller: Caller, execution_id: Id, user_id: Id) -> ShareOut:
        async with atomic():
            return share_out(await service.share(caller, execution_id, user_id))

    @delete("/shares/{user_id:uuid}", raises=[Forbidden], status_code=HTTP_204_NO_CONTENT, summary="Stop sharing the run with a member")
    async def unshare(self, caller: Caller, execution_id: Id, user_id: Id) -> None:
        async with atomic():
            await service.unshare(caller, execution_id, user_id)

    @post("/links", raises=[Forbidden], status_code=HTTP_201_CREATED,
          summary="A password-protected link to the run's results; its url is shown only in this answer")
    async def create_link(self, caller: Caller, execution_id: Id, data: JSONBody[LinkIn]) -> LinkOut:
        async with atomic():
            link, token = await links.create(caller, execution_id, data.password, data.expires_in_days)
        return link_out(link, token)

    @delete("/links/{link_id:uuid}", raises=[Forbidden], status_code=HTTP_204_NO_CONTENT, summary="Revoke a link now")
    async def revoke_link(self, caller: Caller, execution_id: Id, link_id: Id) -> None:
        async with atomic():
            await links.revoke(caller, execution_id, link_id)

    @post("/links/{link_id:uuid}/unlock", raises=[Forbidden, TooManyRequests], status_code=HTTP_200_OK,
          summary="Lift the link's lockout after wrong passwords, for every address; answers the link")
    async def unlock_link(self, caller: Caller, execution_id: Id, link_id: Id) -> LinkOut:
        async with atomic():
            link, _ = await links.lift_lockout(caller, execution_id, link_id)
        return link_out(link)


controllers = [SharingController]
