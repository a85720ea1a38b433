"""Do the books agree with the wallets? The wallet row is what runs reserve from; the ledger is the record
of every movement. For each workspace the ledger's balances of ``available`` and ``held`` must equal the
wallet's, the ``owed`` account must stand at minus the wallet's debt, and all accounts must sum to zero.
The Credits page shows it; ``agentledger reconcile`` checks every workspace and exits non-zero if one is off."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from agentledger.billing import ledger


@dataclass(frozen=True, slots=True)
class Reconciliation:
    workspace_id: UUID
    wallet: ledger.Balance
    books: ledger.Balance  # the same three figures, as the ledger sums them
    total: int  # every account summed: zero in double entry

    @property
    def balanced(self) -> bool:
        return self.wallet == self.books and self.total == 0

    def differences(self) -> list[str]:
        found = [f"{name}: wallet {getattr(self.wallet, name)}, ledger {getattr(self.books, name)}"
                 for name in ("available", "held", "owed") if getattr(self.wallet, name) != getattr(self.books, name)]
        return found + ([f"the ledger sums to {self.total}, not 0"] if self.total else [])


def _check(workspace_id: UUID, wallet: ledger.Balance | None, accounts: dict[str, int]) -> Reconciliation:
    books = ledger.Balance(accounts.get("available", 0), accounts.get("held", 0), -accounts.get("owed", 0))
    return Reconciliation(workspace_id, wallet or ledger.Balance(0, 0), books, sum(accounts.values()))


async def workspace(workspace_id: UUID) -> Reconciliation:
    wallets, accounts = await ledger.wallets(workspace_id), await ledger.account_balances(workspace_id)
    return _check(workspace_id, wallets.get(workspace_id), accounts.get(workspace_id, {}))


async def every_workspace() -> list[Reconciliation]:
    wallets, accounts = await ledger.wallets(), await ledger.account_balances()
    return [_check(w, wallets.get(w), accounts.get(w, {})) for w in sorted(set(wallets) | set(accounts), key=str)]
