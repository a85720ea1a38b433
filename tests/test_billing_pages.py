"""The Billing page and a purchase's page, as an admin and a member meet them (the real app over ASGI,
devstripe as Stripe): buying sends the browser to the hosted checkout, the purchase page says "payment
processing" until the webhook grants, billing details land on the PDF receipt."""

from __future__ import annotations

import io
import re
from pathlib import Path

from pypdf import PdfReader

from tests.support.factories import csrf_from
from tests.support.fixtures import sign_in
from tests.support.stripe import deliver

PAGE = "/w/acme/billing"
SHOTS = Path(__file__).resolve().parents[1] / ".data" / "screenshots"


async def _admin(client, factory):
    team = await factory.team()
    assert (await sign_in(client, team.admin.email, team.admin.password)).status_code == 303
    return team


async def test_the_billing_page_offers_the_packs_and_a_member_is_refused(shop, client, factory):
    team = await _admin(client, factory)
    page = await client.get(PAGE)
    assert page.status_code == 200
    assert "Buy Starter" in page.text and "Buy Team" in page.text and "19.00 USD" in page.text
    assert 'href="/w/acme/billing"' in page.text  # the admin's tab
    assert "content-security-policy" in page.headers and shop.url in page.headers["content-security-policy"]

    await client.post("/logout", data={"_csrf_token": csrf_from(page.text)})
    await sign_in(client, team.member.email, team.member.password)
    refused = await client.get(PAGE)
    assert refused.status_code == 403 and "only workspace admins" in refused.text
    assert 'href="/w/acme/billing"' not in (await client.get("/w/acme/executions")).text


async def test_buying_goes_to_the_hosted_checkout_and_the_purchase_page_follows_the_payment(shop, client, factory):
    await _admin(client, factory)
    page = await client.get(PAGE)
    form = {"_csrf_token": csrf_from(page.text), "pack": "starter",
            "attempt": re.search(r'name="attempt" value="([^"]+)-starter"', page.text).group(1) + "-starter"}
    first = await client.post(f"{PAGE}/checkout", data=form)
    again = await client.post(f"{PAGE}/checkout", data=form)  # the double click
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"]
    session_id = first.headers["location"].rsplit("/", 1)[1]
    assert first.headers["location"].startswith(f"{shop.url}/pay/cs_test_")

    paid = shop.hosted(session_id, "pay")
    back = paid.headers["location"]
    assert back.startswith("http://127.0.0.1:8000/w/acme/billing/purchases/")
    processing = await client.get(back.removeprefix("http://127.0.0.1:8000"))
    assert "Payment processing" in processing.text and 'hx-trigger="every 1s"' in processing.text

    for delivery in shop.session_deliveries(session_id):
        assert (await deliver(client, delivery)).status_code == 200
    done = await client.get(back.removeprefix("http://127.0.0.1:8000"))
    assert "1,000 credits added" in done.text and "hx-trigger" not in done.text
    assert re.search(r"data-available>1,000 credits<", done.text)
    listed = await client.get(PAGE)
    assert "purchase-paid" in listed.text and "receipt.pdf" in listed.text


async def test_billing_details_are_saved_checked_and_printed_on_the_receipt(shop, client, factory):
    await _admin(client, factory)
    page = await client.get(PAGE)
    token = csrf_from(page.text)
    bad = await client.post(f"{PAGE}/account", data={"_csrf_token": token, "billing_name": "Acme Corp",
                                                      "billing_address": "", "low_balance_threshold": "lots"})
    assert bad.status_code == 422 and 'aria-invalid="true"' in bad.text and 'value="Acme Corp"' in bad.text
    saved = await client.post(f"{PAGE}/account", data={
        "_csrf_token": token, "billing_name": "Acme Corporation", "billing_address": "1 Main St\nSpringfield",
        "low_balance_threshold": "5000"})
    assert saved.status_code == 303
    shown = await client.get(saved.headers["location"])
    assert "Billing details saved" in shown.text and "below your warning threshold of\n  5,000" in shown.text

    started = await client.post(f"{PAGE}/checkout", data={"_csrf_token": token, "pack": "starter", "attempt": "a1"})
    session_id = started.headers["location"].rsplit("/", 1)[1]
    purchase_path = shop.hosted(session_id, "pay").headers["location"].removeprefix("http://127.0.0.1:8000")
    early = await client.get(f"{purchase_path.split('?')[0]}/receipt.pdf")
    assert early.status_code == 409  # no receipt before Stripe says it was paid
    for delivery in shop.session_deliveries(session_id):
        await deliver(client, delivery)
    receipt = await client.get(f"{purchase_path.split('?')[0]}/receipt.pdf")
    assert receipt.status_code == 200 and receipt.headers["content-type"] == "application/pdf"
    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / "receipt.pdf").write_bytes(receipt.content)  # to look at: pdftoppm -png receipt.pdf receipt
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(receipt.content)).pages)
    for expected in ("Receipt", "Acme Corporation", "1 Main St", "Springfield", "1,000", "19.00 USD", "Total paid"):
        assert expected in text, (expected, text)


async def test_admins_see_a_low_balance_where_they_start_runs_and_members_do_not(shop, client, factory):
    team = await _admin(client, factory)
    await factory.credits("acme", 300)
    assert "data-wallet-warning" not in (await client.get("/w/acme/executions")).text  # no threshold set
    page = await client.get(PAGE)
    saved = await client.post(f"{PAGE}/account", data={"_csrf_token": csrf_from(page.text), "billing_name": "",
                                                        "billing_address": "", "low_balance_threshold": "500"})
    assert saved.status_code == 303
    listed = await client.get("/w/acme/executions")
    assert "data-wallet-warning" in listed.text and "300 credits left, under the warning threshold of 500" in listed.text
    await client.post("/logout", data={"_csrf_token": csrf_from(listed.text)})
    await sign_in(client, team.member.email, team.member.password)
    assert "data-wallet-warning" not in (await client.get("/w/acme/executions")).text
