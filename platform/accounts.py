"""User accounts: creation, password sign-in, the identities linked from OIDC, and what a person changes
about themselves (their name, their password: see ``passwords`` for the rules around changing it)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from email_validator import EmailNotValidError, validate_email

from agentledger.platform import audit
from agentledger.platform.database import duplicates_conflict
from agentledger.platform.errors import Conflict, Forbidden, Invalid, NotAuthenticated
from agentledger.platform.security import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, hash_password, verify_password
from agentledger.platform.tables import User
from agentledger.platform.validation import has_control_characters, single_line


@dataclass(frozen=True, slots=True)
class Account:
    id: UUID
    email: str
    name: str
    session_epoch: int


@dataclass(frozen=True, slots=True)
class Profile:
    """What the account page shows: how the person signs in decides what they may change there."""

    id: UUID
    email: str
    name: str
    has_password: bool  # signs in with a password (and may change or reset it)
    single_sign_on: bool  # linked to an OIDC identity
    created_at: datetime


def normalize_email(raw: str, field: str = "email") -> str:
    if has_control_characters(raw):
        raise Invalid("an email address cannot contain control characters", field=field)
    try:
        return validate_email(raw.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as error:
        raise Invalid(f"'{raw}' is not a valid email address: {error}", field=field) from None


def check_password(password: str, field: str = "password") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(f"password must be at least {MIN_PASSWORD_LENGTH} characters", field=field)
    if len(password) > MAX_PASSWORD_LENGTH:
        raise Invalid(f"password must be at most {MAX_PASSWORD_LENGTH} characters", field=field)


def check_name(name: str, field: str = "name") -> str:
    return single_line(name, field, label="name", max_length=120)


def _account(row: dict) -> Account:
    return Account(row["id"], row["email"], row["name"], row["session_epoch"])


_FIELDS = (User.id, User.email, User.name, User.session_epoch)


async def create_user(email: str, name: str, password: str | None) -> Account:
    email = normalize_email(email)
    name = check_name(name)
    if password is not None:
        check_password(password)
    if await User.exists().where(User.email == email):
        raise Conflict(f"an account for {email} already exists", field="email")
    password_hash = await asyncio.to_thread(hash_password, password) if password else None
    async with duplicates_conflict(f"an account for {email} already exists", field="email"):
        rows = await User.insert(User(email=email, name=name, password_hash=password_hash)).returning(*_FIELDS)
    await audit.record("user.created", workspace_id=None, actor_id=None, target=email)
    return _account(rows[0])


async def get_active(user_id: UUID) -> Account | None:
    row = await User.select(*_FIELDS).where((User.id == user_id) & (User.is_active == True)).first()  # noqa: E712
    return _account(row) if row else None


async def find_by_email(email: str) -> Account | None:
    row = await User.select(*_FIELDS).where(User.email == email.strip().lower()).first()
    return _account(row) if row else None


async def find_password_account(email: str) -> Account | None:
    """The active account for ``email`` that signs in with a password (the only ones a reset link is for)."""
    row = await User.select(*_FIELDS).where(
        (User.email == email.strip().lower()) & (User.is_active == True)  # noqa: E712
        & User.password_hash.is_not_null()
    ).first()
    return _account(row) if row else None


async def authenticate(email: str, password: str) -> Account | None:
    """The account when the password matches; None otherwise (same work either way)."""
    if has_control_characters(email):
        await asyncio.to_thread(verify_password, None, password)
        return None
    row = await User.select(*_FIELDS, User.password_hash).where(
        (User.email == email.strip().lower()) & (User.is_active == True)  # noqa: E712
    ).first()
    ok = await asyncio.to_thread(verify_password, row["password_hash"] if row else None, password)
    return _account(row) if row and ok else None


async def end_sessions(user_id: UUID) -> int | None:
    """Invalidate every session of the user: sessions carry the epoch they were created in. Answers the new
    epoch (a session that must survive is started again with it), None for an unknown user."""
    rows = await User.update({User.session_epoch: User.session_epoch + 1}).where(User.id == user_id).returning(
        User.session_epoch)
    return rows[0]["session_epoch"] if rows else None


async def sign_out_everywhere(user_id: UUID) -> int:
    """The person ended their sessions from the account page: answers the new epoch for the one they keep."""
    epoch = await end_sessions(user_id)
    if epoch is None:
        raise NotAuthenticated("sign in to continue")
    await audit.record("user.sessions_ended", workspace_id=None, actor_id=user_id)
    return epoch


async def profile(user_id: UUID) -> Profile:
    row = await User.select(User.id, User.email, User.name, User.password_hash, User.oidc_subject,
                            User.created_at).where(
        (User.id == user_id) & (User.is_active == True)  # noqa: E712
    ).first()
    if row is None:
        raise NotAuthenticated("sign in to continue")
    return Profile(row["id"], row["email"], row["name"], row["password_hash"] is not None,
                   row["oidc_subject"] is not None, row["created_at"])


async def rename(user_id: UUID, name: str) -> Account:
    name = check_name(name)
    rows = await User.update({User.name: name}).where(
        (User.id == user_id) & (User.is_active == True)  # noqa: E712
    ).returning(*_FIELDS)
    if not rows:
        raise NotAuthenticated("sign in to continue")
    await audit.record("user.renamed", workspace_id=None, actor_id=user_id, target=rows[0]["email"])
    return _account(rows[0])


async def password_hash_of(user_id: UUID) -> tuple[str, str | None] | None:
    """(email, password hash or None) of an active account, for checking the current password."""
    row = await User.select(User.email, User.password_hash).where(
        (User.id == user_id) & (User.is_active == True)  # noqa: E712
    ).first()
    return (row["email"], row["password_hash"]) if row else None


async def set_password(user_id: UUID, password: str) -> Account | None:
    """Replace the password of an active account that signs in with one, and end all its sessions (the
    answer carries the new epoch). None when the account is gone or signs in through OIDC only."""
    password_hash = await asyncio.to_thread(hash_password, password)
    rows = await User.update({User.password_hash: password_hash, User.session_epoch: User.session_epoch + 1}).where(
        (User.id == user_id) & (User.is_active == True) & User.password_hash.is_not_null()  # noqa: E712
    ).returning(*_FIELDS)
    return _account(rows[0]) if rows else None


async def link_oidc(issuer: str, subject: str, email: str) -> Account | None:
    """The account for an OIDC identity with a verified email: by (issuer, subject), else by email.

    Linking by email happens once, and only to an account not linked to another identity. It removes
    the account's password and ends its sessions: whoever held an invitation link could have created
    the account with a password of their own, and from now on the provider vouches for the owner."""
    row = await User.select(*_FIELDS).where(
        (User.oidc_issuer == issuer) & (User.oidc_subject == subject) & (User.is_active == True)  # noqa: E712
    ).first()
    if row:
        return _account(row)
    row = await User.select(*_FIELDS, User.oidc_subject).where(
        (User.email == email.lower()) & (User.is_active == True)  # noqa: E712
    ).first()
    if row is None:
        return None
    if row["oidc_subject"] is not None:
        raise Forbidden(f"the account {email} is linked to another single sign-on identity; ask an admin")
    linked = await User.update({
        User.oidc_issuer: issuer, User.oidc_subject: subject, User.password_hash: None,
        User.session_epoch: User.session_epoch + 1,
    }).where((User.id == row["id"]) & User.oidc_subject.is_null()).returning(*_FIELDS)
    if not linked:
        raise Forbidden(f"the account {email} was just linked to another identity; try again")
    await audit.record("user.oidc_linked", workspace_id=None, actor_id=row["id"], target=issuer)
    return _account(linked[0])
