"""API shapes for results, connectors and the apply/review actions. A result is one flat object: its
``id`` and ``kind``, then the fields of that kind (fields of other kinds are left out)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

import msgspec
from msgspec import UNSET, UnsetType

from agentledger.platform.schemas import Input

Kind = Literal["recommendation", "report", "score", "content", "action_item", "extracted", "artifact"]
Priority = Literal["high", "medium", "low"]
Decision = Literal["approve", "reject"]


class RevisionOut(msgspec.Struct):
    version: int
    text: str
    edited_by: UUID | None
    created_at: datetime


class ResultOut(msgspec.Struct):
    """Fields of other kinds are absent (UNSET); a field of this kind with no value is null."""

    id: UUID
    kind: Kind
    execution: UUID
    created_at: datetime
    step: int | None | UnsetType = UNSET
    # recommendation / content
    target: str | None | UnsetType = UNSET
    field: str | None | UnsetType = UNSET
    before: Any | UnsetType = UNSET
    after: Any | UnsetType = UNSET
    reason: str | None | UnsetType = UNSET
    check: str | None | UnsetType = UNSET
    priority: Priority | None | UnsetType = UNSET
    status: str | None | UnsetType = UNSET
    decided_by: UUID | None | UnsetType = UNSET
    decided_at: datetime | None | UnsetType = UNSET
    applied_by: UUID | None | UnsetType = UNSET
    applied_at: datetime | None | UnsetType = UNSET
    apply_error: str | None | UnsetType = UNSET
    text: str | None | UnsetType = UNSET
    version: int | None | UnsetType = UNSET
    revisions: list[RevisionOut] | None | UnsetType = UNSET
    # report / score / action item / extracted / artifact
    title: str | None | UnsetType = UNSET
    summary: str | None | UnsetType = UNSET
    sections: list[dict[str, Any]] | None | UnsetType = UNSET
    name: str | None | UnsetType = UNSET
    value: float | None | UnsetType = UNSET
    scale: int | None | UnsetType = UNSET
    explanation: str | None | UnsetType = UNSET
    unit: str | None | UnsetType = UNSET  # a score: "%" when the value is a percentage (1.63 means 1.63%)
    detail: str | None | UnsetType = UNSET
    done: bool | None | UnsetType = UNSET
    data: Any | UnsetType = UNSET
    description: str | None | UnsetType = UNSET
    content_type: str | None | UnsetType = UNSET
    size: int | None | UnsetType = UNSET
    download_url: str | None | UnsetType = UNSET


class ResultIdsIn(Input):
    result_ids: list[UUID]


class ResultPatchIn(Input):
    text: str | None = None
    done: bool | None = None


class OutcomeOut(msgspec.Struct, omit_defaults=True):
    id: UUID
    outcome: Literal["applied", "already_applied", "apply_failed", "skipped", "not_found"]
    reason: str | None = None


class ApplyOut(msgspec.Struct):
    results: list[OutcomeOut]
    applied: int
    failed: int


class ReviewIn(Input):
    decision: Decision
    comment: str | None = None


class ConnectorIn(Input):
    name: str
    base_url: str
    secret: str


class ConnectorOut(msgspec.Struct):
    id: UUID
    name: str
    kind: str
    base_url: str
    secret_hint: str
    created_at: datetime
