"""API shapes of retention: the policy (with what the next pass would archive under it), restore requests,
alerts and what archiving a run answers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from agentledger.platform.schemas import PartialInput

Days = Annotated[int, msgspec.Meta(ge=1, le=3650, description="days, from 1 to 3650 (10 years)")]


class PolicyIn(PartialInput):
    """Any subset: what is left out keeps its value."""

    completed_days: Days | msgspec.UnsetType = msgspec.UNSET
    failed_days: Days | msgspec.UnsetType = msgspec.UNSET
    files_days: Days | msgspec.UnsetType = msgspec.UNSET
    downloads_days: Days | msgspec.UnsetType = msgspec.UNSET
    restore_grace_days: Days | msgspec.UnsetType = msgspec.UNSET
    auto_approve: bool | msgspec.UnsetType = msgspec.UNSET


class AlertOut(msgspec.Struct):
    id: UUID
    kind: Literal["checksum_mismatch", "storage_unavailable", "restore_failed"]
    message: str
    runs: int
    created_at: datetime


class PolicyOut(msgspec.Struct):
    completed_days: int  # completed and partial runs
    failed_days: int  # failed, canceled and timed-out runs
    files_days: int  # files agents made
    downloads_days: int  # generated downloads
    restore_grace_days: int  # a restored run is not archived again before
    auto_approve: bool  # members' restore requests start without an admin
    due: int  # runs the next pass archives under these values
    summary: list[str]  # the policy in plain words
    alerts: list[AlertOut]  # what a pass or a restore could not do (admins)


class RestoreOut(msgspec.Struct):
    id: UUID
    execution: UUID
    agent: str | None
    status: Literal["pending", "approved", "rejected", "done", "failed"]
    error: str | None  # why it failed, for the requester
    requested_by: UUID | None
    requested_by_name: str | None
    decided_by_name: str | None
    created_at: datetime
    decided_at: datetime | None
    finished_at: datetime | None


class TombstoneOut(msgspec.Struct):
    """An archived run's tombstone: what stays hot, and where the rest is."""

    id: UUID
    agent: str
    status: str
    archived_at: datetime
    key: str
    size: int
    sha256: str
