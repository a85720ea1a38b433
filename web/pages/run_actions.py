"""The run page's actions: cancel, pause, resume, run again (pre-filled, cost confirmed before it
starts), resume from the failed step or where it stopped, retry the failed items (cost confirmed
first), delete, and the code view. Each is a small form; errors come
back on the run page."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template

from agentledger.agents import launch
from agentledger.platform.database import atomic
from agentledger.platform.errors import AppError, Conflict, Invalid, NotFound
from agentledger.platform.executions import service
from agentledger.platform.retention import service as retention
from agentledger.web.pages.common import page_scope, render, see_other, submit
from agentledger.web.pages.runs import StartForm, run_page, start_request

CHUNK = 20  # array items (or object keys) per "Load more"


@dataclass
class RerunForm(StartForm):
    confirmed_estimate: str = ""


@dataclass
class ContinueForm:
    kind: str = ""
    confirmed_estimate: str = ""


class RunActionPages(Controller):
    path = "/w/{ws:str}/executions/{execution_id:uuid}"
    include_in_schema = False

    async def _act(self, request: Request, ws: str, execution_id: UUID, action: Any) -> Template | Redirect:
        """Run ``action(caller)`` in a transaction; go where it answers (a path), else back to the run."""
        _, caller = await page_scope(request, ws)
        return await submit(lambda: action(caller),
                            lambda target: target if isinstance(target, str) else f"/w/{ws}/executions/{execution_id}",
                            lambda error: run_page(request, ws, execution_id, error=error, status_code=error.status_code))

    @post("/archive")
    async def archive(self, request: Request, ws: FromPath[str], execution_id: FromPath[UUID]) -> Template | Redirect:
        """An admin archives a finished run now, the way a retention pass would. Not in the request's
        transaction: a checksum mismatch rolls the archive back but leaves its alert."""
        _, caller = await page_scope(request, ws)
        try:
            await retention.archive_now(caller, execution_id)
        except AppError as error:
            return await run_page(request, ws, execution_id, error=error, status_code=error.status_code)
        return see_other(f"/w/{ws}/executions/{execution_id}")

    @post("/restore")
    async def restore(self, request: Request, ws: FromPath[str], execution_id: FromPath[UUID]) -> Template | Redirect:
        """Ask for an archived run back (admins' own requests, or all under auto-approve, start at once)."""
        return await self._act(request, ws, execution_id, lambda caller: retention.ask_restore(caller, execution_id))

    @post("/cancel")
    async def cancel(self, request: Request, ws: FromPath[str], execution_id: FromPath[UUID]) -> Template | Redirect:
        return await self._act(request, ws, execution_id, lambda caller: service.cancel(caller, execution_id))

    @post("/pause")
    async def pause(self, request: Request, ws: FromPath[str], execution_id: FromPath[UUID]) -> Template | Redirect:
        return await self._act(request, ws, execution_id, lambda caller: service.pause(caller, execution_id))

    @post("/resume")
    async def resume(self, request: Request, ws: FromPath[str], execution_id: FromPath[UUID]) -> Template | Redirect:
        return await self._act(request, ws, execution_id, lambda caller: service.resume(caller, execution_id))

    @get("/continue")
    async def continue_form(self, request: Request, ws: FromPath[str], execution_id: FromPath[UUID]) -> Template:
        """What resuming (or retrying the failed items) would hold, to confirm before anything is reserved."""
        principal, caller = await page_scope(request, ws)
        original = await service.get(caller, execution_id)
        try:
            plan = await launch.continuation(caller, execution_id)
        except AppError as error:
            return await run_page(request, ws, execution_id, error=error, status_code=error.status_code)
        return await render(request, "continue.html", principal=principal, caller=caller, original=original,
                            plan=plan)

    @post("/continue")
    async def go_on(self, request: Request, ws: FromPath[str], execution_id: FromPath[UUID],
                    data: URLEncodedBody[ContinueForm]) -> Template | Redirect:
        """Starts only when the way and the cost the person confirmed still hold; otherwise asks again."""
        async def start(caller: Any) -> str:
            try:
                run = await launch.go_on(caller, execution_id, data.kind, confirmed_estimate=int(
                    data.confirmed_estimate) if data.confirmed_estimate.isdigit() else -1)
            except Conflict as moved:
                if moved.field != "confirmed_estimate":
                    raise
                return f"/w/{ws}/executions/{execution_id}/continue"  # show the new cost, confirm again
            return f"/w/{ws}/executions/{run['id']}"

        return await self._act(request, ws, execution_id, start)

    @post("/delete")
    async def delete(self, request: Request, ws: FromPath[str], execution_id: FromPath[UUID]) -> Template | Redirect:
        async def remove(caller: Any) -> str:
            await service.delete(caller, execution_id)
            return f"/w/{ws}/executions"

        return await self._act(request, ws, execution_id, remove)

    async def _rerun_page(self, request: Request, ws: str, execution_id: UUID, form: RerunForm | None = None,
                          status_code: int = 200, **context: Any) -> Template:
        principal, caller = await page_scope(request, ws)
        original = await service.get(caller, execution_id)
        form = form or RerunForm(agent=original["agent"], inputs=json.dumps(original["inputs"], indent=2),
                                 scope=str(original["scope"]), mode=original["mode"])
        estimate = None
        try:
            estimate = await launch.estimate(caller, start_request(form))
        except AppError as error:
            context.setdefault("error", error)
            status_code = max(status_code, error.status_code)
        return await render(request, "rerun.html", principal=principal, caller=caller, original=original,
                            form=form, estimate=estimate, status_code=status_code, **context)

    @get("/rerun")
    async def rerun_form(self, request: Request, ws: FromPath[str], execution_id: FromPath[UUID]) -> Template:
        return await self._rerun_page(request, ws, execution_id)

    @post("/rerun")
    async def rerun(self, request: Request, ws: FromPath[str], execution_id: FromPath[UUID],
                    data: URLEncodedBody[RerunForm]) -> Template | Redirect:
        """Starts only when the cost the person confirmed is still the cost; otherwise shows the new one."""
        _, caller = await page_scope(request, ws)
        try:
            wanted = start_request(data)
            estimate = await launch.estimate(caller, wanted)
            if str(estimate.estimate) != data.confirmed_estimate:
                return await self._rerun_page(request, ws, execution_id, data, notice=(
                    f"The cost is now {estimate.estimate} credits (the inputs changed); confirm again to start."))
            async with atomic():
                run = await launch.rerun(caller, execution_id, wanted.inputs, wanted.scope, wanted.mode)
        except AppError as error:
            return await self._rerun_page(request, ws, execution_id, data, error=error, status_code=error.status_code)
        return see_other(f"/w/{ws}/executions/{run['id']}")

    @get("/steps/{attempt:int}/{position:int}/{part:str}")
    async def step_chunk(self, request: Request, ws: FromPath[str], execution_id: FromPath[UUID],
                         attempt: FromPath[int], position: FromPath[int], part: FromPath[str]) -> Template:
        """A large step input or output, 20 array items (or keys) at a time, for the timeline's "Load"."""
        _, caller = await page_scope(request, ws)
        if part not in ("input", "output"):
            raise NotFound("no such part of a step")
        value = await service.step_value(caller, execution_id, attempt, position, part)
        try:
            offset = max(0, int(request.query_params.get("offset", "0")))
        except ValueError:
            raise Invalid("offset must be a whole number", field="offset") from None
        chunk, left = value, 0
        if isinstance(value, list):
            chunk, left = value[offset:offset + CHUNK], max(0, len(value) - offset - CHUNK)
        elif isinstance(value, dict):
            keys = list(value)[offset:offset + CHUNK]
            chunk, left = {k: value[k] for k in keys}, max(0, len(value) - offset - CHUNK)
        return Template("_step_chunk.html", context={"chunk": chunk, "remaining": left, "url": request.url.path,
                                                     "next_offset": offset + CHUNK if left else None})

    @get("/code")
    async def code(self, request: Request, ws: FromPath[str], execution_id: FromPath[UUID]) -> Template:
        principal, caller = await page_scope(request, ws)
        row = await service.code(caller, execution_id)
        return await render(request, "code.html", principal=principal, caller=caller, code=row,
                            execution_id=execution_id)
