"""Starting a run from the pages: the form for the chosen agent (``run_form``), its live estimate
("holds up to 65 credits; 9,740 available"), and the POST that starts the run. The estimate is the one
``launch.estimate`` gives the API and "Run again", so the three never disagree."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from litestar import Controller, Request, get
from litestar.params import FromPath
from litestar.response import Redirect, Template

from agentledger.agents import launch
from agentledger.agents.registry import all_agents, get_agent
from agentledger.platform.database import atomic
from agentledger.platform.errors import AppError, NotFound
from agentledger.platform.scoping import Scope
from agentledger.web.pages import run_form
from agentledger.web.pages.common import page_scope, render, see_other

DEFAULT_AGENT = "seo-audit"


def _agents() -> list[Any]:
    return [a for a in all_agents() if not a.name.startswith("test-")]


def _agent(name: str | None) -> Any:
    try:
        return get_agent(name or DEFAULT_AGENT)
    except NotFound:
        return get_agent(DEFAULT_AGENT)


async def _estimate(caller: Scope, form: run_form.RunForm) -> tuple[launch.Estimate | None, str | None]:
    """The estimate for what the form holds now, or the first reason there is none yet (in words)."""
    if form.has_errors:
        first = next((f.error for f in form.fields if f.error), None) or next(iter(form.errors.values()))
        return None, first
    try:
        request = launch.Request(form.agent.name, run_form.request_inputs(form),
                                 int(form.scope) if form.scope else None, form.mode)
        return await launch.estimate(caller, request), None
    except AppError as error:  # worded as it would stand next to its field, without marking the field yet
        probe = run_form.RunForm(form.agent, [replace(f) for f in form.fields], use_raw=form.use_raw)
        run_form.place(probe, error)
        return None, next((f.error for f in probe.fields if f.error), None) or next(iter(probe.errors.values()))


async def _page(request: Request, ws: str, form: run_form.RunForm, *, status_code: int = 200) -> Template:
    principal, caller = await page_scope(request, ws)
    estimate, waiting_for = await _estimate(caller, form)
    return await render(request, "run_new.html", principal=principal, caller=caller, form=form, agents=_agents(),
                        estimate=estimate, waiting_for=waiting_for, mode=form.mode, status_code=status_code)


class RunStartPages(Controller):
    path = "/w/{ws:str}/executions/new"
    include_in_schema = False

    @get("/")
    async def new(self, request: Request, ws: FromPath[str]) -> Template:
        """The form for ``?agent=…``, pre-filled for the workspace's connected site."""
        _, caller = await page_scope(request, ws)
        agent = _agent(request.query_params.get("agent"))
        form = run_form.blank(agent, await launch.suggested_inputs(caller, agent.name))
        return await _page(request, ws, form)

    @get("/estimate")
    async def estimate(self, request: Request, ws: FromPath[str]) -> Template:
        """The estimate line for the form's current values (the page asks as the person types)."""
        _, caller = await page_scope(request, ws)
        query = request.query_params
        form = run_form.parse(_agent(query.get("agent")), {k: query.get(k) for k in query})
        estimate, waiting_for = await _estimate(caller, form)
        return Template("_estimate.html", context={"estimate": estimate, "waiting_for": waiting_for,
                                                   "mode": form.mode})


async def start(request: Request, ws: str) -> Template | Redirect:
    """The POST of the form (routed by the list's controller, which owns ``/w/{ws}/executions``)."""
    _, caller = await page_scope(request, ws)
    data = await request.form()
    values = {key: data.get(key) for key in data}
    form = run_form.parse(_agent(values.get("agent")), values)
    if values.get("agent") and values["agent"] != form.agent.name:
        form.errors["agent"] = f"no agent is called '{values['agent']}'"
    if form.has_errors:
        return await _page(request, ws, form, status_code=422)
    try:
        wanted, _ = await launch.with_preview(launch.Request(
            form.agent.name, run_form.request_inputs(form), int(form.scope) if form.scope else None, form.mode))
        async with atomic():
            run = await launch.start(caller, wanted)
    except AppError as error:
        run_form.place(form, error)
        return await _page(request, ws, form, status_code=error.status_code)
    return see_other(f"/w/{ws}/executions/{run['id']}")
