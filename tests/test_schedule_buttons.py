"""A schedule's on/off, from the page's button and the API alike (the service's ``scheduling.toggle`` and
``update``): what it does, the audit record each press writes (who, which schedule, on or off), and that a
member's on/off and delete buttons do nothing to a teammate's schedule. (Deleting from the API and the page,
each audited: ``test_schedules.test_deleting_a_schedule_is_audited``.)"""

from __future__ import annotations

from agentledger.platform.schedules.tables import Schedule
from agentledger.platform.tables import AuditEvent
from tests.support.factories import csrf_from
from tests.support.fixtures import sign_in

API = "/api/v1/workspaces/acme/schedules"
WEEKLY = {"name": "Weekly noop", "agent": "noop", "inputs": {}, "scope": 3, "cron": "0 6 * * 1"}


async def audited(action: str, target) -> list[dict]:
    return await AuditEvent.select().where((AuditEvent.action == action) & (AuditEvent.target == str(target))).order_by(
        AuditEvent.created_at).output(load_json=True)


async def signed_in(client, person) -> str:
    assert (await sign_in(client, person.email, person.password)).status_code == 303
    return csrf_from((await client.get("/w/acme/schedules")).text)


async def test_the_on_off_button_and_the_api_turn_a_schedule_off_and_on_audited(client, factory):
    team = await factory.team()
    created = (await client.post(API, json=WEEKLY, headers=team.member.bearer)).json()
    url, button = f"{API}/{created['id']}", f"/w/acme/schedules/{created['id']}/toggle"
    token = await signed_in(client, team.member)
    assert "Turn off" in (await client.get("/w/acme/schedules")).text

    off = await client.post(button, data={"_csrf_token": token})
    assert off.status_code == 303
    listed = (await client.get("/w/acme/schedules")).text
    assert "Turn on" in listed and "Turn off" not in listed
    body = (await client.get(url, headers=team.member.bearer)).json()
    assert body["enabled"] is False and body["next_run_at"] is None  # off: it will not fire

    on = await client.patch(url, json={"enabled": True}, headers=team.member.bearer)
    assert on.status_code == 200 and on.json()["enabled"] is True and on.json()["next_run_at"]
    assert (await client.post(button, data={"_csrf_token": token})).status_code == 303  # off by the page again
    assert (await client.post(button, data={"_csrf_token": token})).status_code == 303  # and on
    assert (await client.get(url, headers=team.member.bearer)).json()["enabled"] is True

    events = await audited("schedule.update", created["id"])
    assert [(e["actor"], e["details"]["enabled"]) for e in events] == [
        (team.member.id, False), (team.member.id, True), (team.member.id, False), (team.member.id, True)]


async def test_turning_on_a_schedule_whose_agent_is_gone_is_refused_on_the_page(client, factory):
    team = await factory.team()
    created = (await client.post(API, json={**WEEKLY, "enabled": False}, headers=team.member.bearer)).json()
    await Schedule.update({Schedule.agent: "retired-agent"}).where(Schedule.id == created["id"])
    token = await signed_in(client, team.member)
    refused = await client.post(f"/w/acme/schedules/{created['id']}/toggle", data={"_csrf_token": token})
    assert refused.status_code == 422 and "retired-agent" in refused.text  # said on the schedules page
    assert (await Schedule.select(Schedule.enabled).where(Schedule.id == created["id"]).first())["enabled"] is False
    assert await audited("schedule.update", created["id"]) == []


async def test_a_members_buttons_do_nothing_to_a_teammates_schedule(client, factory):
    team = await factory.team()
    mia = await factory.user("mia@acme.example", "Mia Member")
    await factory.member("acme", mia)
    created = (await client.post(API, json=WEEKLY, headers=team.member.bearer)).json()
    token = await signed_in(client, mia)
    page = f"/w/acme/schedules/{created['id']}"
    assert (await client.post(f"{page}/toggle", data={"_csrf_token": token})).status_code == 404
    assert (await client.post(f"{page}/delete", data={"_csrf_token": token})).status_code == 404
    row = await Schedule.select(Schedule.enabled).where(Schedule.id == created["id"]).first()
    assert row == {"enabled": True}
    assert await audited("schedule.update", created["id"]) == [] == await audited("schedule.delete", created["id"])
