"""Buying credits through Stripe (devstripe, driven by the real ``stripe`` library): a checkout per pack,
credits only from a verified webhook, each event once, any delivery order ending in the same wallet,
refunds and disputes clawed back pro rata, and what a wallet cannot cover owed and repaid first."""

from __future__ import annotations

import asyncio
import itertools
import json
import time

import pytest

from agentledger.platform.database import fetch
from tests.support.stripe import deliver, signed

API = "/api/v1/workspaces/acme"


async def wallet(client, person) -> dict:
    answer = await client.get(f"{API}/wallet", headers=person.bearer)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def checkout(client, person, pack="starter", **headers) -> dict:
    answer = await client.post(f"{API}/billing/checkout", json={"pack": pack}, headers={**person.bearer, **headers})
    assert answer.status_code == 201, answer.text
    return answer.json()


async def purchase(client, person, purchase_id) -> dict:
    answer = await client.get(f"{API}/billing/purchases/{purchase_id}", headers=person.bearer)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def replay(client, shop, session_id, *types) -> None:
    for delivery in shop.session_deliveries(session_id):
        if not types or delivery["type"] in types:
            answer = await deliver(client, delivery)
            assert answer.status_code == 200, answer.text


async def bought(client, shop, person, pack="starter") -> dict:
    """A paid checkout whose events all reached us: the purchase as the API shows it."""
    started = await checkout(client, person, pack)
    assert shop.hosted(started["id"], "pay").status_code == 303
    await replay(client, shop, started["id"])
    return await purchase(client, person, started["purchase_id"])


async def test_an_admin_buys_a_pack_and_credits_arrive_only_with_the_paid_event(shop, client, factory):
    team = await factory.team()
    packs = await client.get(f"{API}/billing/packs", headers=team.admin.bearer)
    assert packs.json()["items"] == [{"id": "starter", "credits": 1000, "price": 1900, "currency": "usd"},
                                     {"id": "team", "credits": 5000, "price": 8500, "currency": "usd"}]
    started = await checkout(client, team.admin)
    session = shop.client.v1.checkout.sessions.retrieve(started["id"])
    assert started["url"] == session.url and session.amount_total == 1900 and session.currency == "usd"
    acme = (await fetch("SELECT id FROM workspaces WHERE slug = 'acme'"))[0]["id"]
    assert session.client_reference_id == str(acme) and session.metadata["workspace"] == str(acme)
    assert session.metadata["purchase"] == started["purchase_id"]

    assert (await purchase(client, team.admin, started["purchase_id"]))["status"] == "pending"
    assert shop.hosted(started["id"], "pay").status_code == 303
    assert (await wallet(client, team.admin))["available"] == 0  # the redirect back grants nothing

    await replay(client, shop, started["id"])
    assert await wallet(client, team.admin) == {"available": 1000, "held": 0, "owed": 0}
    after = await purchase(client, team.admin, started["purchase_id"])
    assert (after["status"], after["credits_granted"], after["checkout_url"]) == ("paid", 1000, None)
    assert after["receipt_url"].startswith(shop.url)
    keys = [r["key"] for r in await fetch("SELECT key FROM ledger_transfers")]
    assert keys == [f"stripe:{started['id']}:grant"]


async def test_one_customer_per_workspace_and_a_double_click_opens_one_checkout(shop, client, factory):
    team = await factory.team()
    first, second = await asyncio.gather(checkout(client, team.admin), checkout(client, team.admin))
    assert first == second
    keyed = await checkout(client, team.admin, **{"Idempotency-Key": "order-7"})
    again = await checkout(client, team.admin, **{"Idempotency-Key": "order-7"})
    assert keyed == again and keyed["id"] != first["id"]
    customers = {shop.client.v1.checkout.sessions.retrieve(s).customer for s in (first["id"], keyed["id"])}
    assert len(customers) == 1
    assert len((await client.get(f"{API}/billing/purchases", headers=team.admin.bearer)).json()["items"]) == 2


async def test_members_and_strangers_cannot_buy(shop, client, factory):
    team = await factory.team()
    for path in ("packs", "purchases", "account"):
        assert (await client.get(f"{API}/billing/{path}", headers=team.member.bearer)).status_code == 403
        assert (await client.get(f"{API}/billing/{path}", headers=team.outsider.bearer)).status_code == 404
    refused = await client.post(f"{API}/billing/checkout", json={"pack": "starter"}, headers=team.member.bearer)
    assert refused.status_code == 403
    unknown = await client.post(f"{API}/billing/checkout", json={"pack": "mega"}, headers=team.admin.bearer)
    assert (unknown.status_code, unknown.json()["field"]) == (422, "pack")
    assert await fetch("SELECT 1 FROM purchases") == []


@pytest.mark.parametrize("case", ["tampered", "wrong secret", "no header", "stale", "not json"])
async def test_a_delivery_stripe_did_not_sign_is_a_400_that_writes_nothing(shop, client, factory, case):
    team = await factory.team()
    started = await checkout(client, team.admin)
    shop.hosted(started["id"], "pay")
    good = shop.deliveries(type="checkout.session.completed")[-1]
    payload, signature = good["payload"], good["signature"]
    if case == "tampered":
        payload = payload.replace('"amount_total": 1900', '"amount_total": 1')
    elif case == "wrong secret":
        signature = signed(payload, "whsec_not_ours")
    elif case == "stale":
        signature = signed(payload, shop.webhook_secret, int(time.time()) - 301)
    elif case == "not json":
        payload = "{not json"
        signature = signed(payload, shop.webhook_secret)
    headers = {"Content-Type": "application/json"} | ({} if case == "no header" else {"Stripe-Signature": signature})
    answer = await client.post("/webhooks/stripe", content=payload.encode(), headers=headers)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == "bad_request"
    assert await fetch("SELECT 1 FROM stripe_events") == [] and await fetch("SELECT 1 FROM ledger_transfers") == []


async def test_a_rotated_secret_still_verifies(shop, client, factory, override_settings):
    override_settings(STRIPE_WEBHOOK_SECRET=f"whsec_new_one,{shop.webhook_secret}")
    team = await factory.team()
    await bought(client, shop, team.admin)
    assert (await wallet(client, team.admin))["available"] == 1000


async def test_ten_concurrent_duplicate_deliveries_grant_once(shop, client, factory):
    team = await factory.team()
    started = await checkout(client, team.admin)
    shop.hosted(started["id"], "pay")
    paid = [d for d in shop.session_deliveries(started["id"]) if d["type"] == "checkout.session.completed"][0]
    answers = await asyncio.gather(*(deliver(client, paid) for _ in range(10)))
    assert [a.status_code for a in answers] == [200] * 10
    assert sorted(a.json()["outcome"] for a in answers) == ["duplicate: handled before"] * 9 + ["granted 1000"]
    assert (await wallet(client, team.admin))["available"] == 1000
    assert len(await fetch("SELECT 1 FROM ledger_transfers")) == 1


async def test_unknown_event_types_are_kept_and_answered(shop, client, factory):
    payload = json.dumps({"id": "evt_unknown_1", "object": "event", "type": "customer.updated",
                          "data": {"object": {"id": "cus_x", "object": "customer"}}})
    answer = await client.post("/webhooks/stripe", content=payload.encode(), headers={
        "Content-Type": "application/json", "Stripe-Signature": signed(payload, shop.webhook_secret)})
    assert answer.status_code == 200 and "ignored" in answer.json()["outcome"]
    assert [r["type"] for r in await fetch("SELECT type FROM stripe_events")] == ["customer.updated"]


async def test_an_amount_that_is_not_what_we_asked_grants_nothing_and_admins_see_why(shop, client, factory):
    team = await factory.team()
    started = await checkout(client, team.admin)
    shop.hosted(started["id"], "pay")
    real = [d for d in shop.session_deliveries(started["id"]) if d["type"] == "checkout.session.completed"][0]
    event = json.loads(real["payload"])
    event["data"]["object"]["amount_total"] = 1500
    payload = json.dumps(event)
    answer = await client.post("/webhooks/stripe", content=payload.encode(), headers={
        "Content-Type": "application/json", "Stripe-Signature": signed(payload, shop.webhook_secret)})
    assert answer.status_code == 200
    assert (await wallet(client, team.admin))["available"] == 0
    seen = await purchase(client, team.admin, started["purchase_id"])
    assert seen["status"] == "failed" and "Stripe reported 1500 USD" in seen["problem"] and "1900 USD" in seen["problem"]


async def test_async_payment_grants_when_it_succeeds_and_never_when_it_fails(shop, client, factory):
    team = await factory.team()
    later = await checkout(client, team.admin)
    shop.hosted(later["id"], "later")
    await replay(client, shop, later["id"])
    assert (await purchase(client, team.admin, later["purchase_id"]))["status"] == "pending"
    assert (await wallet(client, team.admin))["available"] == 0
    shop.dev(f"sessions/{later['id']}/settle", result="succeeded")
    await replay(client, shop, later["id"])
    assert (await wallet(client, team.admin))["available"] == 1000

    failing = await checkout(client, team.admin, pack="team")
    shop.hosted(failing["id"], "later")
    shop.dev(f"sessions/{failing['id']}/settle", result="failed")
    await replay(client, shop, failing["id"])
    assert (await purchase(client, team.admin, failing["purchase_id"]))["status"] == "failed"
    assert (await wallet(client, team.admin))["available"] == 1000


async def test_a_partial_refund_claws_back_exactly_its_share(shop, client, factory):
    team = await factory.team()
    paid = await bought(client, shop, team.admin)
    shop.client.v1.refunds.create({"payment_intent": await _intent(paid["id"]), "amount": 633})  # a third of 1900
    await replay(client, shop, paid["stripe_session"], "charge.refunded")
    assert (await wallet(client, team.admin))["available"] == 1000 - 333  # 1000 * 633 // 1900, in the buyer's favour
    after = await purchase(client, team.admin, paid["id"])
    assert (after["status"], after["amount_refunded"], after["credits_granted"]) == ("partly refunded", 633, 667)
    shop.client.v1.refunds.create({"payment_intent": await _intent(paid["id"])})  # the rest
    await replay(client, shop, paid["stripe_session"], "charge.refunded")
    assert (await wallet(client, team.admin))["available"] == 0
    assert (await purchase(client, team.admin, paid["id"]))["status"] == "refunded"


async def _intent(purchase_id) -> str:
    return (await fetch("SELECT payment_intent FROM purchases WHERE id = {}", purchase_id))[0]["payment_intent"]


async def test_a_dispute_takes_back_and_a_won_dispute_gives_back(shop, client, factory):
    team = await factory.team()
    paid = await bought(client, shop, team.admin)
    charge_id = (await fetch("SELECT charge FROM stripe_payments"))[0]["charge"]
    dispute = shop.dev(f"charges/{charge_id}/dispute")
    await replay(client, shop, paid["stripe_session"], "charge.dispute.created")
    assert (await wallet(client, team.admin))["available"] == 0
    assert (await purchase(client, team.admin, paid["id"]))["status"] == "disputed"
    shop.dev(f"disputes/{dispute['id']}/close", status="won")
    await replay(client, shop, paid["stripe_session"], "charge.dispute.closed")
    assert (await wallet(client, team.admin))["available"] == 1000
    assert (await purchase(client, team.admin, paid["id"]))["status"] == "paid"


async def test_every_delivery_order_ends_in_the_same_wallet_and_books(shop, client, factory):
    """All 24 orders of {completed, async_payment_succeeded, refunded (half), dispute (a fifth)}: each in a
    workspace of its own, each ends with 1000 - 500 - 200 = 300 credits and the same account balances."""
    owner = await factory.user()
    finals = set()
    for n, order in enumerate(itertools.permutations(range(4))):
        slug = f"order{n}"
        await factory.workspace(slug, owner)
        await factory.token(slug, owner)
        api = f"/api/v1/workspaces/{slug}"
        started = (await client.post(f"{api}/billing/checkout", json={"pack": "starter"}, headers=owner.bearer)).json()
        shop.hosted(started["id"], "later")
        shop.dev(f"sessions/{started['id']}/settle", result="succeeded")
        intent = shop.client.v1.checkout.sessions.retrieve(started["id"]).payment_intent
        shop.client.v1.refunds.create({"payment_intent": intent, "amount": 950})
        events = {d["type"]: d for d in shop.session_deliveries(started["id"])}
        charge = json.loads(events["charge.refunded"]["payload"])["data"]["object"]["id"]
        shop.dev(f"charges/{charge}/dispute", amount=380)
        events = {d["type"]: d for d in shop.session_deliveries(started["id"])}
        four = [events[t] for t in ("checkout.session.completed", "checkout.session.async_payment_succeeded",
                                    "charge.refunded", "charge.dispute.created")]
        for index in order:
            assert (await deliver(client, four[index])).status_code == 200
        seen = (await client.get(f"{api}/wallet", headers=owner.bearer)).json()
        books = await fetch("SELECT account, sum(amount)::bigint AS balance FROM ("
                            "SELECT credit AS account, amount FROM ledger_transfers t JOIN workspaces w ON w.id = t.workspace "
                            "WHERE w.slug = {} UNION ALL SELECT debit, -amount FROM ledger_transfers t "
                            "JOIN workspaces w ON w.id = t.workspace WHERE w.slug = {}) m GROUP BY account ORDER BY account",
                            slug, slug)
        finals.add((json.dumps(seen), json.dumps(books)))
    assert len(finals) == 1, finals
    wallet_seen, books = finals.pop()
    assert json.loads(wallet_seen) == {"available": 300, "held": 0, "owed": 0}
    assert {r["account"]: r["balance"] for r in json.loads(books)} == {"available": 300, "external": -300}


async def test_a_clawback_the_wallet_cannot_cover_is_owed_blocks_runs_and_is_repaid_first(shop, client, factory):
    team = await factory.team()
    paid = await bought(client, shop, team.admin)
    spent = await client.post(f"{API}/executions", json={"agent": "noop", "inputs": {}, "scope": 800},
                              headers=team.member.bearer)
    assert spent.status_code == 202
    from uuid import UUID

    from agentledger.agents import runner

    await runner.run_execution(UUID(spent.json()["id"]))
    assert (await wallet(client, team.admin))["available"] == 200
    shop.client.v1.refunds.create({"payment_intent": await _intent(paid["id"])})
    await replay(client, shop, paid["stripe_session"], "charge.refunded")
    assert await wallet(client, team.admin) == {"available": 0, "held": 0, "owed": 800}

    refused = await client.post(f"{API}/executions", json={"agent": "noop", "inputs": {}, "scope": 1},
                                headers=team.member.bearer)
    assert refused.status_code == 402
    assert refused.json()["error"] == "credits_owed" and "800 credits are owed" in refused.json()["message"]
    assert "buy credits" in refused.json()["message"]

    await bought(client, shop, team.admin)  # 1000 more: 800 repay the debt first
    assert await wallet(client, team.admin) == {"available": 200, "held": 0, "owed": 0}
    assert (await client.post(f"{API}/executions", json={"agent": "noop", "inputs": {}, "scope": 1},
                              headers=team.member.bearer)).status_code == 202


async def test_a_refund_racing_the_paid_event_of_a_new_purchase_is_never_lost(shop, client, factory):
    """The refund's event names only the payment intent, which the purchase learns from the paid event:
    delivered at the same moment, each must see the other's effect (one waits for the other)."""
    team = await factory.team()
    expected = 0
    for _ in range(8):
        started = await checkout(client, team.admin)
        shop.hosted(started["id"], "pay")
        shop.client.v1.refunds.create({"payment_intent": shop.client.v1.checkout.sessions.retrieve(
            started["id"]).payment_intent, "amount": 950})
        events = {d["type"]: d for d in shop.session_deliveries(started["id"])}
        answers = await asyncio.gather(deliver(client, events["checkout.session.completed"]),
                                       deliver(client, events["charge.refunded"]))
        assert [a.status_code for a in answers] == [200, 200]
        expected += 500
        assert (await wallet(client, team.admin))["available"] == expected


async def test_a_declined_card_changes_nothing_and_an_expired_checkout_is_failed(shop, client, factory):
    team = await factory.team()
    started = await checkout(client, team.admin)
    declined = shop.hosted(started["id"], "decline")
    assert declined.status_code == 402 and "Your card was declined" in declined.text
    assert shop.session_deliveries(started["id"]) == []  # Stripe says nothing of a decline: still pending
    assert (await purchase(client, team.admin, started["purchase_id"]))["status"] == "pending"
    shop.client.v1.checkout.sessions.expire(started["id"])
    await replay(client, shop, started["id"])
    gone = await purchase(client, team.admin, started["purchase_id"])
    assert (gone["status"], gone["credits_granted"], gone["checkout_url"]) == ("failed", 0, None)
    assert (await client.get(f"{API}/billing/purchases/{started['purchase_id']}/receipt.pdf",
                             headers=team.admin.bearer)).status_code == 409
    assert (await wallet(client, team.admin))["available"] == 0
