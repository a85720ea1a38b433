"""Run and credit alerts reach the right person, through a real SMTP server (aiosmtpd on 127.0.0.1), as
each person chose: a long run's completion, a failure at once with its error's first line and failed
step, a run over the person's credit limit, the admins' low-balance alert once per crossing, and the
admins' receipt when a purchase's credits move."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

import httpx
import pytest

from agentledger.agents import launch
from agentledger.billing import ledger, purchases
from agentledger.notifications import preferences
from agentledger.platform.database import atomic, fetch
from agentledger.platform.executions import lifecycle_repository as lifecycle
from agentledger.platform.executions import service as executions
from agentledger.platform.scoping import resolve_scope
from tests.support.factories import csrf_from
from tests.support.fixtures import sign_in
from tests.support.smtp import smtp_server
from tests.test_notifications import deliver_all


def links(mail) -> list[str]:
    """Every address the HTML part links to."""
    return re.findall(r'href="([^"]+)"', mail.get_body(("html",)).get_content())


async def follow_as(client, person, mail) -> dict[str, int]:
    """What a signed-in reader meets following each link of ``mail`` (paths on our server)."""
    await sign_in(client, person.email, person.password)
    found = {}
    for link in links(mail):
        assert link.startswith("http://127.0.0.1:8000/"), link  # absolute, from BASE_URL
        found[httpx.URL(link).path] = (await client.get(link)).status_code
    return found


@pytest.fixture
def mailbox(override_settings):
    with smtp_server() as (inbox, port):
        override_settings(SMTP_HOST="127.0.0.1", SMTP_PORT=str(port), SMTP_STARTTLS="false",
                          MAIL_FROM="agentledger <robot@example.com>", BASE_URL="http://127.0.0.1:8000")
        yield inbox


async def started_run(person, scope: int) -> dict:
    async with atomic():
        return await launch.start(await resolve_scope("acme", person.id), launch.Request("noop", {}, scope=scope))


async def ended_run(factory, person, status: str, *, minutes: float, items: int = 3, error: str | None = None,
                    step: str | None = None, scope: int | None = None) -> dict:
    """A noop run of ``scope`` items (``items`` by default) that processed ``items`` and ran ``minutes``
    before ending in ``status`` (through the one ``finish``)."""
    run = await started_run(person, scope or max(items, 1))
    await lifecycle.claim(run["id"])
    await fetch("UPDATE executions SET started_at = now() - {}::interval WHERE id = {}", timedelta(minutes=minutes),
                run["id"])
    if step:
        await fetch("INSERT INTO execution_steps (id, execution, position, name, status, started_at) "
                    "VALUES (gen_random_uuid(), {}, 1, {}, 'failed', now())", run["id"], step)
    async with atomic():
        return await executions.finish(run["id"], status, items_processed=items, items_failed=0, error=error,
                                       failed_step=1 if step else None)


async def choose(person, **changes) -> None:
    async with atomic():
        await preferences.save(person.id, changes)


async def test_a_long_run_tells_its_starter_when_it_ends_and_a_short_one_does_not(factory, mailbox):
    team = await factory.team()
    await factory.credits("acme", 100)
    long_run = await ended_run(factory, team.member, "completed", minutes=6)
    await ended_run(factory, team.member, "completed", minutes=4)
    [mail] = await deliver_all(mailbox)
    assert mail["To"] == team.member.email and mail["Subject"] == "noop finished: completed after 6 min"
    text = mail.get_body(("plain",)).get_content()
    link = f"http://127.0.0.1:8000/w/acme/executions/{long_run['id']}"
    assert link in text and link in mail.get_body(("html",)).get_content()
    assert "Credits charged: 3" in text and "longer than 5 minutes" in text
    assert mail["Message-ID"] and mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


async def test_the_minutes_are_the_persons_own_and_off_means_off(factory, mailbox):
    team = await factory.team()
    await factory.credits("acme", 100)
    await choose(team.member, run_finished_minutes=2)
    await ended_run(factory, team.member, "completed", minutes=3)
    await choose(team.admin, run_finished=False)
    await ended_run(factory, team.admin, "completed", minutes=30)
    assert [m["To"] for m in await deliver_all(mailbox)] == [team.member.email]


async def test_a_failure_is_sent_at_once_with_its_first_line_and_failed_step(factory, mailbox):
    team = await factory.team()
    await factory.credits("acme", 100)
    run = await ended_run(factory, team.member, "failed", minutes=0.1, items=0, step="Crawl the site",
                          error="The site answered 403 Forbidden\nTraceback (most recent call last): ...")
    [mail] = await deliver_all(mailbox)
    assert mail["Subject"] == "noop failed: The site answered 403 Forbidden"
    html = mail.get_body(("html",)).get_content()
    assert "Crawl the site" in html and "Traceback" not in html
    assert f"/w/acme/executions/{run['id']}" in mail.get_body(("plain",)).get_content()
    await choose(team.member, run_failed=False)
    await ended_run(factory, team.member, "timed_out", minutes=1, error="took too long")
    assert len(await deliver_all(mailbox)) == 1


async def test_a_canceled_run_mails_nobody(factory, mailbox):
    team = await factory.team()
    await factory.credits("acme", 100)
    await ended_run(factory, team.member, "canceled", minutes=45)
    assert await deliver_all(mailbox) == []


async def test_the_credit_threshold_is_off_until_set_then_reports_runs_over_it(factory, mailbox):
    team = await factory.team()
    await factory.credits("acme", 200)
    await ended_run(factory, team.member, "completed", minutes=1, items=50)
    assert await deliver_all(mailbox) == []  # off by default
    with pytest.raises(Exception, match="above how many credits"):
        await choose(team.member, credit_threshold=True)
    await choose(team.member, credit_threshold=True, credit_threshold_credits=20)
    await ended_run(factory, team.member, "completed", minutes=1, items=20)  # not more than 20
    await ended_run(factory, team.member, "partial", minutes=1, items=21)
    [mail] = await deliver_all(mailbox)
    assert mail["Subject"] == "A noop run charged 21 credits (your limit: 20)"


async def test_low_balance_is_sent_once_per_crossing_to_admins_who_want_it(factory, mailbox):
    team = await factory.team()
    admin = await resolve_scope("acme", team.admin.id)
    await factory.credits("acme", 100)
    async with atomic():
        await purchases.update_account(admin, "", "", 50)
    assert await deliver_all(mailbox) == []  # 100 is not below 50
    await ended_run(factory, team.member, "completed", minutes=1, items=60)  # 40 left: below
    await ended_run(factory, team.member, "completed", minutes=1, items=10)  # 30: still the same crossing
    mails = await deliver_all(mailbox)
    assert [(m["To"], m["Subject"]) for m in mails] == [(team.admin.email, "Acme is low on credits: 40 left")]
    async with atomic():
        await ledger.grant(admin.workspace_id, 100, actor_id=None, memo="top up")  # 130: armed again
    await ended_run(factory, team.member, "completed", minutes=1, items=90)  # 40: the second crossing
    assert len(await deliver_all(mailbox)) == 2
    await choose(team.admin, low_balance=False)
    async with atomic():
        await ledger.grant(admin.workspace_id, 100, actor_id=None, memo="top up")
    await ended_run(factory, team.member, "completed", minutes=1, items=100)
    assert len(await deliver_all(mailbox)) == 2  # the admin turned it off
    crossings = (await fetch("SELECT low_balance_alerts FROM billing_accounts"))[0]["low_balance_alerts"]
    assert crossings == 3


async def test_a_big_hold_that_comes_back_alerts_nobody_and_a_charge_that_crosses_does_once(factory, mailbox):
    """Held credits are still the workspace's: only what is charged can take the balance below."""
    team = await factory.team()
    admin = await resolve_scope("acme", team.admin.id)
    await factory.credits("acme", 100)
    async with atomic():
        await purchases.update_account(admin, "", "", 50)
    for _ in range(3):  # each holds 80 (20 available) and is charged 5
        await ended_run(factory, team.member, "partial", minutes=1, items=5, scope=80)
    assert await deliver_all(mailbox) == []  # 85 left: never below 50
    first, second = await started_run(team.member, 20), await started_run(team.member, 20)
    for run in (first, second):
        await lifecycle.claim(run["id"])

    async def finish(run) -> None:
        async with atomic():
            await executions.finish(run["id"], "completed", items_processed=20, items_failed=0)

    await asyncio.gather(finish(first), finish(second))  # 85 - 40 = 45: crossed by whichever settles second
    mails = await deliver_all(mailbox)
    assert [m["Subject"] for m in mails] == ["Acme is low on credits: 45 left"]
    await ended_run(factory, team.member, "failed", minutes=1, items=0, scope=10)  # a full release: still below
    await ended_run(factory, team.member, "completed", minutes=1, items=5)
    assert [m["Subject"] for m in await deliver_all(mailbox) if "low on credits" in m["Subject"]] == [
        "Acme is low on credits: 45 left"]  # the same crossing: one alert

async def test_a_new_threshold_above_the_balance_alerts_at_once(factory, mailbox):
    team = await factory.team()
    admin = await resolve_scope("acme", team.admin.id)
    await factory.credits("acme", 100)
    async with atomic():
        await purchases.update_account(admin, "Acme Ltd", "", 500)
    async with atomic():
        await purchases.update_account(admin, "Acme Limited", "", 500)  # same threshold: no second alert
    [mail] = await deliver_all(mailbox)
    assert mail["Subject"] == "Acme is low on credits: 100 left"


async def test_admins_get_a_receipt_when_a_purchase_grants_or_claws_back(shop, client, factory, mailbox):
    from tests.test_buying_credits import bought, replay

    team = await factory.team()
    paid = await bought(client, shop, team.admin)
    intent = (await fetch("SELECT payment_intent FROM purchases"))[0]["payment_intent"]
    shop.client.v1.refunds.create({"payment_intent": intent, "amount": 950})
    await replay(client, shop, paid["stripe_session"], "charge.refunded")
    mails = await deliver_all(mailbox)
    assert [(m["To"], m["Subject"]) for m in mails] == [(team.admin.email, "1000 credits added to Acme"),
                                                        (team.admin.email, "500 credits taken back from Acme")]
    text = mails[0].get_body(("plain",)).get_content()
    assert "19.00 USD" in text and f"/w/acme/billing/purchases/{paid['id']}/receipt.pdf" in text
    assert team.member.email not in [m["To"] for m in mails]


async def test_the_links_of_a_failure_and_a_receipt_work_when_the_reader_follows_them(shop, client, factory, mailbox):
    from tests.test_buying_credits import bought

    team = await factory.team()
    await factory.credits("acme", 100)
    run = await ended_run(factory, team.member, "failed", minutes=1, error="boom")
    [failure] = await deliver_all(mailbox)
    followed = await follow_as(client, team.member, failure)
    assert followed[f"/w/acme/executions/{run['id']}"] == 200 and followed["/settings/notifications"] == 200, followed
    assert [code for path, code in followed.items() if path.startswith("/unsubscribe/")] == [200]  # it only asks
    await client.post("/logout", data={"_csrf_token": csrf_from((await client.get("/settings/notifications")).text)})
    paid = await bought(client, shop, team.admin)
    receipt = (await deliver_all(mailbox))[-1]
    followed = await follow_as(client, team.admin, receipt)
    assert followed[f"/w/acme/billing/purchases/{paid['id']}"] == 200
    assert followed[f"/w/acme/billing/purchases/{paid['id']}/receipt.pdf"] == 200
