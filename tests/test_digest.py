"""The weekly digest: Monday 08:00 in each person's own time zone (Asia/Tokyo; America/Los_Angeles on both
sides of its daylight-saving change), about their week; exactly one per person and ISO week under
concurrent passes; none without activity; an admin's adds the workspace's credits. Delivered through a
real SMTP server (aiosmtpd)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from agentledger.agents import launch, runner
from agentledger.notifications import digest, preferences, sender
from agentledger.notifications.tables import EmailOutbox
from agentledger.platform.clock import now
from agentledger.platform.database import atomic, fetch
from agentledger.platform.scoping import resolve_scope
from tests.support.smtp import smtp_server


@pytest.fixture
def mailbox(override_settings):
    with smtp_server() as (inbox, port):
        override_settings(SMTP_HOST="127.0.0.1", SMTP_PORT=str(port), SMTP_STARTTLS="false",
                          BASE_URL="https://ledger.example.com")
        yield inbox


async def run_at(person, queued_at: datetime | None = None, agent: str = "noop", scope: int = 2) -> dict:
    """A finished run of ``person`` (queued at ``queued_at``, for the runs of a past week)."""
    async with atomic():
        run = await launch.start(await resolve_scope("acme", person.id), launch.Request(agent, {}, scope=scope))
    await runner.run_execution(run["id"])
    if queued_at:
        await fetch("UPDATE executions SET queued_at = {}, started_at = {}, finished_at = {} WHERE id = {}",
                    queued_at, queued_at, queued_at + timedelta(seconds=5), run["id"])
    return run


async def digests() -> list[dict]:
    return await EmailOutbox.select(EmailOutbox.to_email, EmailOutbox.subject, EmailOutbox.body_text,
                                    EmailOutbox.dedupe_key).where(EmailOutbox.kind == "weekly_digest")


async def zone(person, name: str) -> None:
    async with atomic():
        await preferences.save(person.id, {"timezone": name})


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


async def test_tokyo_gets_its_digest_at_eight_on_its_own_monday(factory):
    team = await factory.team()
    await factory.credits("acme", 100)
    await zone(team.member, "Asia/Tokyo")
    await run_at(team.member, utc(2026, 11, 25, 3))  # Wednesday in Tokyo's week of 23 Nov
    await run_at(team.member, utc(2026, 11, 29, 16))  # Monday 30 Nov 01:00 JST: next week's
    assert await digest.run(utc(2026, 11, 29, 22, 59)) == {"digests": 0, "quiet": 0}  # 07:59 JST
    assert await digest.run(utc(2026, 11, 29, 23, 0)) == {"digests": 1, "quiet": 0}  # 08:00 (UTC's Monday: later)
    [mail] = await digests()
    assert mail["to_email"] == team.member.email and mail["dedupe_key"].endswith(":2026-W49")
    assert "Mon 23 Nov – Sun 29 Nov 2026" in mail["subject"] and "Your runs: 1, credits used: 2" in mail["body_text"]
    assert await digest.run(utc(2026, 11, 30, 5)) == {"digests": 0, "quiet": 0}  # once per week


async def test_los_angeles_gets_it_at_eight_local_on_both_sides_of_daylight_saving(factory):
    team = await factory.team()
    await factory.credits("acme", 100)
    await zone(team.member, "America/Los_Angeles")
    await run_at(team.member, utc(2026, 10, 21, 18))  # week of 19 Oct (PDT)
    await run_at(team.member, utc(2026, 10, 31, 18))  # week of 26 Oct, which ends after the change
    assert (await digest.run(utc(2026, 10, 26, 14, 59)))["digests"] == 0  # 07:59 PDT
    assert (await digest.run(utc(2026, 10, 26, 15, 0)))["digests"] == 1  # 08:00 PDT = 15:00 UTC
    assert (await digest.run(utc(2026, 11, 2, 15, 0)))["digests"] == 0  # 07:00 PST
    assert (await digest.run(utc(2026, 11, 2, 16, 0)))["digests"] == 1  # 08:00 PST = 16:00 UTC
    weeks = sorted(m["dedupe_key"].rsplit(":", 1)[1] for m in await digests())
    assert weeks == ["2026-W44", "2026-W45"]


async def test_two_schedulers_at_once_send_one_digest_per_person(factory, mailbox):
    team = await factory.team()
    await factory.credits("acme", 100)
    monday = utc(2026, 11, 30, 8, 5)
    for person in (team.member, team.admin):
        await run_at(person, utc(2026, 11, 26, 12))
    results = await asyncio.gather(*(digest.run(monday) for _ in range(4)))
    assert sum(r["digests"] for r in results) == 2
    assert sorted(m["to_email"] for m in await digests()) == sorted([team.member.email, team.admin.email])
    for row in await EmailOutbox.select(EmailOutbox.id):
        assert (await sender.deliver(row["id"])).sent
    await asyncio.to_thread(mailbox.wait_for, 2)
    await asyncio.sleep(0.3)
    assert len(mailbox.messages) == 2


async def test_no_activity_no_digest_and_off_means_off(factory):
    team = await factory.team()
    await factory.credits("acme", 100)
    await run_at(team.member, utc(2026, 11, 26, 12))
    async with atomic():
        await preferences.save(team.member.id, {"weekly_digest": False})
    assert (await digest.run(utc(2026, 11, 30, 9)))["digests"] == 0  # the others: nothing happened
    assert await digests() == []
    claims = await fetch("SELECT \"user\", sent FROM digest_weeks WHERE week = '2026-W49'")
    assert team.member.id not in {c["user"] for c in claims} and not any(c["sent"] for c in claims)


async def test_an_admins_digest_adds_the_workspace_and_a_members_does_not(factory, mailbox):
    team = await factory.team()
    await factory.credits("acme", 500)
    await run_at(team.member, scope=30)
    await run_at(team.admin, scope=5)
    today = now()
    next_monday = datetime.combine((today + timedelta(days=7 - today.weekday())).date(),
                                   datetime.min.time(), tzinfo=UTC) + timedelta(hours=9)
    assert (await digest.run(next_monday))["digests"] == 2
    for row in await EmailOutbox.select(EmailOutbox.id):
        assert (await sender.deliver(row["id"])).sent
    mails = {m["To"]: m for m in await asyncio.to_thread(mailbox.wait_for, 2)}
    admin_text = mails[team.admin.email].get_body(("plain",)).get_content()
    member_text = mails[team.member.email].get_body(("plain",)).get_content()
    assert "Acme this week: 2 runs, 35 credits charged" in admin_text
    assert "Balance: 465 (lasts about 93 days at this rate)" in admin_text
    assert f"{team.member.name}: 30" in admin_text and "noop: 35" in admin_text
    assert "this week" not in member_text and "Your runs: 1, credits used: 30" in member_text
    html = mails[team.admin.email].get_body(("html",)).get_content()
    assert "<svg" not in html and "<script" not in html and 'href="https://ledger.example.com/w/acme/credits"' in html


async def test_the_workspace_time_zone_is_the_default_and_admins_set_it(factory, client):
    team = await factory.team()
    await factory.credits("acme", 100)
    api = "/api/v1/workspaces/acme/settings"
    assert (await client.get(api, headers=team.member.bearer)).json() == {"timezone": "UTC"}
    assert (await client.put(api, json={"timezone": "Asia/Tokyo"}, headers=team.member.bearer)).status_code == 403
    wrong = await client.put(api, json={"timezone": "Atlantis/Lost"}, headers=team.admin.bearer)
    assert wrong.status_code == 422 and wrong.json()["field"] == "timezone"
    assert (await client.put(api, json={"timezone": "Asia/Tokyo"}, headers=team.admin.bearer)).json() == {
        "timezone": "Asia/Tokyo"}
    mine = (await client.get("/api/v1/me/notifications", headers=team.member.bearer)).json()
    assert (mine["timezone"], mine["effective_timezone"]) == (None, "Asia/Tokyo")
    await zone(team.admin, "UTC")  # a person's own choice wins over the workspace's
    await run_at(team.member, utc(2026, 11, 25, 3))
    await run_at(team.admin, utc(2026, 11, 25, 3))
    assert await digest.run(utc(2026, 11, 29, 23, 0)) == {"digests": 1, "quiet": 0}  # Monday 08:00 in Tokyo
    assert [m["to_email"] for m in await digests()] == [team.member.email]
    assert (await digest.run(utc(2026, 11, 30, 8, 0)))["digests"] == 1  # the admin's, at 08:00 UTC


async def test_a_time_zone_postgresql_does_not_know_falls_back_and_stops_nobody(factory, client):
    team = await factory.team()
    await factory.credits("acme", 100)
    refused = await client.put("/api/v1/me/notifications", json={"timezone": "localtime"}, headers=team.member.bearer)
    assert refused.status_code == 422 and refused.json()["field"] == "timezone"
    await fetch("INSERT INTO notification_preferences (id, email, timezone) VALUES (gen_random_uuid(), {}, 'localtime')",
                team.member.email)  # stored before there was a check
    await fetch("UPDATE workspaces SET timezone = 'Nowhere/Atlantis' WHERE slug = 'globex'")
    for person in (team.member, team.admin):
        await run_at(person, utc(2026, 11, 25, 3))
    assert (await digest.run(utc(2026, 11, 30, 8, 30)))["digests"] == 2  # the member at 08:00 UTC, the fallback


async def test_people_are_taken_in_batches_and_each_gets_one_digest(factory):
    team = await factory.team()
    await factory.credits("acme", 500)
    people = [team.member, team.admin]
    for n in range(5):
        person = await factory.user(f"p{n}@acme.example", f"Person {n}")
        await factory.member("acme", person)
        people.append(person)
    for person in people[::2]:  # every other one did something
        await run_at(person, utc(2026, 11, 26, 12))
    done = await digest.run(utc(2026, 11, 30, 9), batch=2)
    assert done == {"digests": 4, "quiet": 4}  # 7 in Acme and Globex's admin
    assert sorted(m["to_email"] for m in await digests()) == sorted(p.email for p in people[::2])
    assert await digest.run(utc(2026, 11, 30, 10), batch=2) == {"digests": 0, "quiet": 0}
