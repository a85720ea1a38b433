"""API shapes for the wallet and the ledger."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec


class WalletOut(msgspec.Struct):
    available: int
    held: int


class TransferOut(msgspec.Struct):
    id: UUID
    key: str
    debit: str
    credit: str
    amount: int
    execution: UUID | None
    memo: str
    created_at: datetime
