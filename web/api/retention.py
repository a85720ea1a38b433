"""API: a workspace's retention policy, archiving a run now, restore requests and retention alerts. Thin:
the retention domain checks roles and bounds."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, delete, get, post, put
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT

from agentledger.platform.database import atomic
from agentledger.platform.errors import Conflict, Forbidden, NotFound
from agentledger.platform.retention import service as retention
from agentledger.platform.retention.schemas import AlertOut, PolicyIn, PolicyOut, RestoreOut, TombstoneOut
from agentledger.platform.schemas import PageOut
from agentledger.platform.storage import StorageUnavailable
from agentledger.web.auth import Caller
from agentledger.web.responses import shaped

Id = FromPath[UUID]


def _policy(found: dict) -> PolicyOut:
    return shaped(PolicyOut, found, alerts=[shaped(AlertOut, a) for a in found["alerts"]])


class RetentionController(Controller):
    path = "/api/v1/workspaces/{ws:str}/retention"
    tags = ["retention"]

    @get("/", raises=[Forbidden], summary="The retention policy, in days, and how many runs the next pass archives "
                                         "under it (admins)")
    async def show(self, caller: Caller) -> PolicyOut:
        return _policy(await retention.view(caller))

    @put("/", raises=[Forbidden], status_code=HTTP_200_OK,
         summary="Change any of the policy's values (what is left out stays); each 1 to 3650 days (admins)")
    async def update(self, caller: Caller, data: JSONBody[PolicyIn]) -> PolicyOut:
        async with atomic():
            return _policy(await retention.update(caller, data.changes()))

    @post("/preview", raises=[Forbidden], status_code=HTTP_200_OK,
          summary="What the policy would be with these values, and how many runs the next pass would archive; "
                  "nothing is saved (admins)")
    async def preview(self, caller: Caller, data: JSONBody[PolicyIn]) -> PolicyOut:
        return _policy(await retention.preview(caller, data.changes()))

    @get("/requests", summary="Restore requests, open ones first (admins: all; members: their own)")
    async def requests(self, caller: Caller) -> PageOut[RestoreOut]:
        return PageOut([shaped(RestoreOut, r) for r in await retention.restore_requests(caller)], None)

    @post("/requests/{request_id:uuid}/approve", raises=[Forbidden, Conflict], status_code=HTTP_200_OK,
          summary="Approve a pending restore request: the run is brought back (admins)")
    async def approve(self, caller: Caller, request_id: Id) -> RestoreOut:
        async with atomic():
            return shaped(RestoreOut, await retention.decide_restore(caller, request_id, True))

    @post("/requests/{request_id:uuid}/reject", raises=[Forbidden, Conflict], status_code=HTTP_200_OK,
          summary="Reject a pending restore request (admins)")
    async def reject(self, caller: Caller, request_id: Id) -> RestoreOut:
        async with atomic():
            return shaped(RestoreOut, await retention.decide_restore(caller, request_id, False))

    @delete("/alerts/{alert_id:uuid}", raises=[Forbidden], status_code=HTTP_204_NO_CONTENT,
            summary="Dismiss a retention alert (admins)")
    async def dismiss(self, caller: Caller, alert_id: Id) -> None:
        async with atomic():
            await retention.dismiss(caller, alert_id)


class ArchiveController(Controller):
    path = "/api/v1/workspaces/{ws:str}/executions/{execution_id:uuid}"
    tags = ["retention"]

    @post("/archive", raises=[Forbidden, Conflict, StorageUnavailable], status_code=HTTP_200_OK,
          summary="Archive a finished run now, the way a retention pass does (admins)")
    async def archive(self, caller: Caller, execution_id: Id) -> TombstoneOut:
        found = await retention.archive_now(caller, execution_id)
        return TombstoneOut(found["id"], found["agent"], found["status"], found["archived_at"], found["archive_key"],
                            found["archive_size"], found["archive_sha256"])

    @post("/restore", raises=[Conflict], status_code=HTTP_202_ACCEPTED,
          summary="Ask for an archived run back (its starter, whoever it is shared with, admins); admins' own "
                  "requests, or all when the policy auto-approves, start at once")
    async def restore(self, caller: Caller, execution_id: Id) -> RestoreOut:
        async with atomic():
            return shaped(RestoreOut, await retention.ask_restore(caller, execution_id))

    @get("/restore", raises=[NotFound], summary="The run's latest restore request (404 when there is none)")
    async def restore_state(self, caller: Caller, execution_id: Id) -> RestoreOut:
        found = await retention.latest_restore(caller, execution_id)
        if found is None:
            raise NotFound("this run has no restore request")
        return shaped(RestoreOut, found)


controllers = [RetentionController, ArchiveController]
