"""The run pages as a signed-in person uses them: start a run from the form, see its results, approve
and apply selected recommendations, decide a review, edit content, tick action items, manage schedules
and connectors. Errors come back on the page with the field marked, never a 500."""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

import httpx

from agentledger.agents import launch, runner
from agentledger.platform.database import atomic
from agentledger.platform.executions.tables import Execution
from agentledger.platform.results.tables import ExecutionResult
from agentledger.platform.scoping import resolve_scope
from tests.support import agents  # noqa: F401 - registers the test agents
from tests.support.factories import csrf_from
from tests.support.fixtures import sign_in


async def signed_in_member(client, factory):
    team = await factory.team()
    await factory.credits("acme", 1000)
    assert (await sign_in(client, team.member.email, team.member.password)).status_code == 303
    return team


async def finished_run_page(client, factory, agent: str) -> tuple[Any, dict, str]:
    """Signed in as the member: ``agent`` run to its end, and its page."""
    team = await signed_in_member(client, factory)
    async with atomic():
        run = await launch.start(await resolve_scope("acme", team.member.id), launch.Request(agent, {}))
    await runner.run_execution(run["id"])
    return team, run, (await client.get(f"/w/acme/executions/{run['id']}")).text


async def form(client, path: str) -> str:
    return csrf_from((await client.get(path)).text)


async def test_start_a_run_from_the_page_and_see_its_results(client, factory, site):
    await signed_in_member(client, factory)
    token = await form(client, "/w/acme/executions")
    bad = await client.post("/w/acme/executions", data={"agent": "seo-audit", "inputs": "{start_url:", "scope": "",
                                                        "mode": "live", "_csrf_token": token})
    assert bad.status_code == 422 and "inputs must be JSON" in bad.text and 'aria-invalid="true"' in bad.text
    started = await client.post("/w/acme/executions", data={
        "agent": "seo-audit", "inputs": f'{{"start_url": "{site.url}/"}}', "scope": "60", "mode": "live",
        "_csrf_token": token})
    assert started.status_code == 303
    run_id = started.headers["location"].rsplit("/", 1)[1]

    await runner.run_execution(UUID(run_id))
    page = await client.get(f"/w/acme/executions/{run_id}")
    assert page.status_code == 200
    assert "SEO score" in page.text and "Recommendations" in page.text and "Add a title to /about" in page.text
    chart = re.search(r'src="(/w/acme/results/[^"]+/charts/0/0)"', page.text).group(1)
    svg = await client.get(chart)
    assert svg.headers["content-type"].startswith("image/svg+xml") and "<svg" in svg.text and "<script" not in svg.text
    assert "style-src 'unsafe-inline'" in svg.headers["content-security-policy"]
    listing = await client.get("/w/acme/executions")
    assert f"/w/acme/executions/{run_id}" in listing.text and "partial" in listing.text
    high = await client.get(f"/w/acme/executions/{run_id}?priority=high")
    assert "Add a title to /about" in high.text and "Resize the title" not in high.text


async def test_approve_and_apply_selected_from_the_page(client, factory, site):
    team = await signed_in_member(client, factory)
    async with atomic():
        run = await launch.start(await resolve_scope("acme", team.member.id),
                                 launch.Request("seo-audit", {"start_url": f"{site.url}/"}, 60))
    await runner.run_execution(run["id"])
    recs = await ExecutionResult.select().where((ExecutionResult.execution == run["id"]) & (
        ExecutionResult.kind == "recommendation")).output(load_json=True)
    about = next(r for r in recs if r["target"].endswith("/about") and r["field"] == "title")
    token = await form(client, f"/w/acme/executions/{run['id']}")
    nothing = await client.post(f"/w/acme/executions/{run['id']}/results",
                                data={"action": "approve", "_csrf_token": token})
    assert nothing.status_code == 422 and "tick the results to act on first" in nothing.text
    open_one = await client.post(f"/w/acme/executions/{run['id']}/results", follow_redirects=True,
                                 data={"action": "apply", "result_ids": [str(about["id"])], "_csrf_token": token})
    assert "0 applied, 0 failed, 1 skipped (it is open: approve it first)" in open_one.text
    reloaded = await client.get(f"/w/acme/executions/{run['id']}/results")  # the bar's address, reloaded
    assert reloaded.status_code == 303 and reloaded.headers["location"].endswith(f"/{run['id']}#recommendations")
    approved = await client.post(f"/w/acme/executions/{run['id']}/results",
                                 data={"action": "approve", "result_ids": [str(about["id"])], "_csrf_token": token})
    assert approved.status_code == 303
    page = await client.get(f"/w/acme/executions/{run['id']}?status=approved")
    assert page.text.count('name="result_ids"') == 1
    no_connector = await client.post(f"/w/acme/executions/{run['id']}/results", follow_redirects=True,
                                     data={"action": "apply", "result_ids": [str(about["id"])], "_csrf_token": token})
    assert "0 applied, 1 failed" in no_connector.text and "no connector" in no_connector.text
    await sign_in(client, team.admin.email, team.admin.password)
    token = await form(client, "/w/acme/connectors")
    added = await client.post("/w/acme/connectors", data={"name": "Demo shop", "base_url": site.url,
                                                          "secret": site.token, "_csrf_token": token})
    assert added.status_code == 303
    assert site.url in (await client.get("/w/acme/connectors")).text
    applied = await client.post(f"/w/acme/executions/{run['id']}/results", follow_redirects=True,
                                data={"action": "apply", "result_ids": [str(about["id"])], "_csrf_token": token})
    assert "1 applied, 0 failed" in applied.text
    assert about["body"]["after"] in httpx.get(f"{site.url}/about").text
    httpx.post(f"{site.url}/_demo/reset")


async def test_a_review_is_decided_on_the_page(client, factory):
    team = await signed_in_member(client, factory)
    async with atomic():
        run = await launch.start(await resolve_scope("acme", team.member.id), launch.Request("test-review", {}))
    await runner.run_execution(run["id"])
    page = await client.get(f"/w/acme/executions/{run['id']}")
    assert "Review needed: Check the copy" in page.text
    assert "You can edit the texts below first: what you save is what gets published." in page.text
    content = await ExecutionResult.select().where(ExecutionResult.execution == run["id"]).first()
    token = csrf_from(page.text)
    edited = await client.post(f"/w/acme/results/{content['id']}/content", data={"text": "Better copy.",
                                                                               "_csrf_token": token})
    assert edited.status_code == 303
    decided = await client.post(f"/w/acme/executions/{run['id']}/review",
                                data={"decision": "approve", "comment": "", "_csrf_token": token})
    assert decided.status_code == 303
    assert (await Execution.select().where(Execution.id == run["id"]).first())["status"] == "queued"
    after = await client.get(f"/w/acme/executions/{run['id']}")
    assert "Review needed" not in after.text and "version 2" in after.text and "Better copy." in after.text
    late = await client.post(f"/w/acme/executions/{run['id']}/review", data={"decision": "reject",
                                                                          "_csrf_token": token})
    assert late.status_code == 409 and "not waiting for a review" in late.text


async def test_action_items_tick_off_on_the_page(client, factory):
    team = await signed_in_member(client, factory)
    async with atomic():
        run = await launch.start(await resolve_scope("acme", team.member.id), launch.Request("test-results", {}))
    await runner.run_execution(run["id"])
    item = await ExecutionResult.select().where((ExecutionResult.execution == run["id"]) & (
        ExecutionResult.kind == "action_item")).first()
    token = await form(client, f"/w/acme/executions/{run['id']}")
    await client.post(f"/w/acme/results/{item['id']}/done", data={"done": "true", "_csrf_token": token})
    page = await client.get(f"/w/acme/executions/{run['id']}")
    assert 'class="done"' in page.text and "Reopen" in page.text


async def test_schedules_page_adds_toggles_and_deletes(client, factory):
    await signed_in_member(client, factory)
    token = await form(client, "/w/acme/schedules")
    bad = await client.post("/w/acme/schedules", data={"name": "Weekly", "cron": "mondays", "agent": "noop",
                                                       "inputs": "{}", "scope": "", "mode": "live",
                                                       "_csrf_token": token})
    assert bad.status_code == 422 and "cron must be 5 fields" in bad.text
    added = await client.post("/w/acme/schedules", data={"name": "Weekly", "cron": "0 6 * * 1", "agent": "noop",
                                                         "inputs": "{}", "scope": "2", "mode": "live",
                                                         "_csrf_token": token})
    assert added.status_code == 303
    page = (await client.get("/w/acme/schedules")).text
    schedule_id = re.search(r"/schedules/([0-9a-f-]{36})/toggle", page).group(1)
    await client.post(f"/w/acme/schedules/{schedule_id}/toggle", data={"_csrf_token": token})
    assert "Turn on" in (await client.get("/w/acme/schedules")).text
    await client.post(f"/w/acme/schedules/{schedule_id}/delete", data={"_csrf_token": token})
    assert "Nothing scheduled" in (await client.get("/w/acme/schedules")).text


async def test_members_cannot_add_connectors(client, factory):
    await signed_in_member(client, factory)
    page = await client.get("/w/acme/connectors")
    assert "Ask an admin" in page.text and "Connect a site" not in page.text
    refused = await client.post("/w/acme/connectors", data={"name": "x", "base_url": "https://x.example",
                                                            "secret": "s", "_csrf_token": csrf_from(page.text)})
    assert refused.status_code == 403


async def test_the_list_filters_by_url_and_pages_both_ways(client, factory):
    team = await signed_in_member(client, factory)
    scope = await resolve_scope("acme", team.member.id)
    ids = []
    for n in range(23):
        async with atomic():
            run = await launch.start(scope, launch.Request("noop" if n % 2 else "test-results", {},
                                                           mode="test" if n == 22 else "live"))
        ids.append(str(run["id"]))
    for run_id in ids[:3]:
        await runner.run_execution(UUID(run_id))
    first = await client.get("/w/acme/executions")
    assert first.text.count('data-run="') == 20 and ids[-1] in first.text and "← Newer" not in first.text
    older = re.search(r'href="(\?cursor=[^"]+)"', first.text).group(1)
    second = await client.get(f"/w/acme/executions{older.replace('&amp;', '&')}")
    assert second.text.count('data-run="') == 3 and ids[0] in second.text and "Older →" not in second.text
    newer = re.search(r'href="(\?newer=[^"]+)"', second.text).group(1)
    back = await client.get(f"/w/acme/executions{newer.replace('&amp;', '&')}")
    assert back.text.count('data-run="') == 20 and ids[-1] in back.text
    assert "Older →" in back.text and "← Newer" not in back.text  # back on the newest page
    completed = await client.get("/w/acme/executions?tab=completed")
    assert completed.text.count('data-run="') == 3 and 'aria-current="page">Completed' in completed.text
    filtered = await client.get("/w/acme/executions?agent=noop&status=queued&mode=live")
    assert filtered.text.count('data-run="') == 10  # noop (odd n) still queued: n = 3, 5, … 21
    assert (await client.get("/w/acme/executions?mode=test")).text.count('data-run="') == 1
    assert "score 72" in completed.text  # the preview of the test-results runs
    none = await client.get("/w/acme/executions?agent=link-checker")
    assert "No runs match these filters" in none.text
    typed = await client.get("/w/acme/executions?since=2020-01-01&until=2020-01-31")  # "When" left at any time
    assert "No runs match these filters" in typed.text and 'value="custom" selected' in typed.text
    preset = await client.get("/w/acme/executions?range=7d&since=2020-01-01&until=2020-01-31")  # a preset wins
    assert preset.text.count('data-run="') == 20 and 'value="7d" selected' in preset.text
    bad = await client.get("/w/acme/executions?range=custom&since=yesterday")
    assert bad.status_code == 422 and "since must be a date" in bad.text
    for _ in range(20):  # 43 runs: pages of 20, 20 and 3
        async with atomic():
            await launch.start(scope, launch.Request("noop", {}))
    top = await client.get("/w/acme/executions")
    middle = await client.get("/w/acme/executions" + re.search(r'href="(\?cursor=[^"]+)"', top.text).group(1))
    assert "← Newer" in middle.text and "Older →" in middle.text and middle.text.count('data-run="') == 20


async def test_run_page_actions_rerun_with_confirmed_cost_cancel_and_delete(client, factory):
    team = await signed_in_member(client, factory)
    scope = await resolve_scope("acme", team.member.id)
    async with atomic():
        run = await launch.start(scope, launch.Request("noop", {}, 4))
    page = await client.get(f"/w/acme/executions/{run['id']}")
    assert "4 held while the run lasts" in page.text and "Cancel" in page.text and "Delete" not in page.text
    token = csrf_from(page.text)
    early = await client.post(f"/w/acme/executions/{run['id']}/delete", data={"_csrf_token": token})
    assert early.status_code == 409 and "cancel the run first" in early.text
    await runner.run_execution(run["id"])
    done = await client.get(f"/w/acme/executions/{run['id']}")
    assert "4 of 4 items processed: 4 charged." in done.text and "Max Member" in done.text
    assert re.search(r"\d\d:\d\d:\d\d UTC</time>", done.text)  # times say which zone they are in
    code = await client.get(f"/w/acme/executions/{run['id']}/code")
    assert code.status_code == 200 and "class Noop" in code.text
    form = await client.get(f"/w/acme/executions/{run['id']}/rerun")
    assert "holds <strong>4 credits</strong>" in form.text
    changed = await client.post(f"/w/acme/executions/{run['id']}/rerun", data={
        "agent": "noop", "inputs": "{}", "scope": "6", "mode": "live", "confirmed_estimate": "4", "_csrf_token": token})
    assert changed.status_code == 200 and "The cost is now 6 credits" in changed.text
    started = await client.post(f"/w/acme/executions/{run['id']}/rerun", data={
        "agent": "noop", "inputs": "{}", "scope": "6", "mode": "live", "confirmed_estimate": "6", "_csrf_token": token})
    assert started.status_code == 303
    rerun_id = UUID(started.headers["location"].rsplit("/", 1)[1])
    rerun = await Execution.select().where(Execution.id == rerun_id).first()
    assert (rerun["rerun_of"], rerun["scope"], rerun["credits_reserved"]) == (run["id"], 6, 6)
    canceled = await client.post(f"/w/acme/executions/{rerun_id}/cancel", data={"_csrf_token": token})
    assert canceled.status_code == 303
    assert (await Execution.select().where(Execution.id == rerun_id).first())["status"] == "canceled"
    stopped = (await client.get(f"/w/acme/executions/{rerun_id}")).text  # canceled before it started:
    assert "Resume" not in stopped and "Retry" not in stopped and "Run again" in stopped  # nothing to go on from
    deleted = await client.post(f"/w/acme/executions/{run['id']}/delete", data={"_csrf_token": token})
    assert deleted.status_code == 303 and deleted.headers["location"] == "/w/acme/executions"
    assert (await client.get(f"/w/acme/executions/{run['id']}")).status_code == 404
    assert str(run["id"]) not in (await client.get("/w/acme/executions")).text
    from tests.support.books import assert_books_balance

    books = await assert_books_balance(run["workspace"])
    assert books["spent"] == 4  # deleting refunds nothing


async def test_the_api_deletes_finished_runs_only(client, factory):
    team = await factory.team()
    await factory.credits("acme", 10)
    async with atomic():
        run = await launch.start(await resolve_scope("acme", team.member.id), launch.Request("noop", {}))
    api = f"/api/v1/workspaces/acme/executions/{run['id']}"
    assert (await client.delete(api, headers=team.member.bearer)).status_code == 409
    await runner.run_execution(run["id"])
    assert (await client.delete(api, headers=team.outsider.bearer)).status_code == 404
    assert (await client.delete(api, headers=team.member.bearer)).status_code == 204
    assert (await client.get(api, headers=team.member.bearer)).status_code == 404
    assert (await client.get(api, headers=team.admin.bearer)).status_code == 404


async def test_the_step_timeline_shows_iterations_values_and_errors(client, factory):
    team, run, page = await finished_run_page(client, factory, "test-loop")
    assert page.count("iteration ") == 3 and "iteration 3" in page
    assert "RuntimeError: the site refused the upload" in page and "The run failed" in page
    assert "Resume from failed step" in page
    assert "data-toggle-raw" in page and "data-copy" in page and "errors-only" in page
    load = re.search(r'hx-get="([^"]+/steps/1/4/output)\?offset=0"', page)
    assert load, "a large output loads on demand"
    first = await client.get(f"{load.group(1)}?offset=0")
    assert first.status_code == 200 and first.text.count("<li>") == 20 and "Product 19" in first.text
    assert "Load more (80 left)" in first.text and "Product 20" not in first.text
    last = await client.get(f"{load.group(1)}?offset=80")
    assert "Product 99" in last.text and "Load more" not in last.text
    small = re.search(r'<pre class="mono view-raw" hidden>([^<]*bytes[^<]*)</pre>', page)
    assert small and '"status": 200' in small.group(1)  # small values are inline, raw JSON ready for the toggle
    assert (await client.get(f"/w/acme/executions/{run['id']}/steps/1/9/output")).status_code == 404
    assert (await client.get(f"/w/acme/executions/{run['id']}/steps/1/4/secrets")).status_code == 404


async def test_screenshots_show_in_a_grid_and_other_files_only_download(client, factory):
    team, run, page = await finished_run_page(client, factory, "test-screenshot")
    assert "Screenshots" in page and page.count('<ul class="shots">') == 1
    image = re.search(r'<img src="([^"]+)\?inline=1" alt="The home page"', page).group(1)
    shown = await client.get(f"{image}?inline=1")
    assert shown.status_code == 200
    assert shown.headers["content-disposition"].startswith("inline") and shown.content.startswith(b"\x89PNG")
    html = [u for u in re.findall(r'href="(/api/v1/workspaces/acme/results/[^"]+/download)"', page) if u != image][0]
    forced = await client.get(f"{html}?inline=1")
    assert forced.headers["content-disposition"].startswith("attachment")  # never rendered in our origin


async def test_extracted_data_reads_as_a_tree_with_its_raw_json_a_toggle_away(client, factory):
    team, run, page = await finished_run_page(client, factory, "test-results")
    data = page[page.index("Data: "):]
    data = data[:data.index("</details>")]
    assert re.search(r'<dt>count</dt><dd>\s*<span class="json-number">1</span>', data)
    assert '<pre class="mono view-raw" hidden>' in data and "data-toggle-raw" in data
