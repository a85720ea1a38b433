"""The audit trail: who did what to which target, written in the same transaction as the change."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from agentledger.platform.tables import AuditEvent


async def record(action: str, *, workspace_id: UUID | None, actor_id: UUID | None, target: str = "",
                 **details: Any) -> None:
    await AuditEvent.insert(
        AuditEvent(workspace=workspace_id, actor=actor_id, action=action, target=target, details=details)
    ).run()
