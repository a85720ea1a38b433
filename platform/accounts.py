"""User accounts: creation, password sign-in and the identities linked from OIDC."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from uuid import UUID

from email_validator import EmailNotValidError, validate_email

from agentledger.platform import audit
from agentledger.platform.database import duplicates_conflict
from agentledger.platform.errors import Conflict, Forbidden, Invalid
from agentledger.platform.security import MIN_PASSWORD_LENGTH, hash_password, verify_password
from agentledger.platform.tables import User
from agentledger.platform.validation import has_control_characters, single_line


@dataclass(frozen=True, slots=True)
class Account:
    id: UUID
    email: str
    name: str
    session_epoch: int


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
    if len(password) > 1024:
        raise Invalid("password must be at most 1024 characters", field=field)


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


async def end_sessions(user_id: UUID) -> None:
    """Invalidate every session of the user: sessions carry the epoch they were created in."""
    await User.update({User.session_epoch: User.session_epoch + 1}).where(User.id == user_id)


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
