"""API shapes for people and workspaces (msgspec Structs; Litestar validates and documents them)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, Literal, TypeVar
from uuid import UUID

import msgspec

from agentledger.platform.tokens import TokenInfo

T = TypeVar("T")
Role = Literal["member", "admin"]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=120)]
Email = Annotated[str, msgspec.Meta(min_length=3, max_length=254)]


class Input(msgspec.Struct, forbid_unknown_fields=True):
    """Base for request bodies: unknown fields are an error, not silently dropped."""


class PartialInput(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Base for partial updates (every field ``… | msgspec.UnsetType = msgspec.UNSET``): what is left
    out keeps its value."""

    def changes(self) -> dict[str, Any]:
        """The fields the caller sent, by name."""
        return {f: getattr(self, f) for f in self.__struct_fields__ if getattr(self, f) is not msgspec.UNSET}


class WorkspaceOut(msgspec.Struct):
    id: UUID
    slug: str
    name: str
    role: Role


class UserOut(msgspec.Struct):
    id: UUID
    email: str
    name: str


class MeOut(msgspec.Struct):
    user: UserOut
    workspaces: list[WorkspaceOut]
    auth: Literal["session", "token"]


class WorkspaceSettingsIn(Input):
    timezone: Annotated[str, msgspec.Meta(max_length=64, pattern=r"^[A-Za-z][A-Za-z0-9_+\-/]*$", description=(
        "IANA time zone: members who chose none get their weekly digest at Monday 08:00 here"))]


class WorkspaceSettingsOut(msgspec.Struct):
    timezone: str


class WorkspaceIn(Input):
    slug: Annotated[str, msgspec.Meta(min_length=1, max_length=48)]
    name: Name


class MemberOut(msgspec.Struct):
    user_id: UUID
    email: str
    name: str
    role: Role
    joined_at: datetime


class RoleIn(Input):
    role: Role


class InvitationIn(Input):
    email: Email
    role: Role = "member"


class InvitationOut(msgspec.Struct):
    id: UUID
    email: str
    role: Role
    status: Literal["pending", "accepted", "revoked", "expired"]
    expires_at: datetime
    created_at: datetime
    accept_url: str | None = None  # only in the response that creates it


class TokenIn(Input):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=80)]


class TokenOut(TokenInfo, frozen=True):
    token: str | None = None  # the plain token, only in the response that creates it


class PageOut(msgspec.Struct, Generic[T]):
    """One page of a list, newest first; pass ``next_cursor`` back as ``?cursor=`` for the next (null: the end)."""

    items: list[T]
    next_cursor: str | None = None
