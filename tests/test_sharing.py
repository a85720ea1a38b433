"""Sharing a run: teammates it is shared with find it in their list and may read and download it, not
change it; password-protected links show its results to people outside the workspace until they end."""

from __future__ import annotations

import re
from uuid import UUID

from agentledger.agents import launch, runner
from agentledger.notifications.tables import EmailOutbox
from agentledger.platform.database import atomic, fetch
from agentledger.platform.executions import listing
from agentledger.platform.pagination import PageRequest
from agentledger.platform.scoping import resolve_scope
from agentledger.platform.sharing.tables import ShareLink
from tests.support import agents  # noqa: F401 - registers test-results
from tests.support.factories import csrf_from
from tests.support.fixtures import sign_in

API = "/api/v1/workspaces/acme/executions"
PASSWORD = "correct horse battery"


async def start(person, agent="noop", *, run=True) -> str:
    async with atomic():
        row = await launch.start(await resolve_scope("acme", person.id), launch.Request(agent, {}))
    if run:
        await runner.run_execution(row["id"])
    return str(row["id"])


async def ids(client, person, **params) -> list[str]:
    response = await client.get(API, params=params, headers=person.bearer)
    assert response.status_code == 200, response.text
    return [r["id"] for r in response.json()["items"]]


async def team_of_three(factory):
    team = await factory.team()
    sam = await factory.user("sam@acme.example", "Sam Second")
    await factory.member("acme", sam)
    await factory.token("acme", sam)
    await factory.credits("acme", 1000)
    return team, sam


async def test_a_teammate_reads_a_shared_run_and_loses_it_when_unshared(client, factory):
    team, sam = await team_of_three(factory)
    run = await start(team.member, "test-results")
    assert (await client.get(f"{API}/{run}", headers=sam.bearer)).status_code == 404
    assert run not in await ids(client, sam)

    shared = await client.put(f"{API}/{run}/shares/{sam.id}", headers=team.member.bearer)
    assert shared.status_code == 200, shared.text
    assert shared.json()["name"] == "Sam Second" and shared.json()["shared_by_name"] == "Max Member"
    mail = await EmailOutbox.select().where(EmailOutbox.to_email == "sam@acme.example").first()
    assert mail["subject"] == "Max Member shared a run with you: test-results"
    assert f"/w/acme/executions/{run}" in mail["body_text"]
    again = await client.put(f"{API}/{run}/shares/{sam.id}", headers=team.member.bearer)
    assert again.status_code == 200
    assert await EmailOutbox.count().where(EmailOutbox.to_email == "sam@acme.example") == 1  # no second email

    assert run in await ids(client, sam)
    assert (await client.get(f"{API}/{run}", headers=sam.bearer)).status_code == 200
    assert (await client.get(f"{API}/{run}/results", headers=sam.bearer)).status_code == 200
    assert (await client.get(f"{API}/{run}/export", params={"format": "csv"}, headers=sam.bearer)).status_code == 200
    sharing = (await client.get(f"{API}/{run}/sharing", headers=sam.bearer)).json()
    assert [p["email"] for p in sharing["people"]] == ["sam@acme.example"] and sharing["links"] is None

    removed = await client.delete(f"{API}/{run}/shares/{sam.id}", headers=team.member.bearer)
    assert removed.status_code == 204
    assert (await client.get(f"{API}/{run}", headers=sam.bearer)).status_code == 404
    assert run not in await ids(client, sam)
    gone = await client.delete(f"{API}/{run}/shares/{sam.id}", headers=team.member.bearer)
    assert gone.status_code == 404 and "not shared" in gone.json()["message"]


async def test_a_teammate_may_not_change_a_shared_run(client, factory):
    team, sam = await team_of_three(factory)
    run = await start(team.member, "test-results")
    queued = await start(team.member, run=False)
    for run_id in (run, queued):
        assert (await client.put(f"{API}/{run_id}/shares/{sam.id}", headers=team.member.bearer)).status_code == 200
    recs = (await client.get(f"{API}/{run}/results", params={"kind": "recommendation"}, headers=sam.bearer)).json()
    rec = recs["items"][0]["id"]

    refused = [
        await client.post(f"{API}/{queued}/cancel", headers=sam.bearer),
        await client.delete(f"{API}/{run}", headers=sam.bearer),
        await client.post(f"/api/v1/workspaces/acme/results/{rec}/approve", headers=sam.bearer),
        await client.post(f"{API}/{run}/results/reject", json={"result_ids": [rec]}, headers=sam.bearer),
        await client.post(f"{API}/{run}/apply", json={"result_ids": [rec]}, headers=sam.bearer),
        await client.put(f"{API}/{run}/shares/{team.admin.id}", headers=sam.bearer),
        await client.post(f"{API}/{run}/links", json={"password": PASSWORD}, headers=sam.bearer),
    ]
    assert [r.status_code for r in refused] == [403] * len(refused)
    assert "only whoever started it or an admin" in refused[0].json()["message"]
    status = (await client.get(f"{API}/{queued}", headers=sam.bearer)).json()["status"]
    assert status == "queued"  # nothing changed
    rerun = await client.post(f"{API}/{run}/rerun", headers=sam.bearer)  # a run of their own is fine
    assert rerun.status_code == 202 and rerun.json()["started_by"] == str(sam.id)

    admin = await client.post(f"{API}/{queued}/cancel", headers=team.admin.bearer)
    assert admin.status_code == 200 and admin.json()["status"] == "canceled"


async def test_sharing_asks_for_a_member_of_the_workspace(client, factory):
    team, sam = await team_of_three(factory)
    run = await start(team.member)
    outsider = await client.put(f"{API}/{run}/shares/{team.outsider.id}", headers=team.member.bearer)
    assert outsider.status_code == 404 and outsider.json()["message"] == "member not found"
    own = await client.put(f"{API}/{run}/shares/{team.member.id}", headers=team.member.bearer)
    assert own.status_code == 409 and "theirs already" in own.json()["message"]
    assert await fetch("SELECT count(*) AS n FROM execution_shares") == [{"n": 0}]


async def test_a_member_s_list_merges_own_and_shared_runs_newest_first_across_pages(client, factory):
    team, sam = await team_of_three(factory)
    order = []
    for person in (sam, team.member, sam, team.admin, team.member, sam):
        order.append((person, await start(person)))
    for person, run in order:
        if person is not sam:
            assert (await client.put(f"{API}/{run}/shares/{sam.id}", headers=person.bearer)).status_code == 200
    unshared = await start(team.member)
    expected = [run for _, run in reversed(order)]
    assert await ids(client, sam) == expected and unshared not in expected
    pages, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        body = (await client.get(API, params=params, headers=sam.bearer)).json()
        pages += [r["id"] for r in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == expected
    assert await ids(client, sam, started_by=str(team.admin.id)) == [order[3][1]]
    # and back: the page before the last one, as the list page's "Newer" link reads it
    scope = await resolve_scope("acme", sam.id)
    last_first = await listing.page(scope, listing.Filters(), PageRequest(None, 4))
    newer, _ = await listing.page(scope, listing.Filters(), PageRequest(last_first[1], 2), newer=True)
    assert [str(r["id"]) for r in newer] == expected[1:3]  # the two just newer than the cursor (row 4)


async def test_a_link_shows_results_after_the_password_and_ends_when_revoked(client, factory):
    team, _ = await team_of_three(factory)
    run = await start(team.member, "test-results")
    short = await client.post(f"{API}/{run}/links", json={"password": "short"}, headers=team.member.bearer)
    assert short.status_code == 422 and short.json()["field"] == "password"
    too_long = await client.post(f"{API}/{run}/links", json={"password": PASSWORD, "expires_in_days": 91},
                                 headers=team.member.bearer)
    assert too_long.status_code == 422 and too_long.json()["field"] == "expires_in_days"
    created = await client.post(f"{API}/{run}/links", json={"password": PASSWORD, "expires_in_days": 3},
                                headers=team.member.bearer)
    assert created.status_code == 201, created.text
    link = created.json()
    token = link["url"].rsplit("/s/", 1)[1]
    assert link["url"].startswith("http://127.0.0.1:8000/s/sl_") and len(token) >= 3 + 43  # 256 random bits
    stored = await ShareLink.select().first()
    assert stored["password_hash"].startswith("$argon2id$") and token not in stored["token_hash"]
    listed = (await client.get(f"{API}/{run}/sharing", headers=team.member.bearer)).json()["links"]
    assert listed[0]["url"] is None and listed[0]["active"] and listed[0]["opens"] == 0

    async with _browser(client) as visitor:
        locked = await visitor.get(f"/s/{token}")
        assert locked.status_code == 200 and "Enter the password" in locked.text
        assert "Score" not in locked.text and locked.headers["referrer-policy"] == "no-referrer"
        assert (await visitor.get(f"/s/{token}/export?format=csv")).status_code == 404
        wrong = await visitor.post(f"/s/{token}", data={"password": "not the password",
                                                        "_csrf_token": csrf_from(locked.text)})
        assert wrong.status_code == 401 and "wrong password" in wrong.text
        right = await visitor.post(f"/s/{token}", data={"password": PASSWORD, "_csrf_token": csrf_from(locked.text)})
        assert right.status_code == 303
        page = await visitor.get(f"/s/{token}")
        assert page.status_code == 200 and "test-results" in page.text
        assert "About Northwind Outfitters" in page.text and "72 of 100 checks pass." in page.text
        assert "Processing log" not in page.text and "credits" not in page.text.lower()
        assert 'name="result_ids"' not in page.text and "Approve selected" not in page.text
        chart = re.search(rf'src="(/s/{token}/results/[^"]+/charts/0/0)"', page.text)
        assert chart and (await visitor.get(chart.group(1))).headers["content-type"] == "image/svg+xml"
        narrow = await visitor.get(chart.group(1), params={"size": "narrow"})  # phones get the phone's chart
        assert narrow.status_code == 200 and 'viewBox="0 0 360 ' in narrow.text
        assert (await visitor.get(chart.group(1), params={"size": "huge"})).status_code == 422
        file = re.search(rf'href="(/s/{token}/files/[^"]+/download)"', page.text)
        assert file and (await visitor.get(file.group(1))).status_code == 200
        other_run = await start(team.member, "test-results")  # a result of another run is not this link's
        other = (await client.get(f"{API}/{other_run}/results", params={"kind": "artifact"},
                                  headers=team.member.bearer)).json()["items"][0]["id"]
        assert (await visitor.get(f"/s/{token}/files/{other}/download")).status_code == 404
        download = await visitor.get(f"/s/{token}/export?format=csv")
        assert download.status_code == 200 and download.headers["content-type"] == "application/zip"
        assert (await visitor.get(f"/s/{token}/export?format=json")).status_code == 422
        opened = (await client.get(f"{API}/{run}/sharing", headers=team.member.bearer)).json()["links"][0]
        assert opened["opens"] == 1 and opened["opened_at"]

        revoked = await client.delete(f"{API}/{run}/links/{link['id']}", headers=team.member.bearer)
        assert revoked.status_code == 204
        after = await visitor.get(f"/s/{token}")
        assert after.status_code == 404 and "expired or was revoked" in after.text


async def test_wrong_passwords_are_throttled_per_link(client, factory):
    team, _ = await team_of_three(factory)
    run = await start(team.member)
    token = (await client.post(f"{API}/{run}/links", json={"password": PASSWORD},
                               headers=team.member.bearer)).json()["url"].rsplit("/s/", 1)[1]
    async with _browser(client) as visitor:
        form = csrf_from((await visitor.get(f"/s/{token}")).text)
        codes = [(await visitor.post(f"/s/{token}", data={"password": f"guess number {i}", "_csrf_token": form}))
                 .status_code for i in range(6)]
        assert codes == [401] * 5 + [429]
        blocked = await visitor.post(f"/s/{token}", data={"password": PASSWORD, "_csrf_token": form})
        assert blocked.status_code == 429 and "too many wrong passwords for this link" in blocked.text
        assert int(blocked.headers["retry-after"]) > 0


async def test_a_link_ends_when_it_expires_its_run_is_deleted_or_its_maker_leaves(client, factory):
    team, sam = await team_of_three(factory)
    tokens = {}
    for case in ("expires", "deleted", "leaves"):
        maker = sam if case == "leaves" else team.member
        run = await start(maker)
        body = (await client.post(f"{API}/{run}/links", json={"password": PASSWORD}, headers=maker.bearer)).json()
        tokens[case] = (body["url"].rsplit("/s/", 1)[1], run, UUID(body["id"]))
    async with _browser(client) as visitor:
        for token, _, _ in tokens.values():
            assert (await visitor.get(f"/s/{token}")).status_code == 200
        await fetch("UPDATE share_links SET created_at = now() - interval '2 days', "
                    "expires_at = now() - interval '1 day' WHERE id = {}", tokens["expires"][2])
        assert (await client.delete(f"{API}/{tokens['deleted'][1]}", headers=team.member.bearer)).status_code == 204
        assert (await client.delete(f"/api/v1/workspaces/acme/members/{sam.id}",
                                    headers=team.admin.bearer)).status_code == 204
        for token, _, _ in tokens.values():
            assert (await visitor.get(f"/s/{token}")).status_code == 404
    listed = (await client.get(f"{API}/{tokens['expires'][1]}/sharing", headers=team.member.bearer)).json()
    assert listed["links"][0]["active"] is False
    left = (await client.get(f"{API}/{tokens['leaves'][1]}/sharing", headers=team.admin.bearer)).json()
    assert left["links"][0]["revoked_at"] is not None  # revoked when Sam left, not just dormant


async def test_leaving_the_workspace_ends_what_was_shared_with_you(client, factory):
    team, sam = await team_of_three(factory)
    run = await start(team.member)
    assert (await client.put(f"{API}/{run}/shares/{sam.id}", headers=team.member.bearer)).status_code == 200
    assert (await client.delete(f"/api/v1/workspaces/acme/members/{sam.id}",
                                headers=team.admin.bearer)).status_code == 204
    await factory.member("acme", sam)
    await factory.token("acme", sam)
    assert (await client.get(f"{API}/{run}", headers=sam.bearer)).status_code == 404
    assert (await client.get(f"{API}/{run}/sharing", headers=team.member.bearer)).json()["people"] == []


async def test_the_share_page_shares_with_a_teammate_and_shows_a_new_link_once(client, factory):
    team, sam = await team_of_three(factory)
    run = await start(team.member, "test-results")
    await sign_in(client, team.member.email, team.member.password)
    page = await client.get(f"/w/acme/executions/{run}/share")
    assert page.status_code == 200 and "Sam Second" in page.text and "Not shared with anyone yet" in page.text
    assert f'value="{team.admin.id}"' not in page.text  # admins see every run already: not offered
    shared = await client.post(f"/w/acme/executions/{run}/share",
                               data={"user_id": str(sam.id), "_csrf_token": csrf_from(page.text)})
    assert shared.status_code == 303
    page = await client.get(f"/w/acme/executions/{run}/share")
    assert "Stop sharing" in page.text  # Sam was the only one to offer: the page says so, truthfully
    assert "Nobody else to share with: every other member has it already" in page.text
    short = await client.post(f"/w/acme/executions/{run}/links",
                              data={"password": "short", "expires_in_days": "7", "_csrf_token": csrf_from(page.text)})
    assert short.status_code == 422 and "at least 10 characters" in short.text
    created = await client.post(f"/w/acme/executions/{run}/links", data={
        "password": PASSWORD, "expires_in_days": "7", "_csrf_token": csrf_from(page.text)})
    url = re.search(r'value="(http://127\.0\.0\.1:8000/s/sl_[^"]+)"', created.text)
    assert created.status_code == 200 and url
    again = await client.get(f"/w/acme/executions/{run}/share")
    assert url.group(1) not in again.text and "active" in again.text
    run_page = await client.get(f"/w/acme/executions/{run}")
    assert "Share · 1" in run_page.text

    await client.post("/logout", data={"_csrf_token": csrf_from(run_page.text)})
    await sign_in(client, sam.email, sam.password)
    seen = await client.get(f"/w/acme/executions/{run}")
    assert seen.status_code == 200 and "Max Member shared this run with you" in seen.text
    assert "Approve selected" not in seen.text and ">Delete<" not in seen.text and "Mark done" not in seen.text
    listed = await client.get("/w/acme/executions")
    assert f"/w/acme/executions/{run}" in listed.text and "Max Member shared this run with you" in listed.text


class _browser:
    """A second client on the same app with its own cookies: someone who only has the link."""

    def __init__(self, client):
        self.client = client.__class__(transport=client._transport, base_url=client.base_url)

    async def __aenter__(self):
        return await self.client.__aenter__()

    async def __aexit__(self, *exc):
        await self.client.__aexit__(*exc)


async def test_the_pdf_behind_a_link_leaves_out_credits_and_the_run_s_inner_workings(client, factory):
    from agentledger.platform import storage
    from tests.test_exports import key_of, pdf_text

    team, _ = await team_of_three(factory)
    run = await start(team.member, "test-results")
    own = await client.get(f"{API}/{run}/export", params={"format": "pdf"}, headers=team.member.bearer)
    assert "Credits" in pdf_text(await storage.get(key_of(own.headers["location"])))[1]
    token = (await client.post(f"{API}/{run}/links", json={"password": PASSWORD},
                               headers=team.member.bearer)).json()["url"].rsplit("/s/", 1)[1]
    async with _browser(client) as visitor:
        form = csrf_from((await visitor.get(f"/s/{token}")).text)
        await visitor.post(f"/s/{token}", data={"password": PASSWORD, "_csrf_token": form})
        shared = await visitor.get(f"/s/{token}/export?format=pdf")
    assert shared.status_code == 303
    text = pdf_text(await storage.get(key_of(shared.headers["location"])))[1]
    assert "72/100" in text and "About Northwind Outfitters" in text
    assert "Credits" not in text and "How this run went" not in text


async def test_unlocking_a_link_starts_a_new_session_and_keeps_apart_from_sign_in_throttling(client, factory):
    team, _ = await team_of_three(factory)
    tokens = []
    for _ in range(2):
        run = await start(team.member)
        body = (await client.post(f"{API}/{run}/links", json={"password": PASSWORD},
                                  headers=team.member.bearer)).json()
        tokens.append((body["url"].rsplit("/s/", 1)[1], body["id"]))
    (first, _), (second, second_id) = tokens
    async with _browser(client) as visitor:
        form = csrf_from((await visitor.get("/login")).text)
        for subject in (f"share-link:{second_id}", second_id):  # typed at sign-in, they must not lock a link
            for _ in range(6):
                await visitor.post("/login", data={"email": subject, "password": "x", "_csrf_token": form})
        await visitor.post(f"/s/{first}", data={"password": PASSWORD, "_csrf_token": form})
        before = visitor.cookies.get("session")
        assert before  # the first link's unlock made a session
        opened = await visitor.post(f"/s/{second}", data={"password": PASSWORD, "_csrf_token": form})
        assert opened.status_code == 303
        after = visitor.cookies.get("session")
        assert after and after != before  # a session id known before the password is useless after it
        assert "Enter the password" not in (await visitor.get(f"/s/{first}")).text  # both stay unlocked


async def test_sharing_review_findings_answer_clearly(client, factory):
    """Bad days on the page, a teammate's bulk decision, a deactivated teammate, a demoted admin's links,
    deleted runs in the live filter and an impossible cursor: each a clear 4xx or a quiet end, never a 500."""
    from agentledger.platform.executions import repository
    from agentledger.platform.tables import User
    from agentledger.web.api.events import _visible_to, _while_visible

    team, sam = await team_of_three(factory)
    run = await start(team.member, "test-results")
    await sign_in(client, team.member.email, team.member.password)
    page = await client.get(f"/w/acme/executions/{run}/share")
    odd = await client.post(f"/w/acme/executions/{run}/links",
                            data={"password": PASSWORD, "expires_in_days": "¹", "_csrf_token": csrf_from(page.text)})
    assert odd.status_code == 422 and "a number of days" in odd.text

    assert (await client.put(f"{API}/{run}/shares/{sam.id}", headers=team.member.bearer)).status_code == 200
    bulk = await client.post(f"{API}/{run}/results/approve", json={"result_ids": [str(sam.id)]}, headers=sam.bearer)
    assert bulk.status_code == 403

    sam_scope = await resolve_scope("acme", sam.id)
    follows = _while_visible(sam_scope, UUID(run))
    assert await follows() is not None
    wanted = await _visible_to(sam_scope)()
    assert await wanted({"run": run, "started_by": str(team.member.id)})
    assert (await client.delete(f"{API}/{run}", headers=team.member.bearer)).status_code == 204
    assert await follows() is None and await repository.visible_ids(sam_scope, [run]) == set()
    assert not await (await _visible_to(sam_scope)())({"run": run, "started_by": str(team.member.id)})

    other = await start(team.member)
    await User.update({User.is_active: False}).where(User.id == sam.id)
    gone = await client.put(f"{API}/{other}/shares/{sam.id}", headers=team.member.bearer)
    assert gone.status_code == 404 and gone.json()["message"] == "member not found"

    boss = await factory.user("boss@acme.example", "Bo Boss")
    await factory.member("acme", boss, role="admin")
    await factory.token("acme", boss)
    made = await client.post(f"{API}/{other}/links", json={"password": PASSWORD}, headers=boss.bearer)
    assert made.status_code == 201
    assert (await client.patch(f"/api/v1/workspaces/acme/members/{boss.id}", json={"role": "member"},
                               headers=team.admin.bearer)).status_code == 200
    links = (await client.get(f"{API}/{other}/sharing", headers=team.member.bearer)).json()["links"]
    assert links[0]["active"] is False and links[0]["revoked_at"]

    odd_cursor = "WyIwMDAxLTAxLTAxVDAwOjAwOjAwKzAxOjAwIiwiMDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAwIl0"
    bad = await client.get(API, params={"cursor": odd_cursor}, headers=team.member.bearer)
    assert bad.status_code == 422 and bad.json()["field"] == "cursor"
