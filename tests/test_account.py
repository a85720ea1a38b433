"""The account page (name, password, sessions) and "forgot password" by email, through the real app:
two browsers are two clients with their own cookies; the reset email goes through a real SMTP server."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
from selectolax.lexbor import LexborHTMLParser

from agentledger.notifications import sender
from agentledger.notifications.tables import EmailOutbox
from agentledger.platform import accounts, passwords
from agentledger.platform.clock import now
from agentledger.platform.database import atomic
from agentledger.platform.security import digest
from agentledger.platform.tables import AuditEvent, PasswordReset, User
from tests.support.factories import csrf_from
from tests.support.fixtures import sign_in
from tests.test_oidc import authorize, callback_path, provider, set_identity, start  # noqa: F401 - fixture

NEW_PASSWORD = "a brand new password"


@asynccontextmanager
async def second_browser(app) -> AsyncIterator[httpx.AsyncClient]:
    """Another browser: same app, its own cookies."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as other:
        yield other


async def signed_in_as(client, person, password: str | None = None) -> None:
    response = await sign_in(client, person.email, password or person.password)
    assert response.status_code == 303, response.text[:300]


async def is_signed_in(client) -> bool:
    response = await client.get("/account")
    assert response.status_code in (200, 303)
    return response.status_code == 200


async def post_form(client, path: str, page: str = "/account", **fields: str) -> httpx.Response:
    token = csrf_from((await client.get(page, follow_redirects=True)).text)
    return await client.post(path, data={**fields, "_csrf_token": token})


def field_error(html: str, field: str) -> str:
    """The words shown by a field (``<p id="<field>-error">``), and that the field points at them."""
    tree = LexborHTMLParser(html)
    message = tree.css_first(f"#{field}-error")
    assert message is not None, f"no error shown by {field}"
    assert tree.css_first(f"#{field}").attributes.get("aria-describedby") == f"{field}-error"
    return message.text(strip=True)


def rows(html: str) -> list[str]:
    return [row.text(separator=" ", strip=True) for row in LexborHTMLParser(html).css("li[data-session]")]


# -- name, password, sessions ------------------------------------------------------------------------------

async def test_a_person_changes_their_display_name(client, factory):
    person = await factory.user("nora@example.com", "Nora")
    await signed_in_as(client, person)
    page = await client.get("/account")
    assert page.status_code == 200 and 'value="Nora"' in page.text and "nora@example.com" in page.text
    assert 'href="/account"' in page.text  # the top bar links here

    empty = await post_form(client, "/account/name", name="   ")
    assert empty.status_code == 422 and field_error(empty.text, "name") == "name must be 1 to 120 characters"

    saved = await post_form(client, "/account/name", name="Nora N. Nilsson")
    assert saved.status_code == 303 and saved.headers["location"] == "/account?done=name"
    after = await client.get(saved.headers["location"])
    assert "Your name is saved." in after.text and 'value="Nora N. Nilsson"' in after.text
    assert (await accounts.get_active(person.id)).name == "Nora N. Nilsson"
    assert (await client.get("/account?done=<b>made up</b>")).text.count("made up") == 0  # codes, not text


async def test_a_password_change_checks_the_current_one_and_signs_out_the_other_session(client, app, factory):
    person = await factory.user("pia@example.com", "Pia")
    await signed_in_as(client, person)
    async with second_browser(app) as other:
        await signed_in_as(other, person)

        wrong = await post_form(client, "/account/password", current_password="not my password",
                                new_password=NEW_PASSWORD, confirm_password=NEW_PASSWORD)
        assert wrong.status_code == 422
        assert field_error(wrong.text, "current_password") == "that is not your current password"
        mismatch = await post_form(client, "/account/password", current_password=person.password,
                                   new_password=NEW_PASSWORD, confirm_password=NEW_PASSWORD + "!")
        assert mismatch.status_code == 422 and "not the same" in field_error(mismatch.text, "confirm_password")
        short = await post_form(client, "/account/password", current_password=person.password,
                                new_password="short", confirm_password="short")
        assert field_error(short.text, "new_password") == "password must be at least 10 characters"
        assert await is_signed_in(other)  # nothing changed yet

        cookie_before = client.cookies["session"]
        changed = await post_form(client, "/account/password", current_password=person.password,
                                  new_password=NEW_PASSWORD, confirm_password=NEW_PASSWORD)
        assert changed.status_code == 303 and changed.headers["location"] == "/account?done=password"
        assert client.cookies["session"] != cookie_before  # this browser goes on under a new session id
        assert await is_signed_in(client)
        assert not await is_signed_in(other)
        assert "Your password is changed." in (await client.get("/account?done=password")).text

    async with second_browser(app) as fresh:
        assert (await sign_in(fresh, person.email, person.password)).status_code == 401
        assert (await sign_in(fresh, person.email, NEW_PASSWORD)).status_code == 303
    actions = [r["action"] for r in await AuditEvent.select(AuditEvent.action).where(AuditEvent.actor == person.id)]
    assert "user.password_changed" in actions


async def test_wrong_current_passwords_are_throttled_like_sign_in(client, factory, override_settings):
    override_settings(LOGIN_MAX_FAILURES="2")
    person = await factory.user("tom@example.com", "Tom")
    await signed_in_as(client, person)
    for _ in range(2):
        assert (await post_form(client, "/account/password", current_password="guess guess", new_password=NEW_PASSWORD,
                                confirm_password=NEW_PASSWORD)).status_code == 422
    blocked = await post_form(client, "/account/password", current_password=person.password,
                              new_password=NEW_PASSWORD, confirm_password=NEW_PASSWORD)
    assert blocked.status_code == 429 and "too many wrong passwords" in blocked.text
    assert await accounts.authenticate(person.email, person.password) is not None


async def test_the_sessions_list_and_sign_out_everywhere_else(client, app, factory):
    person = await factory.user("sol@example.com", "Sol")
    await signed_in_as(client, person)
    async with second_browser(app) as other, second_browser(app) as third:
        await signed_in_as(other, person)
        await signed_in_as(third, person)
        listed = rows((await client.get("/account")).text)
        assert len(listed) == 3 and "this browser" in listed[0] and "127.0.0.1" in listed[0]
        assert all("this browser" not in row for row in listed[1:])
        assert "python-httpx" not in listed[0] and "a script (httpx)" in listed[0]  # the agent, in words

        page = (await client.get("/account")).text
        handle = LexborHTMLParser(page).css("li[data-session]")[1].attributes["data-session"]
        ended = await post_form(client, f"/account/sessions/{handle}/end")
        assert ended.status_code == 303 and ended.headers["location"] == "/account?done=session"
        assert [await is_signed_in(c) for c in (client, other, third)].count(False) == 1
        assert len(rows((await client.get("/account")).text)) == 2
        assert (await post_form(client, f"/account/sessions/{handle}/end")).status_code == 404

        everywhere = await post_form(client, "/account/sessions/end-others")
        assert everywhere.status_code == 303 and everywhere.headers["location"] == "/account?done=others"
        assert await is_signed_in(client)
        assert not await is_signed_in(other) and not await is_signed_in(third)
        after = await client.get("/account?done=others")
        assert "Every other session was signed out." in after.text
        assert len(rows(after.text)) == 1 and "No other browser is signed in" in after.text


async def test_a_session_that_signs_out_leaves_the_list(client, app, factory):
    person = await factory.user("lea@example.com", "Lea")
    await signed_in_as(client, person)
    async with second_browser(app) as other:
        await signed_in_as(other, person)
        assert len(rows((await client.get("/account")).text)) == 2
        assert (await post_form(other, "/logout")).status_code == 303
    assert len(rows((await client.get("/account")).text)) == 1


async def test_an_oidc_account_is_told_its_provider_manages_sign_in(provider, factory):  # noqa: F811
    async with atomic():
        person = await accounts.create_user("ola@acme.example", "Ola", None)
    set_identity(provider, "ola-1", email="ola@acme.example", email_verified=True)
    from agentledger.web.app import create_app

    async with second_browser(create_app()) as sso:
        assert (await sso.get(callback_path(authorize(await start(sso), "ola-1")))).status_code == 303
        page = await sso.get("/account")
        assert page.status_code == 200
        assert "You sign in with Acme SSO: your identity provider manages your sign-in" in page.text
        assert 'name="current_password"' not in page.text
        refused = await post_form(sso, "/account/password", current_password="x", new_password=NEW_PASSWORD,
                                  confirm_password=NEW_PASSWORD)
        assert refused.status_code == 403 and "managed by your identity provider" in refused.text
        assert (await sso.post("/forgot", data={"email": person.email, "_csrf_token": csrf_from(page.text)})
                ).status_code == 200
    assert await PasswordReset.count() == 0 and await EmailOutbox.count() == 0


# -- forgot password ---------------------------------------------------------------------------------------

async def deliver_all() -> int:
    sent = 0
    for row in await EmailOutbox.select(EmailOutbox.id).where(EmailOutbox.sent_at.is_null()):
        sent += (await sender.deliver(row["id"])).sent
    return sent


async def forgot(client, email: str) -> httpx.Response:
    return await post_form(client, "/forgot", page="/forgot", email=email)


async def reset_path(client, inbox, email: str) -> str:
    """Ask for a link, let the sender mail it, and read the link out of the text part."""
    before = len(inbox.messages)
    assert (await forgot(client, email)).status_code == 200
    assert await deliver_all() == 1
    mail = (await asyncio.to_thread(inbox.wait_for, before + 1))[-1]
    found = re.search(r"http://127\.0\.0\.1:8000(/reset/\S+)", mail.get_body(("plain",)).get_content())
    assert found, "no reset link in the email"
    return found.group(1)


def without_secrets(html: str, email: str) -> str:
    return re.sub(r'value="[^"]{20,}"', "", html).replace(email, "EMAIL")


async def test_the_sign_in_page_leads_to_the_forgot_form(client):
    login = await client.get("/login")
    assert 'href="/forgot"' in login.text and "Forgot your password?" in login.text
    form = await client.get("/forgot")
    assert form.status_code == 200 and 'action="/forgot"' in form.text


async def test_an_unknown_email_gets_the_same_answer_and_no_mail(client, factory, mailbox):
    await factory.user("known@example.com", "Known")
    unknown = await forgot(client, "nobody@example.com")
    known = await forgot(client, "known@example.com")
    assert unknown.status_code == known.status_code == 200
    assert "If an account for <strong>nobody@example.com</strong> signs in with a password" in unknown.text
    assert without_secrets(unknown.text, "nobody@example.com") == without_secrets(known.text, "known@example.com")
    assert await deliver_all() == 1
    await asyncio.to_thread(mailbox.wait_for, 1)
    await asyncio.sleep(0.2)
    assert [m["To"] for m in mailbox.messages] == ["known@example.com"]
    resets = await PasswordReset.select(PasswordReset.user.email.as_alias("email"))
    assert [r["email"] for r in resets] == ["known@example.com"]


async def test_a_bad_email_is_explained_by_its_field(client):
    response = await forgot(client, "not an email")
    assert response.status_code == 422 and "is not a valid email address" in field_error(response.text, "email")
    assert "enter the email" in field_error((await forgot(client, "")).text, "email")


async def test_the_reset_email_reads_well_in_text_and_html(client, factory, mailbox):
    await factory.user("rita@example.com", "Rita Reader")
    path = await reset_path(client, mailbox, "rita@example.com")
    mail = mailbox.messages[-1]
    assert mail["To"] == "rita@example.com" and mail["Subject"] == "Reset your agentledger password"
    text, html = mail.get_body(("plain",)).get_content(), mail.get_body(("html",)).get_content()
    assert "Hello Rita Reader" in text and "works once, for 30 minutes" in text and "ignore this email" in text
    assert f'href="http://127.0.0.1:8000{path}"' in html and "Choose a new password" in html
    token = path.rsplit("/", 1)[1]
    assert token.startswith("pwr_") and len(token) >= 4 + 43  # 256 random bits, URL-safe
    stored = await PasswordReset.select().first()
    assert stored["token_hash"] == digest(token) and token not in str(stored)  # only the digest is kept
    assert abs(stored["expires_at"] - stored["created_at"] - timedelta(minutes=30)) < timedelta(seconds=5)


async def test_a_reset_link_works_once_and_signs_out_every_other_session(client, app, factory, mailbox, caplog):
    caplog.set_level(logging.DEBUG)
    person = await factory.user("max@example.com", "Max")
    async with second_browser(app) as laptop, second_browser(app) as phone:
        await signed_in_as(laptop, person)
        path = await reset_path(phone, mailbox, person.email)

        form = await phone.get(path)  # opening the link changes nothing
        assert form.status_code == 200 and "Choose a new password" in form.text and "max@example.com" in form.text
        assert form.headers["referrer-policy"] == "no-referrer" and form.headers["cache-control"] == "no-store"
        assert await is_signed_in(laptop) and await accounts.authenticate(person.email, person.password)

        short = await phone.post(path, data={"new_password": "short", "confirm_password": "short",
                                             "_csrf_token": csrf_from(form.text)})
        assert short.status_code == 422 and "at least 10 characters" in field_error(short.text, "new_password")

        done = await phone.post(path, data={"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD,
                                            "_csrf_token": csrf_from(form.text)})
        assert done.status_code == 303 and done.headers["location"] == "/account?done=reset"
        landed = await phone.get(done.headers["location"])  # signed in afresh here
        assert landed.status_code == 200 and "Your new password is set and you are signed in." in landed.text
        assert not await is_signed_in(laptop)  # every other session ended
        assert len(rows(landed.text)) == 1

        again = await phone.get(path)
        assert again.status_code == 410 and "already used" in again.text and 'href="/forgot"' in again.text
        reused = await phone.post(path, data={"new_password": "another new password",
                                              "confirm_password": "another new password",
                                              "_csrf_token": csrf_from(landed.text)})
        assert reused.status_code == 410
    assert await accounts.authenticate(person.email, NEW_PASSWORD) is not None
    assert await accounts.authenticate(person.email, person.password) is None
    audit = await AuditEvent.select(AuditEvent.action, AuditEvent.details).where(AuditEvent.actor == person.id)
    assert {"user.password_reset_requested", "user.password_reset"} <= {a["action"] for a in audit}
    token = path.rsplit("/", 1)[1]
    assert token not in str(audit) and NEW_PASSWORD not in str(audit)
    ours = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith(("httpx", "httpcore", "mail.log")))
    assert token not in ours and NEW_PASSWORD not in ours  # (the test client and SMTP server log their own traffic)


async def test_an_expired_link_fails_and_changes_nothing(client, factory, mailbox):
    person = await factory.user("eve@example.com", "Eve")
    path = await reset_path(client, mailbox, person.email)
    await PasswordReset.update({PasswordReset.expires_at: now() - timedelta(seconds=1)}).where(
        PasswordReset.token_hash == digest(path.rsplit("/", 1)[1]))
    page = await client.get(path)
    assert page.status_code == 410 and "expired" in page.text and "30 minutes" in page.text
    token = csrf_from((await client.get("/forgot")).text)  # the page offers no form: take a token elsewhere
    posted = await client.post(path, data={"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD,
                                           "_csrf_token": token})
    assert posted.status_code == 410 and "expired" in posted.text
    assert await accounts.authenticate(person.email, person.password) is not None


async def test_an_unknown_link_says_so(client):
    page = await client.get("/reset/pwr_not-a-real-token")
    assert page.status_code == 404 and "not valid" in page.text and 'href="/forgot"' in page.text


async def test_a_password_change_burns_pending_reset_links(client, factory, mailbox):
    person = await factory.user("ian@example.com", "Ian")
    path = await reset_path(client, mailbox, person.email)
    await signed_in_as(client, person)
    assert (await post_form(client, "/account/password", current_password=person.password,
                            new_password=NEW_PASSWORD, confirm_password=NEW_PASSWORD)).status_code == 303
    assert (await client.get(path)).status_code == 410


async def test_a_reset_forgets_earlier_wrong_sign_ins(client, factory, mailbox, override_settings):
    override_settings(LOGIN_MAX_FAILURES="1")
    person = await factory.user("una@example.com", "Una")
    for _ in range(2):
        await sign_in(client, person.email, "wrong password!")
    assert (await sign_in(client, person.email, person.password)).status_code == 429
    path = await reset_path(client, mailbox, person.email)
    page = await client.get(path)
    await client.post(path, data={"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD,
                                  "_csrf_token": csrf_from(page.text)})
    client.cookies.clear()
    assert (await sign_in(client, person.email, NEW_PASSWORD)).status_code == 303


async def test_asking_too_often_is_throttled_the_same_for_unknown_emails(client, factory):
    await factory.user("kai@example.com", "Kai")
    for email in ("kai@example.com", "ghost@example.com"):
        answers = [(await forgot(client, email)).status_code for _ in range(passwords.REQUESTS_PER_EMAIL + 1)]
        assert answers == [200] * passwords.REQUESTS_PER_EMAIL + [429]
    throttled = await forgot(client, "ghost@example.com")
    assert "ask again in 60 minutes" in throttled.text and throttled.headers["retry-after"]
    assert await PasswordReset.count() == passwords.REQUESTS_PER_EMAIL  # Kai's three, nobody else's


async def test_one_address_cannot_ask_for_many_emails(client, monkeypatch):
    monkeypatch.setattr(passwords, "REQUESTS_PER_ADDRESS", 3)
    answers = [(await forgot(client, f"p{n}@example.com")).status_code for n in range(4)]
    assert answers == [200, 200, 200, 429]
    assert "too many reset requests from your network" in (await forgot(client, "p9@example.com")).text


async def test_a_reset_for_an_account_that_moved_to_single_sign_on_fails(client, factory, mailbox):
    person = await factory.user("zoe@example.com", "Zoe")
    path = await reset_path(client, mailbox, person.email)
    async with atomic():
        await accounts.link_oidc("https://sso.example", "zoe-1", person.email)
    assert (await client.get(path)).status_code == 410
    assert (await User.select(User.password_hash).where(User.id == person.id).first())["password_hash"] is None
