"""Passwords: changing one while signed in, and resetting a forgotten one through an emailed link.

A reset link carries a 256-bit token of which only the SHA-256 digest is stored; it works once, for
``PASSWORD_RESET_TTL_MINUTES``, and only for an account that signs in with a password (an OIDC-only
account has none to reset). Using it is one guarded UPDATE, so two tabs cannot both use it, and any
password change burns the account's other pending links. Every password change ends all of the
person's sessions (the session epoch); the web tier starts the one that should survive again.

Asking for a link must not tell whether an account exists: the page answers the same, unknown emails
are throttled the same, and the lookup and the email happen after the answer is sent (the web handler
runs ``send_reset_link`` as a background task), so its timing does not tell either. The throttle is
per email and per client address, apart from the sign-in throttle (``login_guard``), whose counter the
current-password check of a signed-in change shares: both are guesses at the same password.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from uuid import UUID

from agentledger.notifications import service as notifications
from agentledger.platform import accounts, audit, login_guard
from agentledger.platform.clock import now
from agentledger.platform.config import get_settings
from agentledger.platform.database import fetch, on_commit
from agentledger.platform.errors import Forbidden, Gone, Invalid, NotAuthenticated, NotFound, TooManyRequests
from agentledger.platform.redis import get_redis
from agentledger.platform.security import digest, new_token, verify_password
from agentledger.platform.tables import PasswordReset

REQUEST_WINDOW_SECONDS = 60 * 60
REQUESTS_PER_EMAIL = 3  # links a mailbox can be sent in the window: enough for "it did not arrive"
REQUESTS_PER_ADDRESS = 20  # requests from one client address in the window, whatever the emails


@dataclass(frozen=True, slots=True)
class ResetLink:
    """What the reset page shows before the new password is chosen."""

    email: str
    expires_at: datetime


def reset_url(token: str) -> str:
    return f"{get_settings().public_url}/reset/{token}"


def check_new_password(password: str, confirm: str) -> None:
    """The sign-up rules (``accounts.check_password``), and the two copies must agree."""
    if not password:
        raise Invalid("choose a new password", field="new_password")
    accounts.check_password(password, field="new_password")
    if password != confirm:
        raise Invalid("the two new passwords are not the same; type it again in both boxes", field="confirm_password")


async def _count(key: str) -> tuple[int, int]:
    """This request counted against ``key``: (requests in the window, seconds left in it)."""
    async with get_redis().pipeline(transaction=True) as pipe:  # the window starts at the first request
        pipe.set(key, 0, ex=REQUEST_WINDOW_SECONDS, nx=True)
        pipe.incr(key)
        pipe.ttl(key)
        _, count, ttl = await pipe.execute()
    return count, max(1, ttl)


def _minutes(seconds: int) -> str:
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


async def reserve_request(email: str, address: str) -> None:
    """Count a "forgot password" request; 429 with the wait once the email or the address used up its window.

    Known and unknown emails count alike, so the 429 tells nothing about whether an account exists."""
    count, ttl = await _count(f"reset-requests:address:{address}")
    if count > REQUESTS_PER_ADDRESS:
        raise TooManyRequests(f"too many reset requests from your network; try again in {_minutes(ttl)}",
                              retry_after=ttl)
    count, ttl = await _count(f"reset-requests:email:{email.strip().lower()}")
    if count > REQUESTS_PER_EMAIL:
        raise TooManyRequests(
            f"a reset link was asked for {email} several times in the last hour; look for it in your inbox and "
            f"spam folder, or ask again in {_minutes(ttl)}", retry_after=ttl)


async def send_reset_link(email: str, address: str) -> bool:
    """Queue a reset email when ``email`` belongs to an account that signs in with a password; True if one
    was queued. Runs in a transaction of its own, after the answer went out (see the module docstring)."""
    account = await accounts.find_password_account(email)
    if account is None:
        return False
    token = new_token("pwr")
    expires = now() + timedelta(minutes=get_settings().password_reset_ttl_minutes)
    rows = await PasswordReset.insert(
        PasswordReset(user=account.id, token_hash=digest(token), expires_at=expires)).returning(PasswordReset.id)
    await notifications.emit("password_reset", None, reset_id=rows[0]["id"], user_id=account.id,
                             link=reset_url(token), expires_at=expires)
    await audit.record("user.password_reset_requested", workspace_id=None, actor_id=account.id,
                       target=account.email, address=address)
    return True


async def check_link(token: str) -> ResetLink:
    """The account a reset link is for; 404 for an unknown link, 410 for a used, expired or void one."""
    row = await PasswordReset.select(
        PasswordReset.expires_at, PasswordReset.used_at, PasswordReset.user.email.as_alias("email"),
        PasswordReset.user.password_hash.as_alias("password_hash"), PasswordReset.user.is_active.as_alias("active"),
    ).where(PasswordReset.token_hash == digest(token)).first()
    if row is None:
        raise NotFound("this reset link is not valid; check that you copied all of it, or ask for a new one")
    if row["used_at"] is not None:
        raise Gone("this reset link was already used, or the password was changed after it was sent; "
                   "ask for a new one if you still need it")
    if row["expires_at"] <= now():
        raise Gone(f"this reset link expired: links work for {get_settings().password_reset_ttl_minutes} minutes; "
                   "ask for a new one")
    if not row["active"] or row["password_hash"] is None:
        raise Gone("this account no longer signs in with a password, so there is nothing to reset")
    return ResetLink(row["email"], row["expires_at"])


async def _burn_pending(user_id: UUID) -> None:
    await fetch("UPDATE password_resets SET used_at = now() WHERE \"user\" = {} AND used_at IS NULL", user_id)


async def reset(token: str, password: str, confirm: str) -> accounts.Account:
    """Use a reset link: set the new password, end every session of the account, burn the link (and its
    other pending ones). Answers the account with its new session epoch. A bad password burns nothing."""
    check_new_password(password, confirm)
    claimed = await fetch(
        "UPDATE password_resets SET used_at = now() WHERE token_hash = {} AND used_at IS NULL "
        "AND expires_at > now() RETURNING \"user\"", digest(token),
    )
    if not claimed:
        await check_link(token)  # raises the 404 or 410 that says why
        raise Gone("this reset link was just used; ask for a new one if you still need it")
    account = await accounts.set_password(claimed[0]["user"], password)
    if account is None:  # deactivated, or linked to single sign-on since the link was sent
        raise Gone("this account no longer signs in with a password, so there is nothing to reset")
    await _burn_pending(account.id)
    await audit.record("user.password_reset", workspace_id=None, actor_id=account.id, target=account.email)
    on_commit(partial(login_guard.clear, account.email))  # earlier wrong guesses no longer lock them out
    return account


async def change_password(user_id: UUID, current: str, password: str, confirm: str) -> accounts.Account:
    """A signed-in change: the current password first (throttled like sign-in), then the sign-up rules.
    Ends every session of the account; answers it with the new epoch."""
    found = await accounts.password_hash_of(user_id)
    if found is None:
        raise NotAuthenticated("sign in to continue")
    email, password_hash = found
    if password_hash is None:
        raise Forbidden("your sign-in is managed by your identity provider; change your password there")
    if not current:
        raise Invalid("enter your current password", field="current_password")
    await login_guard.reserve_attempt(email)
    if not await asyncio.to_thread(verify_password, password_hash, current):
        raise Invalid("that is not your current password", field="current_password")
    await login_guard.clear(email)
    check_new_password(password, confirm)
    account = await accounts.set_password(user_id, password)
    if account is None:
        raise Forbidden("your sign-in is managed by your identity provider; change your password there")
    await _burn_pending(user_id)
    await audit.record("user.password_changed", workspace_id=None, actor_id=user_id, target=email)
    return account
