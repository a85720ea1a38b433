"""API shapes of notifications: a person's preferences, and the Emails page's list and message."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec

from agentledger.platform.schemas import PartialInput

Minutes = Annotated[int, msgspec.Meta(ge=1, le=1440, description="minutes a run must run before its end is mailed")]
Credits = Annotated[int, msgspec.Meta(ge=1, le=1_000_000_000, description="mail when one run charges more than this")]
Zone = Annotated[str, msgspec.Meta(max_length=64, pattern=r"^[A-Za-z][A-Za-z0-9_+\-/]*$",
                                   description="IANA time zone name, e.g. Europe/Paris")]


class PreferencesIn(PartialInput):
    """Any subset: what is left out keeps its value."""

    run_finished: bool | msgspec.UnsetType = msgspec.UNSET
    run_finished_minutes: Minutes | msgspec.UnsetType = msgspec.UNSET
    run_failed: bool | msgspec.UnsetType = msgspec.UNSET
    credit_threshold: bool | msgspec.UnsetType = msgspec.UNSET
    credit_threshold_credits: Credits | None | msgspec.UnsetType = msgspec.UNSET
    low_balance: bool | msgspec.UnsetType = msgspec.UNSET
    purchase_receipt: bool | msgspec.UnsetType = msgspec.UNSET
    restore_requested: bool | msgspec.UnsetType = msgspec.UNSET
    weekly_digest: bool | msgspec.UnsetType = msgspec.UNSET
    review_requested: bool | msgspec.UnsetType = msgspec.UNSET
    run_shared: bool | msgspec.UnsetType = msgspec.UNSET
    invitation: bool | msgspec.UnsetType = msgspec.UNSET
    timezone: Zone | None | msgspec.UnsetType = msgspec.UNSET


class PreferencesOut(msgspec.Struct):
    run_finished: bool
    run_finished_minutes: int
    run_failed: bool
    credit_threshold: bool
    credit_threshold_credits: int | None
    low_balance: bool
    purchase_receipt: bool
    restore_requested: bool
    weekly_digest: bool
    review_requested: bool
    run_shared: bool
    invitation: bool
    timezone: str | None
    effective_timezone: str  # the digest's: the person's own, else their first workspace's


class EmailOut(msgspec.Struct):
    id: UUID
    to: str
    category: str
    event: str
    subject: str
    status: str  # pending | sent | failed
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    failed_at: datetime | None
    next_attempt_at: datetime | None


class EmailDetailOut(EmailOut):
    message_id: str
    headers: dict[str, str]
    text: str
    html: str
