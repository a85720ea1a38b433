"""Schedules: checked like a start, fired when due with 'triggered by: schedule', recorded as failed
(never skipped) when a run cannot start, stopped when their creator leaves; end to end through the
real scheduler and worker processes. Edited (every form error at once), run now (credits held, 402 when
short), priced per run and per 30 days, and audited for every change including delete."""

from __future__ import annotations

import asyncio
import html
import time
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from croniter import croniter

from agentledger.agents import scheduling
from agentledger.platform.clock import now
from agentledger.platform.database import atomic
from agentledger.platform.executions.tables import Execution
from agentledger.platform.schedules.tables import Schedule
from agentledger.platform.scoping import resolve_scope
from agentledger.platform.tables import AuditEvent
from agentledger.platform.workspaces import remove_member
from tests.support.books import assert_books_balance
from tests.support.factories import csrf_from
from tests.support.fixtures import sign_in
from tests.support.processes import cli, running, worker

API = "/api/v1/workspaces/acme/schedules"
NOOP = {"name": "Nightly noop", "agent": "noop", "inputs": {}, "scope": 3, "cron": "0 3 * * *"}


async def make_due(schedule_id) -> None:
    await Schedule.update({Schedule.next_run_at: now() - timedelta(seconds=1)}).where(Schedule.id == schedule_id)


async def test_a_schedule_is_checked_like_a_start(client, factory):
    team = await factory.team()
    bad_cron = await client.post(API, json={**NOOP, "cron": "every day"}, headers=team.member.bearer)
    assert bad_cron.status_code == 422 and bad_cron.json()["field"] == "cron"
    seconds = await client.post(API, json={**NOOP, "cron": "*/5 * * * * *"}, headers=team.member.bearer)
    assert seconds.status_code == 422 and "5 fields" in seconds.json()["message"]
    bad_input = await client.post(API, json={**NOOP, "agent": "seo-audit", "inputs": {"start_url": "nope"}},
                                  headers=team.member.bearer)
    assert bad_input.status_code == 422 and bad_input.json()["field"].startswith("inputs")
    unknown = await client.post(API, json={**NOOP, "agent": "poet"}, headers=team.member.bearer)
    assert unknown.status_code == 422 and unknown.json()["field"] == "agent"
    created = await client.post(API, json=NOOP, headers=team.member.bearer)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["cron"] == "0 3 * * *" and body["enabled"] and body["next_run_at"].endswith("03:00:00Z")
    disabled = await client.patch(f"{API}/{body['id']}", json={"enabled": False}, headers=team.member.bearer)
    assert disabled.json()["enabled"] is False and disabled.json()["next_run_at"] is None
    assert (await client.get(f"{API}/{body['id']}", headers=team.outsider.bearer)).status_code == 404
    admin_list = (await client.get(API, headers=team.admin.bearer)).json()
    assert admin_list["next_cursor"] is None
    assert [s["id"] for s in admin_list["items"]] == [body["id"]]


async def test_a_due_schedule_starts_a_run_triggered_by_schedule(factory):
    team = await factory.team()
    await factory.credits("acme", 10)
    async with atomic():
        schedule = await scheduling.create(await resolve_scope("acme", team.member.id), **{
            k: NOOP[k] for k in ("name", "agent", "inputs", "scope", "cron")}, mode="live")
    await make_due(schedule["id"])
    assert await scheduling.fire_due() == {"fired": 1}
    assert await scheduling.fire_due() == {"fired": 0}  # moved to its next time: not fired twice
    run = await Execution.select().where(Execution.schedule == schedule["id"]).first()
    assert (run["triggered_by"], run["status"], run["started_by"]) == ("schedule", "queued", team.member.id)
    assert run["credits_reserved"] == 3
    after = await Schedule.select().where(Schedule.id == schedule["id"]).first()
    assert after["last_execution"] == run["id"] and after["next_run_at"] > now()


async def test_a_run_that_cannot_reserve_credits_is_recorded_failed(factory):
    team = await factory.team()
    workspace_id = await factory.credits("acme", 2)  # the run needs 3
    async with atomic():
        schedule = await scheduling.create(await resolve_scope("acme", team.member.id), **{
            k: NOOP[k] for k in ("name", "agent", "inputs", "scope", "cron")}, mode="live")
    await make_due(schedule["id"])
    await scheduling.fire_due()
    run = await Execution.select().where(Execution.schedule == schedule["id"]).first()
    assert run["status"] == "failed" and run["triggered_by"] == "schedule" and run["credits_reserved"] == 0
    assert "insufficient credits: need 3, have 2" in run["error_message"]
    assert (await assert_books_balance(workspace_id))["wallet_available"] == 2


async def test_a_schedule_whose_creator_left_stops(factory):
    team = await factory.team()
    await factory.credits("acme", 10)
    async with atomic():
        schedule = await scheduling.create(await resolve_scope("acme", team.member.id), **{
            k: NOOP[k] for k in ("name", "agent", "inputs", "scope", "cron")}, mode="live")
    async with atomic():
        admin = await resolve_scope("acme", team.admin.id)
        await remove_member(admin, team.member.id)
    await make_due(schedule["id"])
    await scheduling.fire_due()
    assert await Execution.count().where(Execution.schedule == schedule["id"]) == 0
    assert (await Schedule.select().where(Schedule.id == schedule["id"]).first())["enabled"] is False


async def test_the_scheduler_and_a_worker_run_a_due_schedule_end_to_end(client, factory):
    team = await factory.team()
    await factory.credits("acme", 10)
    created = (await client.post(API, json={**NOOP, "cron": "* * * * *"}, headers=team.member.bearer)).json()
    await make_due(created["id"])
    with worker(), running(cli("scheduler"), {"SCHEDULE_POLL_SECONDS": "0.5"}):
        deadline = time.monotonic() + 30
        run = None
        while time.monotonic() < deadline:
            run = await Execution.select().where(Execution.schedule == created["id"]).first()
            if run and run["status"] == "completed":
                break
            await asyncio.sleep(0.2)
    assert run and run["status"] == "completed" and run["triggered_by"] == "schedule"
    read = await client.get(f"/api/v1/workspaces/acme/executions/{run['id']}", headers=team.member.bearer)
    assert read.json()["triggered_by"] == "schedule" and read.json()["credits_charged"] == 3


async def test_a_cron_that_never_comes_round_is_refused_and_a_broken_schedule_can_be_stopped(client, factory):
    team = await factory.team()
    never = await client.post(API, json={**NOOP, "cron": "0 0 30 2 *"}, headers=team.member.bearer)
    assert never.status_code == 422 and never.json()["field"] == "cron" and "never" in never.json()["message"]
    created = (await client.post(API, json=NOOP, headers=team.member.bearer)).json()
    await Schedule.update({Schedule.agent: "retired-agent"}).where(Schedule.id == created["id"])
    off = await client.patch(f"{API}/{created['id']}", json={"enabled": False}, headers=team.member.bearer)
    assert off.status_code == 200 and off.json()["enabled"] is False
    back_on = await client.patch(f"{API}/{created['id']}", json={"enabled": True}, headers=team.member.bearer)
    assert back_on.status_code == 422 and back_on.json()["field"] == "agent"


# --- editing, running now, pricing ------------------------------------------------------------------------

WEEKLY = {"name": "Weekly noop", "agent": "noop", "inputs": {}, "scope": 3, "cron": "0 6 * * 1"}


async def signed_in(client, person) -> str:
    """Sign ``person`` in on ``client``; answers a CSRF token for the forms."""
    assert (await sign_in(client, person.email, person.password)).status_code == 303
    return csrf_from((await client.get("/w/acme/schedules")).text)


async def audited(action: str, target) -> list[dict]:
    return await AuditEvent.select().where((AuditEvent.action == action) & (AuditEvent.target == str(target))).order_by(
        AuditEvent.created_at).output(load_json=True)


async def test_a_schedule_is_edited_through_the_api_checked_like_a_start(client, factory):
    team = await factory.team()
    created = (await client.post(API, json={**NOOP, "cron": "0 3 * * *"}, headers=team.member.bearer)).json()
    url = f"{API}/{created['id']}"
    edited = await client.patch(url, json={"name": "Morning noop", "cron": "30 4 * * *", "scope": 5, "mode": "test",
                                           "inputs": {}}, headers=team.member.bearer)
    assert edited.status_code == 200, edited.text
    body = edited.json()
    assert (body["name"], body["cron"], body["scope"], body["mode"]) == ("Morning noop", "30 4 * * *", 5, "test")
    assert body["next_run_at"].endswith("04:30:00Z") and body["cost_per_run"] == 0  # a test run is free
    for change, field in (({"cron": "often"}, "cron"), ({"inputs": {"x": 1}}, "inputs"), ({"scope": 0}, "scope"),
                          ({"name": "  "}, "name"), ({"mode": "sometimes"}, "mode"), ({"agent": "poet"}, "agent")):
        refused = await client.patch(url, json=change, headers=team.member.bearer)
        assert refused.status_code == 422 and refused.json()["field"] == field, (change, refused.text)
        assert refused.json()["message"]
    assert (await client.get(url, headers=team.member.bearer)).json() == body  # nothing refused was kept
    back = await client.patch(url, json={"scope": None, "mode": "live"}, headers=team.member.bearer)
    assert back.json()["scope"] is None and back.json()["cost_per_run"] == 1  # noop's default scope: 1 item
    events = await audited("schedule.update", created["id"])
    assert len(events) == 2 and events[0]["actor"] == team.member.id
    assert set(events[0]["details"]["changed"]) == {"name", "cron", "scope", "mode"}


async def test_only_its_maker_or_an_admin_edits_runs_or_deletes_a_schedule(client, factory):
    team = await factory.team()
    mia = await factory.user("mia@acme.example", "Mia Member")
    await factory.member("acme", mia)
    await factory.token("acme", mia)
    await factory.credits("acme", 100)
    created = (await client.post(API, json=WEEKLY, headers=team.member.bearer)).json()
    url = f"{API}/{created['id']}"
    assert (await client.patch(url, json={"name": "Mine"}, headers=mia.bearer)).status_code == 404
    assert (await client.post(f"{url}/run", headers=mia.bearer)).status_code == 404
    assert (await client.delete(url, headers=mia.bearer)).status_code == 404
    token = await signed_in(client, mia)
    page = f"/w/acme/schedules/{created['id']}"
    assert (await client.get(f"{page}/edit")).status_code == 404
    posted = await client.post(f"{page}/edit", data={"name": "Mine", "cron": "0 6 * * 1", "inputs": "{}",
                                                     "scope": "", "mode": "live", "_csrf_token": token})
    assert posted.status_code == 404
    assert (await client.post(f"{page}/run", data={"_csrf_token": token})).status_code == 404
    assert await Execution.count().where(Execution.schedule == created["id"]) == 0
    admin_edit = await client.patch(url, json={"name": "Checked by Ada"}, headers=team.admin.bearer)
    assert admin_edit.status_code == 200 and admin_edit.json()["name"] == "Checked by Ada"
    assert (await client.get(url, headers=team.member.bearer)).json()["name"] == "Checked by Ada"
    token = await signed_in(client, team.admin)  # the same pages and buttons work for an admin
    assert 'value="Checked by Ada"' in (await client.get(f"{page}/edit")).text
    assert (await client.post(f"{page}/run", data={"_csrf_token": token})).status_code == 303
    assert await Execution.count().where(Execution.schedule == created["id"]) == 1


async def test_the_edit_page_changes_a_schedule_and_shows_every_error_at_once(client, factory):
    team = await factory.team()
    created = (await client.post(API, json=WEEKLY, headers=team.member.bearer)).json()
    token = await signed_in(client, team.member)
    edit = f"/w/acme/schedules/{created['id']}/edit"
    form = (await client.get(edit)).text
    assert 'value="Weekly noop"' in form and 'value="0 6 * * 1"' in form and 'value="3"' in form
    bad = await client.post(edit, data={"name": "", "cron": "often", "inputs": "{not json", "scope": "many",
                                        "mode": "sometimes", "_csrf_token": token})
    assert bad.status_code == 422
    for message in ("name must be 1 to 120 characters", "cron must be 5 fields", "inputs must be JSON",
                    "scope must be a whole number", "mode must be 'live' or 'test'"):
        assert message in html.unescape(bad.text), message
    assert 'value="often"' in bad.text and "{not json</textarea>" in bad.text and 'value="many"' in bad.text
    assert bad.text.count('aria-invalid="true"') == 5
    unknown = await client.post(edit, data={"name": "Weekly", "cron": "0 6 * * 1", "inputs": '{"x": 1}',
                                            "scope": "0", "mode": "live", "_csrf_token": token})
    assert unknown.status_code == 422 and "unknown field" in unknown.text
    assert (await client.get(f"{API}/{created['id']}", headers=team.member.bearer)).json()["name"] == "Weekly noop"
    saved = await client.post(edit, data={"name": "Friday noop", "cron": "15 7 * * 5", "inputs": "{}",
                                          "scope": "4", "mode": "live", "_csrf_token": token})
    assert saved.status_code == 303 and saved.headers["location"] == "/w/acme/schedules"
    read = (await client.get(f"{API}/{created['id']}", headers=team.member.bearer)).json()
    assert (read["name"], read["cron"], read["scope"]) == ("Friday noop", "15 7 * * 5", 4)
    assert read["next_run_at"].endswith("07:15:00Z")
    listed = (await client.get("/w/acme/schedules")).text
    assert "Friday noop" in listed and "15 7 * * 5" in listed and len(await audited("schedule.update",
                                                                                    created["id"])) == 1


async def test_the_new_schedule_form_shows_every_error_at_once(client, factory):
    team = await factory.team()
    token = await signed_in(client, team.member)
    bad = await client.post("/w/acme/schedules", data={"name": "x" * 121, "cron": "0 0 30 2 *", "agent": "poet",
                                                       "inputs": "[1]", "scope": "-1", "mode": "live",
                                                       "_csrf_token": token})
    assert bad.status_code == 422
    for message in ("name must be 1 to 120 characters", "never comes round", "poet",
                    "inputs must be a JSON object", "scope must be a whole number"):
        assert message in html.unescape(bad.text), message
    assert 'value="0 0 30 2 *"' in bad.text and "[1]</textarea>" in bad.text
    assert await Schedule.count() == 0
    again = await client.post("/w/acme/schedules", data={"name": "Audit", "cron": "0 6 * * 1", "agent": "seo-audit",
                                                         "inputs": '{"start_url": "nope"}', "scope": "99999",
                                                         "mode": "live", "_csrf_token": token})
    assert again.status_code == 422 and "inputs.start_url" in again.text and await Schedule.count() == 0


async def test_run_now_starts_the_schedules_run_with_credits_held(client, factory):
    team = await factory.team()
    workspace_id = await factory.credits("acme", 10)
    created = (await client.post(API, json={**WEEKLY, "enabled": False}, headers=team.member.bearer)).json()
    started = await client.post(f"{API}/{created['id']}/run", headers=team.member.bearer)
    assert started.status_code == 202, started.text
    run = started.json()
    assert (run["triggered_by"], run["status"], run["credits_reserved"]) == ("schedule", "queued", 3)
    row = await Execution.select().where(Execution.id == run["id"]).first()
    assert row["schedule"] == UUID(created["id"]) and row["started_by"] == team.member.id
    after = (await client.get(f"{API}/{created['id']}", headers=team.member.bearer)).json()
    assert after["last_execution"] == run["id"] and after["next_run_at"] is None  # still off: run now is one run
    assert (await assert_books_balance(workspace_id))["wallet_available"] == 7
    token = await signed_in(client, team.admin)  # an admin may run a member's schedule; it runs as its maker
    pressed = await client.post(f"/w/acme/schedules/{created['id']}/run", data={"_csrf_token": token})
    assert pressed.status_code == 303
    page_run = pressed.headers["location"].rsplit("/", 1)[1]
    assert pressed.headers["location"] == f"/w/acme/executions/{page_run}"
    shown = await client.get(pressed.headers["location"])
    assert shown.status_code == 200 and f"Schedule · {created['name']} (Max Member)" in shown.text
    assert len(await audited("schedule.run", created["id"])) == 2
    assert (await assert_books_balance(workspace_id))["wallet_available"] == 4


async def test_run_now_with_a_short_wallet_is_refused_with_402(client, factory):
    team = await factory.team()
    workspace_id = await factory.credits("acme", 2)  # a run needs 3
    created = (await client.post(API, json=WEEKLY, headers=team.member.bearer)).json()
    refused = await client.post(f"{API}/{created['id']}/run", headers=team.member.bearer)
    assert refused.status_code == 402
    assert refused.json()["error"] == "insufficient_credits" and "need 3, have 2" in refused.json()["message"]
    token = await signed_in(client, team.member)
    page = await client.post(f"/w/acme/schedules/{created['id']}/run", data={"_csrf_token": token})
    assert page.status_code == 402 and "need 3, have 2" in page.text and "Weekly noop" in page.text
    assert await Execution.count().where(Execution.schedule == created["id"]) == 0
    assert (await assert_books_balance(workspace_id))["wallet_available"] == 2


async def test_each_schedule_shows_its_cost_per_run_and_per_month(client, factory):
    team = await factory.team()
    weekly = (await client.post(API, json=WEEKLY, headers=team.member.bearer)).json()
    assert weekly["cost_per_run"] == 3 and weekly["runs_per_month"] in (4, 5)
    assert weekly["cost_per_month"] == 3 * weekly["runs_per_month"]
    often = (await client.post(API, json={**WEEKLY, "name": "Often", "cron": "*/5 * * * *"},
                               headers=team.member.bearer)).json()
    assert (often["cost_per_run"], often["runs_per_month"], often["cost_per_month"]) == (3, 8640, 25920)
    listed = {s["name"]: s for s in (await client.get(API, headers=team.member.bearer)).json()["items"]}
    assert listed["Often"]["cost_per_month"] == 25920 and listed["Weekly noop"]["cost_per_run"] == 3
    await signed_in(client, team.member)
    page = (await client.get("/w/acme/schedules")).text
    assert "8,640 runs" in page and "25,920 credits" in page and "3 credits" in page
    assert f"{weekly['runs_per_month']} runs" in page


async def test_a_schedule_whose_agent_is_gone_shows_why_it_has_no_price(client, factory):
    team = await factory.team()
    created = (await client.post(API, json=WEEKLY, headers=team.member.bearer)).json()
    await Schedule.update({Schedule.agent: "retired-agent"}).where(Schedule.id == created["id"])
    read = (await client.get(f"{API}/{created['id']}", headers=team.member.bearer)).json()
    assert read["cost_per_run"] is None and read["cost_per_month"] is None and "retired-agent" in read["cost_note"]
    await signed_in(client, team.member)
    assert "retired-agent" in (await client.get("/w/acme/schedules")).text


@pytest.mark.pure
def test_fires_in_30_days_are_counted_exactly_and_quickly():
    start = datetime(2026, 1, 5, 5, 0, 30, tzinfo=UTC)  # a Monday, before 06:00
    for cron in ("0 6 * * 1", "*/5 * * * *", "* * * * *", "30 2 1,15 * 5", "0 0 L * *", "0 9 * * 5#3",
                 "15 */3 * 2 *", "0 12 29 2 *", "5 4 * * 0-2", "0 0 1 1 *"):
        expected, fires = 0, croniter(cron, start)
        while fires.get_next(datetime) <= start + timedelta(days=30):
            expected += 1
        assert scheduling.runs_within(cron, start) == expected, cron
    assert scheduling.runs_within("0 6 * * 1", start) == 5  # Jan 5, 12, 19, 26 and Feb 2
    assert scheduling.runs_within("0 6 * * 1", start.replace(hour=7)) == 4
    began = time.perf_counter()
    assert scheduling.runs_within("* * * * *", start) == 43200
    assert time.perf_counter() - began < 0.25  # walking it fire by fire takes over a second


async def test_deleting_a_schedule_is_audited(client, factory):
    team = await factory.team()
    by_api = (await client.post(API, json=WEEKLY, headers=team.member.bearer)).json()
    by_page = (await client.post(API, json={**WEEKLY, "name": "Other"}, headers=team.member.bearer)).json()
    assert (await client.delete(f"{API}/{by_api['id']}", headers=team.admin.bearer)).status_code == 204
    token = await signed_in(client, team.member)
    removed = await client.post(f"/w/acme/schedules/{by_page['id']}/delete", data={"_csrf_token": token})
    assert removed.status_code == 303 and "Nothing scheduled" in (await client.get("/w/acme/schedules")).text
    api_event, page_event = await audited("schedule.delete", by_api["id"]), await audited("schedule.delete",
                                                                                          by_page["id"])
    assert [e["actor"] for e in api_event] == [team.admin.id] and [e["actor"] for e in page_event] == [
        team.member.id]
    assert api_event[0]["details"]["name"] == "Weekly noop"
