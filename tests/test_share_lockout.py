"""A stranger holding a shared link cannot lock its recipient out: wrong passwords lock the address that gave
them (5 in 15 minutes), and only many from everywhere (30 in an hour) lock the link for everyone, until the
hour has passed or whoever made the link (or an admin) unlocks it from the run's Share page or the API."""

from __future__ import annotations

import re
from contextlib import asynccontextmanager

import httpx
import pytest

from agentledger.agents import launch, runner
from agentledger.platform.database import atomic
from agentledger.platform.redis import get_redis
from agentledger.platform.scoping import resolve_scope
from agentledger.platform.sharing import links, lockout
from agentledger.platform.tables import AuditEvent
from tests.support import agents  # noqa: F401 - registers test-results
from tests.support.factories import csrf_from
from tests.support.fixtures import sign_in

API = "/api/v1/workspaces/acme/executions"
PASSWORD = "correct horse battery"


@asynccontextmanager
async def visitor(app, address: str):
    """Someone with only the link, whose requests come from ``address`` (the peer Litestar sees)."""
    transport = httpx.ASGITransport(app=app, client=(address, 1234))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as c:
        yield c


async def attempt(app, token: str, address: str, password: str) -> httpx.Response:
    async with visitor(app, address) as c:
        form = csrf_from((await c.get(f"/s/{token}")).text)
        return await c.post(f"/s/{token}", data={"password": password, "_csrf_token": form})


async def run_with_link(client, factory, maker=None) -> tuple[object, str, str, str]:
    """A finished run of the member's with a link (made by ``maker``, the member unless told):
    answers the team, the run, the link's token and its id."""
    team = await factory.team()
    await factory.credits("acme", 100)
    async with atomic():
        row = await launch.start(await resolve_scope("acme", team.member.id), launch.Request("test-results", {}))
    await runner.run_execution(row["id"])
    maker = maker(team) if maker else team.member
    made = await client.post(f"{API}/{row['id']}/links", json={"password": PASSWORD}, headers=maker.bearer)
    assert made.status_code == 201, made.text
    return team, str(row["id"]), made.json()["url"].rsplit("/s/", 1)[1], made.json()["id"]


async def backdate(link_id: str, seconds: float) -> None:
    """Move the link's recorded failures ``seconds`` into the past, as waiting would."""
    redis = get_redis()
    key = f"share-link-failures:{link_id}"
    for member, score in await redis.zrange(key, 0, -1, withscores=True):
        await redis.zadd(key, {member: score - seconds})


async def unlocks() -> list[dict]:
    return await AuditEvent.select().where(AuditEvent.action == "execution.link.unlock").output(load_json=True)


async def test_five_wrong_passwords_lock_that_address_out_but_not_the_recipient(app, client, factory):
    _, _, token, link_id = await run_with_link(client, factory)
    codes = [(await attempt(app, token, "203.0.113.5", f"guess {i}")).status_code for i in range(5)]
    assert codes == [401] * 5
    locked = await attempt(app, token, "203.0.113.5", PASSWORD)  # even the right one, from there
    assert locked.status_code == 429
    assert "too many wrong passwords for this link from your address; try again in 15 minutes" in locked.text
    assert 890 <= int(locked.headers["retry-after"]) <= 900
    assert "whoever sent you the link can also lift it" in locked.text

    recipient = await attempt(app, token, "198.51.100.7", PASSWORD)
    assert recipient.status_code == 303 and recipient.headers["location"] == f"/s/{token}"
    assert (await attempt(app, token, "203.0.113.5", PASSWORD)).status_code == 429  # the stranger stays out

    await backdate(link_id, 15 * 60 + 1)  # 15 minutes on, that address may try again
    assert (await attempt(app, token, "203.0.113.5", "guess again")).status_code == 401


async def test_a_right_password_forgets_that_address_s_typos(app, client, factory):
    _, _, token, _ = await run_with_link(client, factory)
    for i in range(4):
        assert (await attempt(app, token, "198.51.100.7", f"typo {i}")).status_code == 401
    assert (await attempt(app, token, "198.51.100.7", PASSWORD)).status_code == 303
    for i in range(5):  # five fresh tries, not one
        assert (await attempt(app, token, "198.51.100.7", f"typo again {i}")).status_code == 401
    assert (await attempt(app, token, "198.51.100.7", "one more")).status_code == 429


async def test_ipv6_addresses_count_per_64_block(app, client, factory):
    _, _, token, _ = await run_with_link(client, factory)
    for i in range(5):  # one host may hold a whole /64: its addresses are one source
        assert (await attempt(app, token, f"2001:db8:0:7::{i + 1}", f"guess {i}")).status_code == 401
    assert (await attempt(app, token, "2001:db8:0:7::99", PASSWORD)).status_code == 429
    assert (await attempt(app, token, "2001:db8:0:8::1", PASSWORD)).status_code == 303


async def test_thirty_wrong_passwords_from_many_addresses_lock_the_link_for_everyone(app, client, factory):
    team, run, token, link_id = await run_with_link(client, factory)
    for n in range(10):  # three each: no address is locked out by itself
        for i in range(3):
            assert (await attempt(app, token, f"192.0.2.{n + 1}", f"guess {n}-{i}")).status_code == 401
    blocked = await attempt(app, token, "198.51.100.7", PASSWORD)  # the right password, from a fresh address
    assert blocked.status_code == 429
    assert "this link is locked because of too many wrong password attempts" in blocked.text
    assert "ask whoever sent it to unlock it" in blocked.text
    assert 3500 <= int(blocked.headers["retry-after"]) <= 3600

    figures = (await client.get(f"{API}/{run}/sharing", headers=team.member.bearer)).json()["links"][0]["failures"]
    assert figures["count"] == 30 and figures["locked"] is True and figures["window_seconds"] == 3600
    assert figures["locked_until"] and figures["last_at"] and figures["addresses_locked"] == 0

    await backdate(link_id, 3600 + 1)  # the hour has passed
    assert (await attempt(app, token, "198.51.100.7", PASSWORD)).status_code == 303
    figures = (await client.get(f"{API}/{run}/sharing", headers=team.member.bearer)).json()["links"][0]["failures"]
    assert figures == {"count": 0, "window_seconds": 3600, "last_at": None, "locked": False, "locked_until": None,
                       "addresses_locked": 0}


async def test_parallel_guesses_cannot_outrun_the_link_cap(app, client, factory):
    import asyncio

    _, _, token, link_id = await run_with_link(client, factory)
    sources = [lockout.source_of(f"192.0.2.{n}") for n in range(40)]
    outcomes = await asyncio.gather(*(lockout.reserve(link_id, s) for s in sources), return_exceptions=True)
    assert sum(o is None for o in outcomes) == 30  # the rest answered 429
    assert (await attempt(app, token, "198.51.100.7", PASSWORD)).status_code == 429


async def test_the_owner_sees_the_failed_attempts_and_unlocks_the_link(app, client, factory):
    team, run, token, link_id = await run_with_link(client, factory)
    for n in range(6):
        for i in range(5):
            assert (await attempt(app, token, f"192.0.2.{n + 1}", f"guess {n}-{i}")).status_code == 401
    assert (await attempt(app, token, "198.51.100.7", PASSWORD)).status_code == 429

    await sign_in(client, team.member.email, team.member.password)
    page = await client.get(f"/w/acme/executions/{run}/share")
    cell = re.search(r"<div data-failures[^>]*>(.*?)</div>", page.text, re.S).group(1)
    assert "30 wrong in the last hour" in cell and re.search(r"last <time datetime=\"\d{4}-", cell)
    alert = re.search(rf'<div class="alert warn" role="status" data-lockout="{link_id}">(.*?)</div>', page.text,
                      re.S).group(1)
    assert re.search(r"Link sl_\S+ is locked for everyone</strong> until <time datetime=\"\d{4}-", alert)
    assert "30 wrong passwords in the last hour, the last at <time" in alert
    assert f'action="/w/acme/executions/{run}/links/{link_id}/unlock"' in alert

    unlocked = await client.post(f"/w/acme/executions/{run}/links/{link_id}/unlock",
                                 data={"_csrf_token": csrf_from(page.text)})
    assert unlocked.status_code == 303
    assert unlocked.headers["location"] == f"/w/acme/executions/{run}/share"
    after = await client.get(unlocked.headers["location"])
    notice = re.search(r"<div class=\"alert success\" role=\"status\" data-notice>(.*?)</div>", after.text).group(1)
    assert re.fullmatch(r"Unlocked link sl_\S+… \(it was locked for everyone\): its 30 wrong passwords of the last "
                        r"hour are forgotten, so anyone with its password can open it again, from any address\.", notice)
    assert "data-notice" not in (await client.get(unlocked.headers["location"])).text  # said once
    assert "is locked for everyone" not in after.text and "/unlock" not in after.text
    audit = await unlocks()
    assert [(a["actor"], a["target"]) for a in audit] == [(team.member.id, run)]
    assert audit[0]["details"] == {"link": link_id, "failures": 30, "was_locked": True, "sources_locked": 6}

    assert (await attempt(app, token, "198.51.100.7", PASSWORD)).status_code == 303
    assert (await attempt(app, token, "192.0.2.1", PASSWORD)).status_code == 303  # every address, again
    again = await client.post(f"/w/acme/executions/{run}/links/{link_id}/unlock",
                              data={"_csrf_token": csrf_from(page.text)})  # nothing left to forget: it says so
    notice = (await client.get(again.headers["location"])).text
    assert "had no wrong passwords to forget: anyone with its password can open it." in notice
    for i in range(5):
        await attempt(app, token, "192.0.2.9", f"guess {i}")
    assert "1 address is locked out</strong>; it still opens from anywhere else" in (
        await client.get(f"/w/acme/executions/{run}/share")).text


async def test_an_address_locked_out_shows_and_unlock_lets_it_in_through_the_api(app, client, factory):
    team, run, token, link_id = await run_with_link(client, factory)
    for i in range(5):
        await attempt(app, token, "203.0.113.5", f"guess {i}")
    listed = (await client.get(f"{API}/{run}/sharing", headers=team.member.bearer)).json()["links"][0]["failures"]
    assert listed["count"] == 5 and listed["addresses_locked"] == 1 and listed["locked"] is False
    answered = await client.post(f"{API}/{run}/links/{link_id}/unlock", headers=team.admin.bearer)  # an admin may
    assert answered.status_code == 200, answered.text
    assert answered.json()["id"] == link_id and answered.json()["failures"]["count"] == 0
    assert answered.json()["failures"]["addresses_locked"] == 0 and answered.json()["url"] is None
    assert (await attempt(app, token, "203.0.113.5", PASSWORD)).status_code == 303
    assert [a["actor"] for a in await unlocks()] == [team.admin.id]


async def test_only_the_link_s_maker_or_an_admin_may_unlock_it(app, client, factory):
    team, run, token, link_id = await run_with_link(client, factory, maker=lambda team: team.admin)
    sam = await factory.user("sam@acme.example", "Sam Second")
    await factory.member("acme", sam)
    await factory.token("acme", sam)
    assert (await client.put(f"{API}/{run}/shares/{sam.id}", headers=team.member.bearer)).status_code == 200
    for i in range(5):
        await attempt(app, token, "203.0.113.5", f"guess {i}")

    # the member started the run (they may revoke the link) but an admin made it: not theirs to unlock
    refused = await client.post(f"{API}/{run}/links/{link_id}/unlock", headers=team.member.bearer)
    assert refused.status_code == 403 and "whoever made this link or an admin" in refused.json()["message"]
    shared = await client.post(f"{API}/{run}/links/{link_id}/unlock", headers=sam.bearer)  # the run is shared
    assert shared.status_code == 403
    outsider = await client.post(f"/api/v1/workspaces/globex/executions/{run}/links/{link_id}/unlock",
                                 headers=team.outsider.bearer)
    assert outsider.status_code == 404

    await sign_in(client, team.member.email, team.member.password)
    page = await client.get(f"/w/acme/executions/{run}/share")
    assert "1 address is locked out" in page.text and "/unlock" not in page.text  # seen, without the button
    assert "Whoever made it, or an admin, can unlock it." in page.text
    form = await client.post(f"/w/acme/executions/{run}/links/{link_id}/unlock",
                             data={"_csrf_token": csrf_from(page.text)})
    assert form.status_code == 403 and "whoever made this link or an admin" in form.text
    no_csrf = await client.post(f"/w/acme/executions/{run}/links/{link_id}/unlock", data={})
    assert no_csrf.status_code == 403
    assert (await attempt(app, token, "203.0.113.5", PASSWORD)).status_code == 429  # still locked
    assert await unlocks() == []


async def test_the_source_address_is_the_peer_not_a_forwarded_header(app, client, factory):
    _, _, token, _ = await run_with_link(client, factory)
    async with visitor(app, "203.0.113.5") as c:
        form = csrf_from((await c.get(f"/s/{token}")).text)
        for i in range(6):  # a new X-Forwarded-For each time does not make a new source
            answer = await c.post(f"/s/{token}", data={"password": f"guess {i}", "_csrf_token": form},
                                  headers={"X-Forwarded-For": f"192.0.2.{i}"})
        assert answer.status_code == 429


@pytest.mark.pure
def test_addresses_are_kept_as_keyed_hashes():
    assert lockout.source_of("203.0.113.5") != lockout.source_of("203.0.113.6")
    assert "203.0.113.5" not in lockout.source_of("203.0.113.5")
    assert lockout.source_of("::ffff:203.0.113.5") == lockout.source_of("203.0.113.5")
    assert lockout.source_of("2001:db8::1") == lockout.source_of("2001:db8::ffff")
    assert lockout.source_of(None) == lockout.source_of("unknown")


@pytest.mark.browser
async def test_screenshots_of_a_locked_link_on_the_share_page(live_url, factory):
    from tests.support.browser import chromium, sign_in_with, watched_page
    from tests.test_browser import SHOTS

    team = await factory.team()
    await factory.credits("acme", 100)
    scope = await resolve_scope("acme", team.member.id)
    async with atomic():
        row = await launch.start(scope, launch.Request("test-results", {}))
        locked, token = await links.create(scope, row["id"], PASSWORD)
        await links.create(scope, row["id"], PASSWORD)
    await runner.run_execution(row["id"])
    async with atomic():  # the recipient opened it once, before strangers started guessing
        await links.unlock(token, PASSWORD, "198.51.100.7")
    for n in range(30):  # from many addresses, straight through the lockout's own door
        await lockout.reserve(locked.id, lockout.source_of(f"192.0.2.{n // 5}"))
    SHOTS.mkdir(parents=True, exist_ok=True)
    async with chromium() as browser:
        for width in (1280, 390):
            page, problems = await watched_page(browser, width=width)
            await sign_in_with(page, live_url, team.member)
            await page.goto(f"{live_url}/w/acme/executions/{row['id']}/share")
            await page.get_by_text("is locked for everyone").wait_for()
            await page.screenshot(path=str(SHOTS / f"share-locked-{width}.png"), full_page=True)
            assert await page.evaluate("document.documentElement.scrollWidth") <= width  # the table scrolls inside
            unlock = page.get_by_role("button", name=re.compile(r"^Unlock sl_"))
            box = await unlock.bounding_box()
            assert box and box["x"] + box["width"] <= width  # in view, no scrolling sideways
            if width == 1280:  # the table fits the page, Revoke buttons too
                assert await page.eval_on_selector(".table-wrap", "e => e.scrollWidth <= e.clientWidth")
            if width == 390:
                await unlock.click()
                await page.get_by_role("status").filter(has_text="Unlocked link").wait_for()
                await page.screenshot(path=str(SHOTS / f"share-unlocked-{width}.png"), full_page=True)
            assert problems == []
