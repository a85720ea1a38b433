"""API shapes for the wallet and the ledger."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec


class WalletOut(msgspec.Struct):
    available: int
    held: int


class TransferOut(msgspec.Struct):
    """One movement: ``amount`` credits from account ``debit`` to ``credit``. A run's movements name its
    agent and who started it; a grant's memo is the reason it was given."""

    id: UUID
    key: str
    debit: str
    credit: str
    amount: int
    execution: UUID | None
    memo: str
    created_at: datetime
    agent: str | None = None
    started_by: UUID | None = None  # the member who started the run (a user id)
    started_by_name: str | None = None
