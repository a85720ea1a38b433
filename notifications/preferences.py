"""What each address wants to hear: the categories of mail, their defaults, the words that tell a reader
why a message came, and the signed one-click unsubscribe (RFC 8058) for each category.

One home for "is this category on for this address": handlers ask ``of(emails)`` and skip who said no.
Preferences are keyed by address, so an invitee who is not a user yet can unsubscribe from invitations,
and keeps that choice after signing up. Password-reset mail has no category: it only comes when the
person asks for it, and turning it off would lock them out."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any
from uuid import UUID

from itsdangerous import BadSignature, URLSafeSerializer

from agentledger.notifications import repository
from agentledger.platform.config import get_settings
from agentledger.platform.errors import Invalid, NotFound
from agentledger.platform.validation import check_time_zone


@dataclass(frozen=True)
class Category:
    name: str
    label: str  # the Settings page's words
    why: str  # the footer: "You get this email because …" (formatted with the message's context)
    admin_only: bool = False


CATEGORIES: dict[str, Category] = {c.name: c for c in (
    Category("run_finished", "A run I started finished after running a long time",
             "you started this run and asked to hear when a run that takes longer than {minutes} minutes ends"),
    Category("run_failed", "A run I started failed or timed out", "you started this run and asked to hear when runs fail"),
    Category("credit_threshold", "A single run charged more credits than my limit",
             "you asked to hear when one run charges more than {limit} credits"),
    Category("low_balance", "The workspace's balance fell below its threshold (admins)",
             "you are an admin of {workspace} and asked to hear when its balance runs low", admin_only=True),
    Category("purchase_receipt", "Credits were bought, refunded or disputed (admins)",
             "you are an admin of {workspace} and asked for receipts of its credits", admin_only=True),
    Category("restore_requested", "A teammate asked for an archived run back (admins)",
             "you are an admin of {workspace} and asked to hear when someone asks for an archived run back",
             admin_only=True),
    Category("weekly_digest", "The weekly digest, Monday at 08:00", "you asked for a weekly digest of your runs"),
    Category("review_requested", "A run waits for my review", "a run you started waits for a decision"),
    Category("run_shared", "A teammate shared a run with me", "a teammate shared a run with you"),
    Category("invitation", "Invitations to workspaces", "someone invited this address to a workspace"),
)}

MINUTES = (1, 1440)
CREDITS = (1, 1_000_000_000)


@dataclass
class Preferences:
    """One address's choices (the defaults are a new address's)."""

    run_finished: bool = True
    run_finished_minutes: int = 5
    run_failed: bool = True
    credit_threshold: bool = False
    credit_threshold_credits: int | None = None
    low_balance: bool = True
    purchase_receipt: bool = True
    restore_requested: bool = True
    weekly_digest: bool = True
    review_requested: bool = True
    run_shared: bool = True
    invitation: bool = True
    timezone: str | None = None

    def wants(self, category: str) -> bool:
        return bool(getattr(self, category))

    def values(self) -> dict[str, Any]:
        return asdict(self)


FIELDS = tuple(f.name for f in fields(Preferences))


def _from_row(row: dict[str, Any] | None) -> Preferences:
    return Preferences(**{name: row[name] for name in FIELDS}) if row else Preferences()


async def of(emails: list[str]) -> dict[str, Preferences]:
    """Each address's preferences (the defaults for one that never chose)."""
    rows = {r["email"]: r for r in await repository.preferences([e.lower() for e in emails])}
    return {email: _from_row(rows.get(email.lower())) for email in emails}


def validate(choice: Preferences) -> Preferences:
    """A 422 naming the field for any value out of its range."""
    for name in FIELDS:
        value = getattr(choice, name)
        if name == "timezone":
            if value is not None:
                check_time_zone(value)
        elif name == "run_finished_minutes":
            if isinstance(value, bool) or not isinstance(value, int) or not MINUTES[0] <= value <= MINUTES[1]:
                raise Invalid(f"minutes must be a whole number from {MINUTES[0]} to {MINUTES[1]}", field=name)
        elif name == "credit_threshold_credits":
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                      or not CREDITS[0] <= value <= CREDITS[1]):
                raise Invalid(f"the limit is a whole number of credits from {CREDITS[0]} to {CREDITS[1]:,}", field=name)
        elif not isinstance(value, bool):
            raise Invalid("must be true or false", field=name)
    if choice.credit_threshold and choice.credit_threshold_credits is None:
        raise Invalid("say above how many credits a run should be reported", field="credit_threshold_credits")
    return choice


async def of_user(user_id: UUID) -> tuple[str, Preferences] | None:
    """An active user's address and preferences in one read (every run's end asks); None otherwise."""
    row = await repository.user_preferences(user_id)
    if row is None or not row["is_active"]:
        return None
    return row["email"], _from_row(row if row["has_choice"] else None)


@dataclass(frozen=True)
class Mine:
    """A person's preferences and the time zone their digest follows (their own, or their workspace's)."""

    preferences: Preferences
    effective_timezone: str
    home_timezone: str  # the first workspace's, which applies while the person chose none

async def mine(user_id: UUID) -> Mine:
    person = await repository.person(user_id)
    if person is None:
        raise NotFound("no such user")
    choice = (await of([person["email"]]))[person["email"]]
    home = await repository.home_time_zone(user_id)
    return Mine(choice, choice.timezone or home, home)


async def save(user_id: UUID, changes: dict[str, Any]) -> Mine:
    """Apply ``changes`` (any of ``FIELDS``) to the person's preferences, checked whole before writing."""
    person = await repository.person(user_id)
    if person is None:
        raise NotFound("no such user")
    current = (await of([person["email"]]))[person["email"]]
    unknown = set(changes) - set(FIELDS)
    if unknown:
        raise Invalid("unknown preference", field=sorted(unknown)[0])
    choice = validate(Preferences(**{**current.values(), **changes}))
    await repository.save_preferences(person["email"].lower(), choice.values())
    return await mine(user_id)


def _signer() -> URLSafeSerializer:
    return URLSafeSerializer(get_settings().secret_key, salt="agentledger.unsubscribe")


def unsubscribe_token(email: str, category: str) -> str:
    """The token of a one-click unsubscribe link: the address and category, signed with the secret key
    (no expiry: a link in an old email must still work)."""
    return _signer().dumps([email.lower(), category])


def read_token(token: str) -> tuple[str, Category]:
    """The address and category a token names; a 404 for anything not signed by us."""
    try:
        email, category = _signer().loads(token)
    except (BadSignature, ValueError, TypeError) as error:
        raise NotFound("this unsubscribe link is not valid") from error
    if category not in CATEGORIES or not isinstance(email, str):
        raise NotFound("this unsubscribe link is not valid")
    return email, CATEGORIES[category]


def unsubscribe_url(email: str, category: str) -> str:
    return f"{get_settings().public_url}/unsubscribe/{unsubscribe_token(email, category)}"


async def unsubscribe(token: str) -> tuple[str, Category]:
    """Turn off one category for the token's address (only that one); answers what was turned off."""
    email, category = read_token(token)
    await repository.set_category(email, category.name, False)
    return email, category
