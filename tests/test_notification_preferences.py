"""One's preferences through the API and the Settings page, and the one-click unsubscribe (RFC 8058)
taken from a delivered message's own header: the POST needs no login and turns off that category only;
the GET only asks; a forged token is a 404."""

from __future__ import annotations

import asyncio
import re
from dataclasses import fields

import httpx
import pytest

from agentledger.notifications import preferences, sender
from agentledger.notifications.schemas import PreferencesIn, PreferencesOut
from agentledger.notifications.tables import EmailOutbox, NotificationPreference
from agentledger.platform import invitations
from agentledger.platform.database import atomic
from agentledger.platform.scoping import resolve_scope
from agentledger.web.pages.notifications import PreferencesForm
from tests.support.factories import csrf_from
from tests.support.fixtures import sign_in
from tests.support.smtp import smtp_server

API = "/api/v1/me/notifications"


async def test_preferences_default_change_in_part_and_refuse_what_is_out_of_range(factory, client):
    team = await factory.team()
    me = await client.get(API, headers=team.member.bearer)
    assert me.status_code == 200
    assert me.json() | {} == {"run_finished": True, "run_finished_minutes": 5, "run_failed": True,
                              "credit_threshold": False, "credit_threshold_credits": None, "low_balance": True,
                              "purchase_receipt": True, "restore_requested": True, "weekly_digest": True,
                              "review_requested": True,
                              "run_shared": True, "invitation": True, "timezone": None, "effective_timezone": "UTC"}
    changed = await client.put(API, json={"run_finished_minutes": 15, "timezone": "Asia/Tokyo"},
                               headers=team.member.bearer)
    assert changed.status_code == 200, changed.text
    assert (changed.json()["run_finished_minutes"], changed.json()["effective_timezone"]) == (15, "Asia/Tokyo")
    assert changed.json()["run_failed"] is True  # what was left out stays
    for body, field in (({"timezone": "Mars/Olympus"}, "timezone"), ({"run_finished_minutes": 0}, "run_finished_minutes"),
                        ({"credit_threshold": True}, "credit_threshold_credits"), ({"nope": 1}, None)):
        refused = await client.put(API, json=body, headers=team.member.bearer)
        assert refused.status_code in (400, 422), refused.text
        assert set(refused.json()) == {"error", "message", "field"}
        if field:
            assert refused.json()["field"] == field
    assert (await client.get(API, headers=team.member.bearer)).json()["run_finished_minutes"] == 15
    assert (await client.get(API)).status_code == 401


async def test_the_settings_page_saves_what_the_form_says(factory, client):
    team = await factory.team()
    await sign_in(client, team.member.email, team.member.password)
    page = await client.get("/settings/notifications")
    assert page.status_code == 200 and 'name="run_finished_minutes"' in page.text
    form = {"_csrf_token": csrf_from(page.text), "run_finished": "on", "run_finished_minutes": "20",
            "credit_threshold": "on", "credit_threshold_credits": "500", "weekly_digest": "on",
            "restore_requested": "on", "timezone": "America/Los_Angeles"}
    saved = await client.post("/settings/notifications", data=form)
    assert saved.status_code == 303
    mine = (await client.get(API, headers=team.member.bearer)).json()
    assert (mine["run_finished_minutes"], mine["credit_threshold_credits"], mine["run_failed"], mine["timezone"]) == (
        20, 500, False, "America/Los_Angeles")  # an unchecked box is off
    assert (mine["restore_requested"], mine["low_balance"]) == (True, False)
    again = (await client.get("/settings/notifications")).text
    assert '<option value="America/Los_Angeles" selected>' in again and "My workspace's (UTC)" in again
    wrong = await client.post("/settings/notifications", data={**form, "timezone": "Nowhere/Land"})
    assert wrong.status_code == 422 and "not a time zone name" in wrong.text


async def test_unsubscribe_from_the_raw_messages_header(factory, client, override_settings):
    team = await factory.team()
    with smtp_server() as (inbox, port):
        override_settings(SMTP_HOST="127.0.0.1", SMTP_PORT=str(port), SMTP_STARTTLS="false",
                          BASE_URL="http://testserver")
        async with atomic():
            await invitations.invite(await resolve_scope("acme", team.admin.id), "dana@example.com", "member")
        outbox_id = (await EmailOutbox.select(EmailOutbox.id).first())["id"]
        assert (await sender.deliver(outbox_id)).sent
        [mail] = await asyncio.to_thread(inbox.wait_for, 1)
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = re.fullmatch(r"<(.+)>", mail["List-Unsubscribe"]).group(1)
    path = httpx.URL(url).path
    anonymous = httpx.AsyncClient(transport=client._transport, base_url="http://testserver")
    asked = await anonymous.get(path)
    assert asked.status_code == 200 and "Unsubscribe?" in asked.text and "dana@example.com" in asked.text
    assert (await preferences.of(["dana@example.com"]))["dana@example.com"].invitation is True  # a GET changes nothing
    done = await anonymous.post(path, content=b"List-Unsubscribe=One-Click",
                                headers={"content-type": "application/x-www-form-urlencoded"})
    assert done.status_code == 200 and "You are unsubscribed" in done.text
    choice = (await preferences.of(["dana@example.com"]))["dana@example.com"]
    assert choice.invitation is False and choice.run_failed is True and choice.weekly_digest is True
    async with atomic():  # a second invitation to the address is not mailed
        await invitations.invite(await resolve_scope("globex", team.outsider.id), "dana@example.com", "member")
    assert await EmailOutbox.count() == 1
    forged = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    assert (await anonymous.get(forged)).status_code == 404
    assert (await anonymous.post(forged)).status_code == 404


async def test_every_template_has_a_preview_for_admins_only(factory, client):
    team = await factory.team()
    await sign_in(client, team.admin.email, team.admin.password)
    for name in preferences.CATEGORIES:
        page = await client.get(f"/w/acme/emails/previews?template={name}")
        assert page.status_code == 200, name
        body = await client.get(f"/w/acme/emails/previews/{name}/body.html")
        assert body.status_code == 200 and "<style" not in body.text and 'style="' in body.text  # inlined
        assert "Unsubscribe from these emails" in body.text and "<script" not in body.text
    assert (await client.get("/w/acme/emails/previews?template=nope")).status_code == 404
    await client.post("/logout", data={"_csrf_token": csrf_from(page.text)})
    await sign_in(client, team.member.email, team.member.password)
    assert (await client.get("/w/acme/emails/previews")).status_code == 403
    assert (await client.get("/w/acme/emails")).status_code == 403


async def test_a_number_in_other_digits_is_a_clear_422_on_the_settings_page(factory, client):
    team = await factory.team()
    await sign_in(client, team.member.email, team.member.password)
    page = await client.get("/settings/notifications")
    refused = await client.post("/settings/notifications", data={"_csrf_token": csrf_from(page.text),
                                                                 "run_finished_minutes": "²"})
    assert refused.status_code == 422 and "a whole number, please" in refused.text


@pytest.mark.pure
def test_every_list_of_the_preferences_names_the_same_categories_and_settings():
    """The categories are written once in ``CATEGORIES``; the API's two shapes, the table and the Settings
    form each list them again, in their own types. A category added to one and not to the others would be
    one people cannot set, or see, or keep: it fails here instead."""
    settings = set(preferences.FIELDS)
    assert settings - set(preferences.CATEGORIES) == {"run_finished_minutes", "credit_threshold_credits", "timezone"}
    assert set(PreferencesIn.__struct_fields__) == settings
    assert set(PreferencesOut.__struct_fields__) == settings | {"effective_timezone"}
    assert {field.name for field in fields(PreferencesForm)} == settings
    columns = {column._meta.name for column in NotificationPreference._meta.columns}
    assert columns - settings == {"id", "email", "updated_at"} and settings <= columns
