"""What the run page says after someone acts on results: every results form answers 303 and its notice
arrives through the redirect (once, on that run's page), approve and reject say how many, and an apply
that applied nothing is a warning with the reason, never a green success banner."""

from __future__ import annotations

import re

from agentledger.agents import launch, runner
from agentledger.platform.database import atomic
from agentledger.platform.results.tables import ExecutionResult
from agentledger.platform.scoping import resolve_scope
from tests.support import agents  # noqa: F401 - registers the test agents
from tests.support.factories import csrf_from
from tests.support.fixtures import sign_in


async def signed_in_run(client, factory, agent="test-results"):
    team = await factory.team()
    await factory.credits("acme", 1000)
    assert (await sign_in(client, team.member.email, team.member.password)).status_code == 303
    async with atomic():
        run = await launch.start(await resolve_scope("acme", team.member.id), launch.Request(agent, {}))
    await runner.run_execution(run["id"])
    page = f"/w/acme/executions/{run['id']}"
    return team, run["id"], page, csrf_from((await client.get(page)).text)


async def of_kind(run_id, kind):
    return await ExecutionResult.select().where((ExecutionResult.execution == run_id) & (
        ExecutionResult.kind == kind)).order_by(ExecutionResult.seq).output(load_json=True)


def alert(html: str) -> tuple[str, str] | None:
    """The page's notice as (kind, text), or None."""
    found = re.search(r'<div class="alert (\w+)" role="status">([^<]*)</div>', html)
    return (found.group(1), found.group(2)) if found else None


async def landed(client, response, page: str) -> str:
    assert response.status_code == 303, response.text[:300]
    assert response.headers["location"].split("#")[0] == page
    return (await client.get(response.headers["location"])).text


async def test_apply_with_nothing_approved_is_a_warning_that_says_why(client, factory):
    team, run_id, page, token = await signed_in_run(client, factory)
    recs = await of_kind(run_id, "recommendation")
    answer = await client.post(f"{page}/results", data={"action": "apply", "result_ids": [str(recs[0]["id"])],
                                                       "_csrf_token": token})
    shown = alert(await landed(client, answer, page))
    assert shown is not None and shown[0] == "warning", shown
    assert shown[1].startswith("Nothing was applied: tick approved recommendations first.")
    assert "1 skipped (it is open: approve it first)" in shown[1]
    assert alert((await client.get(page)).text) is None  # shown once: a reload does not repeat it


async def test_approve_and_reject_say_what_they_did(client, factory):
    team, run_id, page, token = await signed_in_run(client, factory)
    ids = [str(r["id"]) for r in await of_kind(run_id, "recommendation")]
    approved = await client.post(f"{page}/results", data={"action": "approve", "result_ids": ids,
                                                         "_csrf_token": token})
    assert alert(await landed(client, approved, page)) == ("success", "Approved 2 recommendations")
    rejected = await client.post(f"{page}/results", data={"action": "reject", "result_ids": ids[0],
                                                         "_csrf_token": token})
    assert alert(await landed(client, rejected, page)) == ("success", "Rejected 1 recommendation")
    statuses = [r["status"] for r in await of_kind(run_id, "recommendation")]
    assert statuses == ["rejected", "approved"]


async def test_content_and_action_item_forms_redirect_and_a_reload_changes_nothing(client, factory):
    team, run_id, page, token = await signed_in_run(client, factory)
    [content] = await of_kind(run_id, "content")
    saved = await client.post(f"/w/acme/results/{content['id']}/content", data={"text": "A roomier pack.",
                                                                            "_csrf_token": token})
    assert alert(await landed(client, saved, page)) == (
        "success", "Saved your edit of Pack: what is saved is what gets published.")
    for _ in range(2):  # reloading the page it landed on is a GET: no version 3
        assert alert((await client.get(page)).text) is None
    assert (await of_kind(run_id, "content"))[0]["body"]["version"] == 2
    [item] = await of_kind(run_id, "action_item")
    done = await client.post(f"/w/acme/results/{item['id']}/done", data={"done": "true", "_csrf_token": token})
    assert alert(await landed(client, done, page)) == ("success", "Marked done: Fix the broken link on /about")
    reopened = await client.post(f"/w/acme/results/{item['id']}/done", data={"done": "false", "_csrf_token": token})
    assert alert(await landed(client, reopened, page)) == ("success", "Reopened: Fix the broken link on /about")


async def test_a_review_decision_redirects_with_its_notice(client, factory):
    team, run_id, page, token = await signed_in_run(client, factory, "test-review")
    decided = await client.post(f"{page}/review", data={"decision": "approve", "comment": "ship it",
                                                       "_csrf_token": token})
    assert alert(await landed(client, decided, page)) == (
        "success", "Approved: the run is queued to go on with its next steps.")


async def test_a_notice_shows_on_its_own_run_only(client, factory):
    team, run_id, page, token = await signed_in_run(client, factory)
    async with atomic():
        other = await launch.start(await resolve_scope("acme", team.member.id), launch.Request("noop", {}))
    ids = [str(r["id"]) for r in await of_kind(run_id, "recommendation")]
    answer = await client.post(f"{page}/results", data={"action": "approve", "result_ids": ids,
                                                       "_csrf_token": token})
    assert answer.status_code == 303
    assert alert((await client.get(f"/w/acme/executions/{other['id']}")).text) is None
    assert alert((await client.get(page)).text) == ("success", "Approved 2 recommendations")
    injected = await client.get(f"{page}?notice=Your+account+is+closed&notice_kind=error")
    assert alert(injected.text) is None and "Your account is closed" not in injected.text
