"""One typed settings object, read from the environment.

Every process (web, worker, scheduler, CLI) reads the same variables; a missing or malformed
required one stops start-up with a single line that names it (see ``load_settings``).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AnyHttpUrl, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


@dataclass(frozen=True, slots=True)
class CreditPack:
    """What an admin can buy: ``credits`` for ``price`` in the billing currency's smallest unit."""

    id: str
    credits: int
    price: int


def parse_packs(text: str) -> tuple[CreditPack, ...]:
    """``starter:1000:1900,team:5000:8500``: ids unique (letters, digits, - and _), credits and price whole
    numbers above zero. A ValueError says which entry is wrong, so start-up names the variable and the entry."""
    packs: list[CreditPack] = []
    for entry in (part.strip() for part in text.split(",")):
        match = re.fullmatch(r"([a-z0-9][a-z0-9_-]{0,39}):([1-9][0-9]{0,9}):([1-9][0-9]{0,9})", entry)
        if not match:
            raise ValueError(f"'{entry}' is not id:credits:price (e.g. starter:1000:1900, price in cents)")
        if any(p.id == match[1] for p in packs):
            raise ValueError(f"pack '{match[1]}' is listed twice")
        packs.append(CreditPack(match[1], int(match[2]), int(match[3])))
    return tuple(packs)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore", env_ignore_empty=True)

    database_url: Annotated[str, Field(description="PostgreSQL URL (postgresql://user:pass@host:5432/db)")]
    redis_url: Annotated[str, Field(description="Redis URL (redis://host:6379/0)")]
    secret_key: Annotated[str, Field(min_length=32, description="Signs CSRF tokens; 32+ random characters")]
    base_url: Annotated[AnyHttpUrl, Field(description="Public URL of the web app, used in links and cookies")]

    session_max_age: int = Field(default=14 * 24 * 3600, gt=0)
    login_max_failures: int = Field(default=5, gt=0)
    login_lockout_seconds: int = Field(default=15 * 60, gt=0)
    invitation_ttl_hours: int = Field(default=72, gt=0)
    password_reset_ttl_minutes: int = Field(default=30, gt=0, le=24 * 60, description="how long a reset link works")
    agent_allow_private_networks: bool = Field(
        default=False, description="let agents fetch loopback/private addresses (demo and tests)")
    run_heartbeat_seconds: float = Field(default=5, gt=0, description="how often a running agent reports in")
    run_control_poll_seconds: float = Field(default=0.5, gt=0, le=1, description=(
        "how often a running agent's worker looks for a cancel or pause request (a cancel takes effect within it)"))
    run_stale_seconds: float = Field(default=30, gt=0, description="silence after which the reaper steps in")
    run_max_attempts: int = Field(default=3, gt=0, description="worker losses a run survives before it fails")
    reap_interval_seconds: float = Field(default=30, gt=0, description="how often the scheduler runs the reaper")
    worker_heartbeat_timeout_seconds: float = Field(default=30, gt=0, description=(
        "a worker process silent on Redis this long is dead: the reaper puts the messages it had fetched back"))
    review_timeout_hours: float = Field(default=168, gt=0, description="a run nobody reviews is canceled after")
    grant_cache_seconds: float = Field(default=30, ge=0, description="API-token grant cache; 0 turns it off")

    export_link_days: int = Field(default=30, gt=0, description="how long generated PDFs are kept and served")
    # 3 on two CPUs: a batch spends about a quarter of its time in the pass's own process (gzip, upload, read
    # back), so with one batch more than CPUs the database always has one to work on (bench/archive.py: 100,000
    # runs took 15.2 and 14.9 s with 2, 13.7 and 14.3 s with 3, 14.3 and 13.7 s with 4; with time-ordered run ids,
    # 12.1 and 12.4 s with 3 against 13.2 and 13.3 s with 4)
    retention_concurrency: int = Field(default=3, ge=1, le=8, description=(
        "archive batches a retention pass runs at once while the web tier is idle; while it serves, one at a "
        "time on one CPU (bench/archive.py)"))
    schedule_poll_seconds: float = Field(default=20, gt=0, description="how often due schedules are started")
    connector_timeout_seconds: float = Field(default=10, gt=0, description="how long a site may take to apply")
    llm_base_url: str | None = Field(default=None, description="OpenAI-compatible API for content-writer")
    llm_api_key: str | None = None
    llm_model: str = "gpt-4o-mini"
    llm_timeout_seconds: float = Field(default=60, gt=0)

    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = True
    smtp_ca_file: str | None = None  # a private CA for the SMTP server's certificate
    mail_from: str = "agentledger <no-reply@localhost>"
    email_lease_seconds: float = Field(default=300, gt=0, description=(
        "how long a sender holds an email while handing it to SMTP; a sender that dies is replaced after it"))

    s3_endpoint_url: str | None = None
    s3_bucket: str | None = None
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = None
    s3_region: str = "us-east-1"
    s3_timeout_seconds: float = Field(default=30, gt=0, description=(
        "how long one storage request may wait for an answer (three tries); a slow store fails the batch, "
        "which deletes nothing and is tried again by the next pass"))

    stripe_secret_key: str | None = None
    stripe_webhook_secret: str | None = Field(default=None, description=(
        "the webhook endpoint's signing secret (whsec_…); several, comma-separated, while one is rotated"))
    stripe_api_base: str | None = Field(default=None, description="unset: Stripe itself; the demo points it at devstripe")
    credit_packs: str = Field(default="starter:1000:1900,team:5000:8500,scale:20000:30000", description=(
        "what admins can buy: id:credits:price,… with the price in the currency's smallest unit (cents)"))
    billing_currency: str = Field(default="usd", pattern=r"^[a-z]{3}$", description="ISO 4217, lower case")

    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None
    oidc_display_name: str = "single sign-on"

    @field_validator("database_url")
    @classmethod
    def _postgres_scheme(cls, value: str) -> str:
        if urlsplit(value).scheme not in {"postgres", "postgresql"}:
            raise ValueError("must start with postgresql://")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str) -> str:
        if urlsplit(value).scheme not in {"redis", "rediss", "unix"}:
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @field_validator("credit_packs")
    @classmethod
    def _packs_parse(cls, value: str) -> str:
        parse_packs(value)
        return value

    @property
    def packs(self) -> tuple[CreditPack, ...]:
        return parse_packs(self.credit_packs)

    @property
    def webhook_secrets(self) -> list[str]:
        return [s.strip() for s in (self.stripe_webhook_secret or "").split(",") if s.strip()]

    @property
    def public_url(self) -> str:
        return str(self.base_url).rstrip("/")

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.scheme == "https"

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_issuer and self.oidc_client_id)


class SettingsError(SystemExit):
    """Raised at start-up; its message is the one line a person needs to fix the environment."""


def describe_error(error: ValidationError) -> str:
    first = error.errors()[0]
    name = str(first["loc"][0]).upper() if first["loc"] else "settings"
    if first["type"] == "missing":
        return f"configuration error: {name} is not set"
    return f"configuration error: {name} is invalid: {first['msg']}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    try:
        return Settings()  # type: ignore[call-arg]
    except ValidationError as error:
        raise SettingsError(describe_error(error)) from None


def load_settings_or_exit() -> Settings:
    """For entry points: print the one line and exit 2 instead of a traceback."""
    try:
        return get_settings()
    except SettingsError as error:
        print(error.code, file=sys.stderr)
        raise SystemExit(2) from None
