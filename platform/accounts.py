"""User accounts: creation, password sign-in and the identities linked from OIDC."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from email_validator import EmailNotValidError, validate_email

from agentledger.platform import audit
from agentledger.platform.errors import Conflict, Invalid
from agentledger.platform.security import MIN_PASSWORD_LENGTH, hash_password, verify_password
from agentledger.platform.tables import User


@dataclass(frozen=True, slots=True)
class Account:
    id: UUID
    email: str
    name: str
    session_epoch: int


def normalize_email(raw: str, field: str = "email") -> str:
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
    name = name.strip()
    if not name or len(name) > 120:
        raise Invalid("name must be 1 to 120 characters", field=field)
    return name


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
    rows = await User.insert(
        User(email=email, name=name, password_hash=hash_password(password) if password else None)
    ).returning(*_FIELDS)
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
    row = await User.select(*_FIELDS, User.password_hash).where(
        (User.email == email.strip().lower()) & (User.is_active == True)  # noqa: E712
    ).first()
    ok = verify_password(row["password_hash"] if row else None, password)
    return _account(row) if row and ok else None


async def end_sessions(user_id: UUID) -> None:
    """Invalidate every session of the user: sessions carry the epoch they were created in."""
    await User.update({User.session_epoch: User.session_epoch + 1}).where(User.id == user_id)


async def link_oidc(issuer: str, subject: str, email: str) -> Account | None:
    """The account for an OIDC identity: by (issuer, subject), else by verified email, which links it."""
    row = await User.select(*_FIELDS).where(
        (User.oidc_issuer == issuer) & (User.oidc_subject == subject) & (User.is_active == True)  # noqa: E712
    ).first()
    if row:
        return _account(row)
    account = await find_by_email(email)
    if account is None:
        return None
    await User.update({User.oidc_issuer: issuer, User.oidc_subject: subject}).where(User.id == account.id)
    await audit.record("user.oidc_linked", workspace_id=None, actor_id=account.id, target=issuer)
    return account
