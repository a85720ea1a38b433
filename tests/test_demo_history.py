"""The demo's year of history: thousands of Acme runs across members, agents and outcomes, purchases and a
refund, written with the real price and ledger rules (the books balance, every run's credits match its
movements), seeded once."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from agentledger.billing import reconcile
from agentledger.platform.database import fetch
from agentledger.platform.demo import seed
from tests.support.books import assert_books_balance
from tests.support.fixtures import sign_in

SHOP = ("http://127.0.0.1:9", "demo-connector-token-long-enough")


async def test_the_demo_has_a_year_behind_it_that_adds_up_and_is_seeded_once(tmp_path, client):
    await seed(tmp_path / "demo.json", "http://127.0.0.1:8000", demo_site=SHOP)
    acme = (await fetch("SELECT id FROM workspaces WHERE slug = 'acme'"))[0]["id"]
    runs = await fetch("SELECT status, agent, started_by, queued_at FROM executions WHERE workspace = {}", acme)
    assert len(runs) >= 1000
    assert {r["status"] for r in runs} == {"completed", "partial", "failed", "canceled", "timed_out"}
    assert {r["agent"] for r in runs} == {"seo-audit", "link-checker", "content-writer", "analytics-report"}
    assert len({r["started_by"] for r in runs}) == 4
    months = {r["queued_at"].strftime("%Y-%m") for r in runs}
    assert len(months) >= 12

    assert (await reconcile.workspace(acme)).balanced
    await assert_books_balance(acme)  # spent equals the runs' charges; nothing held
    purchases = await fetch("SELECT p.credits, p.credits_granted, s.amount_refunded FROM purchases p "
                            "LEFT JOIN stripe_payments s ON s.payment_intent = p.payment_intent WHERE p.workspace = {}",
                            acme)
    assert len(purchases) >= 3
    refunded = [p for p in purchases if p["amount_refunded"]]
    assert len(refunded) == 1 and refunded[0]["credits_granted"] == refunded[0]["credits"] * 4 // 5
    reasons = {r["memo"] for r in await fetch(
        "SELECT DISTINCT memo FROM ledger_transfers WHERE workspace = {} AND credit = 'available' AND debit = 'held'", acme)}
    assert {"run failed", "canceled", "timed out"} <= reasons

    counts = [len(await fetch(f"SELECT 1 FROM {t}")) for t in ("executions", "ledger_transfers", "purchases")]
    await seed(tmp_path / "demo.json", "http://127.0.0.1:8000", demo_site=SHOP)
    assert [len(await fetch(f"SELECT 1 FROM {t}")) for t in ("executions", "ledger_transfers", "purchases")] == counts

    # what a person opens: the list, an old run's page, the Credits page over the year
    alice = json.loads((tmp_path / "demo.json").read_text())["users"][0]
    assert (await sign_in(client, alice["email"], alice["password"])).status_code == 303
    listed = await client.get("/w/acme/executions")
    assert listed.status_code == 200
    oldest = (await fetch("SELECT id FROM executions WHERE workspace = {} ORDER BY queued_at LIMIT 1", acme))[0]["id"]
    page = await client.get(f"/w/acme/executions/{oldest}")
    assert page.status_code == 200 and "credits" in page.text
    year = await client.get("/w/acme/credits?range=custom&since=2000-01-01&until=2099-12-31")
    assert year.status_code == 422  # more than three years is refused, in words
    credits = await client.get(f"/w/acme/credits?range=custom&since={(datetime.now(UTC) - timedelta(days=370)):%Y-%m-%d}"
                               f"&until={datetime.now(UTC):%Y-%m-%d}")
    assert credits.status_code == 200 and "Carol Content" in credits.text and 'data-books="balanced"' in credits.text

    # the first retention pass archives what the default policy says is old, and the books still add up
    from agentledger.platform.retention import passes

    report = await passes.run_pass(acme)
    archived = await fetch("SELECT status, finished_at FROM executions WHERE workspace = {} AND archived_at IS NOT NULL",
                           acme)
    assert report.archived["acme"] == len(archived) > 0 and not report.errors
    ninety = datetime.now(UTC) - timedelta(days=90)
    assert all(r["finished_at"] < ninety for r in archived)
    assert {r["status"] for r in archived} >= {"failed", "canceled", "timed_out"}
    assert (await reconcile.workspace(acme)).balanced
    await assert_books_balance(acme)
    # the list keeps them where they were, and its filters find them: failures up to 100 days ago
    until = (datetime.now(UTC) - timedelta(days=100)).strftime("%Y-%m-%d")
    old = await client.get(f"/w/acme/executions?tab=failed&since=2000-01-01&until={until}")
    assert old.status_code == 200 and old.text.count('class="badge archived"') >= 1
