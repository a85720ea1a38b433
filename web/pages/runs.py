"""Pages for runs: the list (with a start form), the run page with its results, and the forms that act
on them (review decisions, approve/reject/apply, content edits, action items). Charts are served as
SVG images so the pages keep a CSP without inline styles."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template

from agentledger.agents import launch
from agentledger.agents.registry import all_agents
from agentledger.billing import purchases
from agentledger.platform import workspaces
from agentledger.platform.clock import now
from agentledger.platform.database import atomic
from agentledger.platform.errors import AppError, Invalid
from agentledger.platform.executions import events, listing, reviews, states
from agentledger.platform.executions import service as executions
from agentledger.platform.executions.present import listed, present
from agentledger.platform.pagination import ALL, MAX_LIMIT, PageRequest, encode_cursor
from agentledger.platform.results import notices, service
from agentledger.platform.results.present import present as present_result
from agentledger.platform.results.records import priority_rank
from agentledger.platform.retention import service as retention
from agentledger.platform.scoping import Scope
from agentledger.platform.sharing import service as sharing
from agentledger.web.pages import flash, run_form, run_start
from agentledger.web.pages.common import chart_response, page_scope, render, see_other

KIND_ORDER = ("score", "recommendation", "content", "action_item", "report", "extracted", "artifact")


@dataclass
class StartForm:
    agent: str = ""
    inputs: str = "{}"
    scope: str = ""
    mode: str = "live"


@dataclass
class ReviewForm:
    decision: str = ""
    comment: str = ""


@dataclass
class ResultsForm:
    action: str = ""
    result_ids: list[str] | str = field(default_factory=list)  # one checkbox ticked arrives as a string


@dataclass
class ContentForm:
    text: str = ""


@dataclass
class DoneForm:
    done: str = "true"


def start_request(form: StartForm) -> launch.Request:
    """The start form (JSON inputs, optional scope) as a launch request; bad fields are 422s naming them."""
    inputs = run_form.json_inputs(form.inputs)
    scope = form.scope.strip()
    if scope and not scope.isdigit():
        raise Invalid("scope must be a whole number", field="scope")
    return launch.Request(form.agent, inputs, int(scope) if scope else None, form.mode)


PAGE_SIZE = 20
RANGES = {"day": timedelta(days=1), "7d": timedelta(days=7), "30d": timedelta(days=30)}


@dataclass
class FiltersView:
    """The list's filters as the URL carries them, so a filtered view can be bookmarked."""

    tab: str = "all"
    statuses: list[str] = field(default_factory=list)
    agent: str = ""
    outcome: str = ""
    range: str = ""
    since: str = ""
    until: str = ""
    triggered_by: str = ""
    mode: str = ""
    started_by: str = ""

    def filters(self) -> listing.Filters:
        statuses = tuple(self.statuses) or states.TABS.get(self.tab, ())
        since = until = None
        if self.range in RANGES:
            since = now() - RANGES[self.range]
        elif self.range == "custom":
            since, until = _day(self.since, "since"), _day(self.until, "until", end=True)
        started_by = None
        if self.started_by:
            try:
                started_by = UUID(self.started_by)
            except ValueError:
                raise Invalid("choose a member from the list", field="started_by") from None
        return listing.Filters(self.agent or None, statuses, self.outcome or None, since, until,
                               self.triggered_by or None, self.mode or None, started_by)

    def link(self, **changes: Any) -> str:
        """This view's URL with ``changes`` (tabs and pages keep the other filters)."""
        values = {**asdict(self), **changes}
        pairs = [("status", s) for s in values.pop("statuses")] + [(k, v) for k, v in values.items() if v and not (
            k == "tab" and v == "all")]
        return "?" + urlencode(pairs)


def _day(value: str, name: str, *, end: bool = False) -> datetime | None:
    if not value:
        return None
    try:
        day = datetime.fromisoformat(value).replace(tzinfo=UTC)
    except ValueError:
        raise Invalid(f"{name} must be a date like 2026-11-01", field=name) from None
    return day + timedelta(days=1) if end else day


def filters_view(query: Any) -> FiltersView:
    known = {f for f in FiltersView.__dataclass_fields__ if f != "statuses"}
    view = FiltersView(statuses=list(query.getall("status", [])),
                       **{k: query.get(k, "") for k in known if query.get(k)})
    if view.range not in RANGES and (view.since or view.until):
        view.range = "custom"  # dates typed in mean those dates, whether or not "custom…" was picked
    return view


def _ids(values: list[str]) -> list[UUID]:
    try:
        return [UUID(v) for v in values]
    except ValueError:
        raise Invalid("select results from the list", field="result_ids") from None


async def results_by_kind(scope: Scope, execution_id: UUID, filters: dict[str, str | None], *,
                          files_base: str | None = None) -> tuple[dict[str, list], bool]:
    """A run's results grouped by kind for the pages (recommendations filtered and sorted as asked), and
    whether there are more than one page holds."""
    rows, more = await service.page(scope, execution_id, PageRequest(None, MAX_LIMIT))
    grouped: dict[str, list] = {kind: [] for kind in KIND_ORDER}
    for result in rows:
        if result["kind"] == "recommendation" and any(
                filters.get(k) and result[k] != filters[k] for k in ("priority", "status")):
            continue
        grouped[result["kind"]].append(present_result(result, workspace_slug=scope.workspace_slug,
                                                      files_base=files_base))
    if filters.get("sort") == "priority":  # high first; otherwise in the order the agent found them
        grouped["recommendation"].sort(key=lambda r: priority_rank(r.priority))
    return grouped, more is not None


async def run_page(request: Request, ws: str, execution_id: UUID, *, status_code: int = 200,
                   **context: Any) -> Template:
    """The run page (its actions re-render it with their error or notice)."""
    principal, caller = await page_scope(request, ws)
    after = await events.latest(events.run_key(execution_id))  # before the read: no event falls between
    row, children = await executions.read(caller, execution_id)
    run = present(row, children)
    filters = {k: request.query_params.get(k) or None for k in ("priority", "status", "sort")}
    grouped, more = await results_by_kind(caller, execution_id, filters)
    pending = await reviews.pending(execution_id)
    decisions = await reviews.decisions(caller, execution_id)  # the review card: decision, comment, who, when
    restore = await retention.latest_restore(caller, execution_id) if run.archived_at else None
    return await render(request, "execution.html", principal=principal, caller=caller, run=run,
                        results=grouped, more_results=more, filters=filters, review=pending, after=after,
                        review_decisions=decisions, restore=restore,
                        credit_story=states.credit_story(row), can_act=executions.may_act(caller, row),
                        chart_base=f"/w/{ws}/results", shared_with=len(await sharing.shares(caller, row)),
                        status_code=status_code, **context)


class RunPages(Controller):
    path = "/w/{ws:str}"
    include_in_schema = False

    async def _list(self, request: Request, ws: str, *, status_code: int = 200, **context: Any) -> Template:
        principal, caller = await page_scope(request, ws)
        after = await events.latest(events.workspace_key(caller.workspace_id))  # before the read: no gap
        query = request.query_params
        view = filters_view(query)
        runs, older, newer = [], None, None
        try:
            filters = view.filters()
            newer_cursor = query.get("newer")
            rows, more = await listing.page(caller, filters, PageRequest(newer_cursor or query.get("cursor"),
                                                                         PAGE_SIZE), newer=bool(newer_cursor))
            runs = [listed(r) for r in rows]
            if rows:  # "Older" and "Newer" exist when rows lie that way: beyond this page, or where we came from
                came_from_newer, came_from_older = bool(query.get("cursor")) and not newer_cursor, bool(newer_cursor)
                if came_from_older or more:
                    older = encode_cursor(rows[-1]["created_at"], rows[-1]["id"])
                if came_from_newer or (came_from_older and more):
                    newer = encode_cursor(rows[0]["created_at"], rows[0]["id"])
        except AppError as error:
            context.setdefault("error", error)
            status_code = max(status_code, error.status_code)
        members = (await workspaces.list_members(caller, ALL)).items if caller.is_admin else []
        first_page = not query.get("cursor") and not query.get("newer")
        only_status = not any((view.agent, view.outcome, view.range, view.since, view.until, view.triggered_by,
                               view.mode, view.started_by))
        statuses = tuple(view.statuses) or states.TABS.get(view.tab, ())
        return await render(request, "executions.html", principal=principal, caller=caller, runs=runs, after=after,
                            older=older, newer=newer, view=view, members=members,
                            live_rows=first_page and only_status, live_statuses=statuses,
                            agents=[a for a in all_agents() if not a.name.startswith("test-")],
                            wallet_warning=await purchases.warning(caller), status_code=status_code, **context)

    @get("/executions")
    async def list_runs(self, request: Request, ws: FromPath[str]) -> Template:
        return await self._list(request, ws)

    @post("/executions")
    async def start(self, request: Request, ws: FromPath[str]) -> Template | Redirect:
        return await run_start.start(request, ws)

    @get("/executions/{execution_id:uuid}")
    async def show(self, request: Request, ws: FromPath[str], execution_id: FromPath[UUID]) -> Template:
        """The run page, with the notice of the form that redirected here (shown once)."""
        return await run_page(request, ws, execution_id, **flash.take(request, execution_id))

    @post("/executions/{execution_id:uuid}/review")
    async def review(self, request: Request, ws: FromPath[str], execution_id: FromPath[UUID],
                     data: URLEncodedBody[ReviewForm]) -> Template | Redirect:
        _, caller = await page_scope(request, ws)
        try:
            async with atomic():
                await reviews.decide(caller, execution_id, data.decision, data.comment.strip() or None)
        except AppError as error:
            return await run_page(request, ws, execution_id, error=error, status_code=error.status_code)
        flash.put(request, execution_id, notices.reviewed(data.decision))
        return see_other(f"/w/{ws}/executions/{execution_id}#review")

    @post("/executions/{execution_id:uuid}/results")
    async def act(self, request: Request, ws: FromPath[str], execution_id: FromPath[UUID],
                  data: URLEncodedBody[ResultsForm]) -> Template | Redirect:
        """Approve, reject or apply the selected results (the bulk bar of the results table); what it did
        is the notice of the page it redirects to."""
        _, caller = await page_scope(request, ws)
        try:
            ids = _ids(data.result_ids if isinstance(data.result_ids, list) else [data.result_ids])
            if not ids:
                raise Invalid("tick the results to act on first", field="result_ids")
            if data.action == "apply":
                notice = notices.applied(await service.apply(caller, execution_id, ids))
            elif data.action in ("approve", "reject"):
                async with atomic():
                    rows = await service.decide_many(caller, execution_id, ids, data.action)
                notice = notices.decided(data.action, rows)
            else:
                raise Invalid("choose approve, reject or apply", field="action")
        except AppError as error:
            return await run_page(request, ws, execution_id, error=error, status_code=error.status_code)
        flash.put(request, execution_id, notice)
        return see_other(f"/w/{ws}/executions/{execution_id}#recommendations")

    @get("/executions/{execution_id:uuid}/results")
    async def act_reloaded(self, request: Request, ws: FromPath[str], execution_id: FromPath[UUID]) -> Redirect:
        """The address the bulk bar posts to, reloaded or bookmarked: the run page it came from."""
        await page_scope(request, ws)
        return see_other(f"/w/{ws}/executions/{execution_id}#recommendations")

    @post("/results/{result_id:uuid}/content")
    async def edit_content(self, request: Request, ws: FromPath[str], result_id: FromPath[UUID],
                           data: URLEncodedBody[ContentForm]) -> Template | Redirect:
        _, caller = await page_scope(request, ws)
        row = await service.get(caller, result_id)
        try:
            async with atomic():
                edited = await service.edit_content(caller, result_id, data.text)
        except AppError as error:
            return await run_page(request, ws, row["execution"], error=error, status_code=error.status_code)
        flash.put(request, row["execution"], notices.edited(edited))
        return see_other(f"/w/{ws}/executions/{row['execution']}#content")

    @post("/results/{result_id:uuid}/done")
    async def tick(self, request: Request, ws: FromPath[str], result_id: FromPath[UUID],
                   data: URLEncodedBody[DoneForm]) -> Redirect:
        _, caller = await page_scope(request, ws)
        async with atomic():
            row = await service.set_done(caller, result_id, data.done == "true")
        flash.put(request, row["execution"], notices.ticked(row))
        return see_other(f"/w/{ws}/executions/{row['execution']}#action-items")

    @get("/results/{result_id:uuid}/charts/{section:int}/{index:int}")
    async def chart(self, request: Request, ws: FromPath[str], result_id: FromPath[UUID], section: FromPath[int],
                    index: FromPath[int]) -> Response[str]:
        """A report chart as SVG (``common.chart_response``)."""
        _, caller = await page_scope(request, ws)
        return chart_response(request, await service.get(caller, result_id), section, index,
                              {"cache-control": "private, max-age=300"})
